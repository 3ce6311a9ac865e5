#!/usr/bin/env bash
# check_pack.sh NIS2CTL — an evidence pack with a recorded session and a real RFC 3161 anchor
# (local openssl TSA from scripts/peers), verified by nis2ctl and then by standard tools only:
# sha256sum, openssl ts -verify, asciinema cat, qpdf, pdftotext. Then one tampered byte.
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
for tool in sha256sum openssl asciinema qpdf pdftotext unzip python3; do
  command -v "$tool" >/dev/null || { echo "check_pack: $tool is missing (scripts/apt-packages.txt)" >&2; exit 1; }
done
dir=$(mktemp -d /tmp/nis2-pack-check-XXXXXX)
tsa_pid=""
cleanup() { [ -n "$tsa_pid" ] && kill "$tsa_pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
store="$dir/store"
"$bin" init --store "$store" --origin check.msp.example/evidence >/dev/null
"$bin" tenant add --store "$store" --tenant acme --name "Société Générale d'Entretien" >/dev/null
printf '%s\n' '{"v":1,"kind":"grant.approved","tenant":"acme","time":"2025-03-01T10:00:00Z","actor":"oidc#bob","body":{"session":"s1","role":"admin","reason":"Wartung – Prüfung der Zugänge"}}' \
  | "$bin" log append --store "$store" --tenant acme >/dev/null
"$bin" record --store "$store" --tenant acme --session s1 --principal oidc#alice -- /bin/sh -c 'echo "Grüße – accès privilégié"' </dev/null >/dev/null
# A real RFC 3161 anchor from the test TSA.
"$root/scripts/peers/tsa-certs.sh" "$dir/tsa" >/dev/null
port=$((18400 + RANDOM % 50))
(cd "$dir/tsa" && exec python3 "$root/scripts/peers/tsa_http.py" "$port" tsa.cnf) >"$dir/tsa.log" 2>&1 &
tsa_pid=$!
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
"$bin" log checkpoint --store "$store" --tenant acme >/dev/null
"$bin" anchor --store "$store" --tenant acme --tsa "http://127.0.0.1:$port/tsa" --tsa-ca "$dir/tsa/tsa-ca.crt" >/dev/null
"$bin" pack export --store "$store" --tenant acme --session s1 -o "$dir/pack.zip" >/dev/null
"$bin" pack verify "$dir/pack.zip" --key "$store/keys/checkpoint.pub" --tsa-ca "$dir/tsa/tsa-ca.crt" >/dev/null
# Standard tools only.
mkdir "$dir/x" && (cd "$dir/x" && unzip -q ../pack.zip && sha256sum -c --quiet SHA256SUMS)
tokens=0
for t in "$dir"/x/time/*.tsr; do
  [ -e "$t" ] || continue
  note=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print([a["noteSHA256"] for a in m["time"]["rfc3161"] if a["token"]==sys.argv[2]][0])' "$dir/x/manifest.json" "time/$(basename "$t")")
  openssl ts -verify -token_in -in "$t" -digest "$note" -CAfile "$dir/tsa/tsa-ca.crt" >/dev/null 2>&1 \
    || { echo "check_pack: openssl ts -verify refused $t" >&2; exit 1; }
  tokens=$((tokens + 1))
done
[ "$tokens" -ge 1 ] || { echo "check_pack: the pack has no RFC 3161 token" >&2; exit 1; }
casts=0
for c in "$dir"/x/recordings/*.cast; do
  [ -e "$c" ] || continue
  # asciinema 2 reads /dev/tty even for 'cat': give it one with script(1).
  script -q -e -c "asciinema cat '$c'" /dev/null </dev/null | grep -q "Grüße" || { echo "check_pack: asciinema cat $c lacks the session output" >&2; exit 1; }
  casts=$((casts + 1))
done
[ "$casts" -ge 1 ] || { echo "check_pack: the pack has no recording" >&2; exit 1; }
qpdf --check "$dir/x/report.pdf" >/dev/null
text=$(pdftotext "$dir/x/report.pdf" -)
for needle in "Beweismittelpaket" "intégrité" "Société Générale" "RFC 3161"; do
  grep -q "$needle" <<<"$text" || { echo "check_pack: report.pdf text lacks '$needle'" >&2; exit 1; }
done
qpdf --show-attachment=manifest.json "$dir/x/report.pdf" | cmp -s - "$dir/x/manifest.json" \
  || { echo "check_pack: the PDF's attachment is not manifest.json" >&2; exit 1; }
# One changed byte inside the recording: pack verify exits 1 and names the entry.
python3 - "$dir/pack.zip" "$dir/bad.zip" <<'PY'
import sys, zipfile, shutil
src, dst = sys.argv[1], sys.argv[2]
shutil.copy(src, dst)
with zipfile.ZipFile(src) as z:
    info = next(i for i in z.infolist() if i.filename.startswith("recordings/"))
with open(dst, "r+b") as f:
    f.seek(info.header_offset + 26); n = int.from_bytes(f.read(2), "little"); e = int.from_bytes(f.read(2), "little")
    pos = info.header_offset + 30 + n + e + info.file_size // 2
    f.seek(pos); b = f.read(1); f.seek(pos); f.write(bytes([b[0] ^ 0x40]))
PY
set +e
out=$("$bin" pack verify "$dir/bad.zip" --key "$store/keys/checkpoint.pub" 2>&1); rc=$?
set -e
[ "$rc" = 1 ] && grep -q "FAILED at recordings/" <<<"$out" || { echo "check_pack: tampered recording not named (exit $rc): $out" >&2; exit 1; }
echo "check_pack: pack verified by nis2ctl, sha256sum, openssl ts ($tokens tokens), asciinema ($casts recordings), qpdf, pdftotext; tampering named"
