#!/usr/bin/env bash
# cli_errors.sh NIS2CTL — bad input gets a clear error and loses nothing:
# a folder that is not a store, an unknown tenant, malformed stdin lines, a full disk
# (a 2 MiB tmpfs: real ENOSPC) and a size-limited file (ulimit -f: EFBIG).
set -uo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(mktemp -d /tmp/evidence-cli-XXXXXX)
fails=0
cleanup() { mountpoint -q "$work/tmpfs" && umount "$work/tmpfs"; chmod -R u+w "$work"; rm -rf "$work"; }
trap cleanup EXIT
check() { # check NAME EXPECTED_RC ACTUAL_RC OUTPUT PATTERN
  if [ "$3" != "$2" ] || ! grep -qiE "$5" <<<"$4"; then
    echo "FAIL $1: exit $3 (want $2), output: $4"; fails=$((fails + 1))
  else echo "ok   $1"; fi
}
records() { "$bin" log verify --store "$1" --tenant acme --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tenants"][0]["records"])'; }

# A folder that is not ours is never written to.
mkdir -p "$work/other"; echo "precious" > "$work/other/notes.txt"
out=$("$bin" init --store "$work/other" 2>&1); check "init refuses a non-empty foreign folder" 2 $? "$out" "not empty and not an evidence store"
out=$("$bin" log verify --store "$work/other" 2>&1); check "verify refuses a foreign folder" 2 $? "$out" "not an evidence store"
out=$("$bin" log append --store "$work/other" --tenant acme </dev/null 2>&1); check "append refuses a foreign folder" 2 $? "$out" "not an evidence store"
[ "$(cat "$work/other/notes.txt")" = precious ] && [ "$(ls "$work/other")" = notes.txt ] && echo "ok   foreign folder untouched" || { echo "FAIL foreign folder was changed"; fails=$((fails + 1)); }

# Unknown tenant and bad tenant ids.
"$bin" init --store "$work/s" >/dev/null && "$bin" tenant add --store "$work/s" --tenant acme >/dev/null
out=$(echo '{"a":1}' | "$bin" log append --store "$work/s" --tenant acne 2>&1); check "unknown tenant is named, known ones listed" 2 $? "$out" "unknown tenant 'acne'.*known: acme"
out=$("$bin" log cat --store "$work/s" --tenant ../acme 2>&1); check "path-like tenant id refused" 2 $? "$out" "may only hold"
out=$("$bin" log append --store "$work/s" --tenant acme --bogus 2>&1 </dev/null); check "unknown option is a usage error" 2 $? "$out" "unknown option --bogus"

# Recording: a relative store path, a buffer too small for two chunks, a second writer.
"$bin" init --store "$work/rs" >/dev/null && "$bin" tenant add --store "$work/rs" --tenant acme >/dev/null
out=$(cd "$work" && "$bin" record --store rs --tenant acme --session rel -- /bin/sh -c 'head -c 300000 /dev/zero | tr "\0" x' </dev/null 2>&1 >/dev/null); check "record into a relative store path" 0 $? "$out" "recorded: 1 chunks, [0-9]+ bytes"
out=$("$bin" recording export --store "$work/rs" --tenant acme --session rel -o "$work/rel.cast" 2>&1); check "its export holds every byte" 0 $? "$out" " 300000 output bytes"
[ ! -e "/rs/tenants/acme" ] && echo "ok   nothing written under /rs" || { echo "FAIL the relative store was written under /"; fails=$((fails + 1)); }
out=$("$bin" record --store "$work/rs" --tenant acme --buffer-bytes 1000 -- true </dev/null 2>&1); check "record --buffer-bytes below two chunks refused" 2 $? "$out" "buffer-bytes must hold two chunks"
"$bin" record --store "$work/rs" --tenant acme --session long -- sleep 3 </dev/null >/dev/null 2>&1 & long=$!
sleep 1
out=$("$bin" record --store "$work/rs" --tenant acme --session second -- true </dev/null 2>&1); check "a second recorder of the same tenant is refused, not interleaved" 3 $? "$out" "another process is writing the log"
wait $long; check "the first session is unharmed" 0 $? "x" "x"

# Malformed stdin: earlier lines stay, the error names the line.
out=$(printf '{"n":1}\n{"n":2}\n{"n": }\n{"n":4}\n' | "$bin" log append --store "$work/s" --tenant acme --ack 2>&1); check "malformed line 3 named" 2 $? "$out" "stdin line 3: invalid JSON"
grep -q "durable 1" <<<"$out" && echo "ok   lines 1-2 acknowledged before the error" || { echo "FAIL no ack for lines 1-2: $out"; fails=$((fails + 1)); }
[ "$(records "$work/s")" = 2 ] && echo "ok   exactly 2 records stored" || { echo "FAIL records: $(records "$work/s")"; fails=$((fails + 1)); }
out=$(printf '{"n":1}\n\n' | "$bin" log append --store "$work/s" --tenant acme 2>&1); check "empty line refused" 2 $? "$out" "stdin line 2"
out=$(printf '[1,2]\n\x80\x81\n' | "$bin" log append --store "$work/s" --tenant acme 2>&1); check "invalid UTF-8 refused" 2 $? "$out" "stdin line 2"
out=$("$bin" log verify --store "$work/s" 2>&1); check "log verifies after bad input" 0 $? "$out" "OK"

# A full disk: 2 MiB tmpfs. The write fails with ENOSPC; nothing acknowledged is lost.
mkdir -p "$work/tmpfs"
if ! mount -t tmpfs -o size=2m tmpfs "$work/tmpfs"; then
  echo "FAIL cannot mount a tmpfs to simulate a full disk (needs root)"; fails=$((fails + 1))
else
  "$bin" init --store "$work/tmpfs/s" >/dev/null && "$bin" tenant add --store "$work/tmpfs/s" --tenant acme >/dev/null
  out=$(python3 -c '
import sys
for i in range(40000): sys.stdout.write("{\"i\":%d,\"pad\":\"%s\"}\n" % (i, "x"*80))' 2>/dev/null | "$bin" log append --store "$work/tmpfs/s" --tenant acme --ack 2>&1)
  rc=$?
  check "disk full is a clear I/O error" 3 $rc "$(tail -1 <<<"$out")" "disk is full"
  acked=$(grep '^durable' <<<"$out" | tail -1 | cut -d' ' -f2)
  # Free space by unmounting? No: evidence stays. Verify and reopen on the full disk itself.
  out=$("$bin" log verify --store "$work/tmpfs/s" 2>&1); check "log verifies after ENOSPC" 0 $? "$out" "OK"
  have=$(records "$work/tmpfs/s")
  [ -n "$acked" ] && [ "$have" -ge $((acked + 1)) ] && echo "ok   all $((acked + 1)) acknowledged records present ($have)" || { echo "FAIL acked ${acked:-none}, have $have"; fails=$((fails + 1)); }
  "$bin" log cat --store "$work/tmpfs/s" --tenant acme --from "$acked" | head -1 | grep -q "\"i\":$acked," && echo "ok   last acknowledged record intact" || { echo "FAIL last acked record"; fails=$((fails + 1)); }
fi

# A size-limited file: ulimit -f makes write(2) fail with EFBIG.
"$bin" init --store "$work/u" >/dev/null && "$bin" tenant add --store "$work/u" --tenant acme >/dev/null
out=$(bash -c 'trap "" XFSZ; ulimit -f 512; python3 -c "
import sys
for i in range(20000): sys.stdout.write(\"{\\\"i\\\":%d,\\\"pad\\\":\\\"%s\\\"}\\n\" % (i, \"y\"*80))" 2>/dev/null | "'"$bin"'" log append --store "'"$work/u"'" --tenant acme --ack' 2>&1)
check "file size limit is a clear I/O error" 3 $? "$(tail -1 <<<"$out")" "too large|cannot write"
acked=$(grep '^durable' <<<"$out" | tail -1 | cut -d' ' -f2)
out=$("$bin" log verify --store "$work/u" 2>&1); check "log verifies after EFBIG" 0 $? "$out" "OK"
have=$(records "$work/u")
[ -n "$acked" ] && [ "$have" -ge $((acked + 1)) ] && echo "ok   all $((acked + 1)) acknowledged records present ($have)" || { echo "FAIL acked ${acked:-none}, have $have"; fails=$((fails + 1)); }
# After the limit is lifted, the log takes appends again.
out=$(echo '{"after":"limit"}' | "$bin" log append --store "$work/u" --tenant acme 2>&1); check "appends resume once space is back" 0 $? "$out" "appended 1 records"

# Rollback: a store restored to an earlier, self-consistent state verifies on its own, but
# not against a checkpoint an auditor kept from later.
"$bin" init --store "$work/r" >/dev/null && "$bin" tenant add --store "$work/r" --tenant acme >/dev/null
echo '{"n":1}' | "$bin" log append --store "$work/r" --tenant acme >/dev/null
cp -a "$work/r" "$work/r-earlier"
echo '{"n":2}' | "$bin" log append --store "$work/r" --tenant acme >/dev/null
"$bin" log checkpoint --store "$work/r" --tenant acme > "$work/auditor-checkpoint.txt"
out=$("$bin" log verify --store "$work/r" --tenant acme --checkpoint "$work/auditor-checkpoint.txt" 2>&1); check "log contains the auditor's checkpoint" 0 $? "$out" "contains the trusted checkpoint of size 2"
chmod -R u+w "$work/r"; rm -rf "$work/r"; mv "$work/r-earlier" "$work/r"
out=$("$bin" log verify --store "$work/r" --tenant acme 2>&1); check "a rolled-back store verifies on its own" 0 $? "$out" "OK"
out=$("$bin" log verify --store "$work/r" --tenant acme --checkpoint "$work/auditor-checkpoint.txt" 2>&1); check "rollback detected with the auditor's checkpoint" 1 $? "$out" "rolled back"

echo "cli_errors: $fails failure(s)"
exit $((fails > 0))
