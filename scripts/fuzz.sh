#!/usr/bin/env bash
# fuzz.sh [SECONDS_PER_TARGET] — builds the libFuzzer targets in Fuzz/ and runs each for a
# bounded time (default 60 s; env FUZZ_SECONDS also works). Crashes are kept in
# .build-fuzz/fuzz-work/<target>/crash-*; the corpus grows next to them. Exit 1 if any target crashed.
#
# Why not plain `-sanitize=fuzzer`: SwiftPM links executables with `--defsym main=<module>_main`,
# which clashes with the main inside libFuzzer's runtime. So we instrument with the same
# coverage libFuzzer expects (inline 8-bit counters, PC table, CMP tracing) plus ASan, link
# the runtime *without* its main, and each target calls LLVMFuzzerRunDriver itself.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-${FUZZ_SECONDS:-60}}
scratch=${FUZZ_SCRATCH:-$root/.build-fuzz}
work=${FUZZ_WORK:-$scratch/fuzz-work}   # inside the (ignored) build folder
rt=$(dirname "$(find "$(dirname "$(dirname "$(command -v swiftc)")")" -name 'libclang_rt.fuzzer_no_main-x86_64.a' -print -quit)")
[ -f "$rt/libclang_rt.fuzzer_no_main-x86_64.a" ] || { echo "fuzz.sh: libFuzzer runtime not found next to swiftc" >&2; exit 2; }

swift build --package-path "$root/Fuzz" --scratch-path "$scratch" -c release \
  -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp \
  -Xlinker "$rt/libclang_rt.fuzzer_no_main-x86_64.a" -Xlinker -lstdc++
bin=$(swift build --package-path "$root/Fuzz" --scratch-path "$scratch" -c release --show-bin-path)

seed() {  # a few valid inputs so the fuzzers start inside the formats
  local t=$1 d=$work/$1/corpus; mkdir -p "$d"
  case $t in
  fuzz-ntske-records)
    printf '\x80\x01\x00\x02\x00\x00\x80\x04\x00\x02\x00\x0f\x80\x00\x00\x00' > "$d/seed-request"
    printf '\x80\x01\x00\x02\x00\x00\x80\x04\x00\x02\x00\x0f\x80\x07\x00\x02\x2b\x73\x00\x05\x00\x04abcd\x80\x00\x00\x00' > "$d/seed-response" ;;
  fuzz-ntp-extension-fields)
    { printf '\x24\x0a\x00\xe9'; head -c 44 /dev/zero; printf '\x01\x04\x00\x24'; head -c 32 /dev/zero
      printf '\x04\x04\x00\x28\x00\x10\x00\x10'; head -c 32 /dev/zero; } > "$d/seed-reply" ;;
  fuzz-timestamp-response)
    if command -v openssl >/dev/null; then
      local tsa=$work/tsa; "$root/scripts/peers/tsa-certs.sh" "$tsa" >/dev/null
      ( cd "$tsa" && echo seed > data.txt && openssl ts -query -data data.txt -sha256 -cert -out q.tsq 2>/dev/null \
        && openssl ts -reply -config tsa.cnf -queryfile q.tsq -out "$d/seed-response.tsr" 2>/dev/null \
        && openssl ts -reply -in "$d/seed-response.tsr" -token_out -out "$d/seed-token.der" 2>/dev/null ) || true
    fi ;;
  fuzz-saml-response)
    printf '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r" Version="2.0"><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status><saml:Assertion ID="_a" Version="2.0"><saml:Issuer>http://127.0.0.1:18370/idp/metadata</saml:Issuer></saml:Assertion></samlp:Response>' > "$d/seed-minimal.xml"
    if [ -x "$root/.venv/bin/python" ] && command -v xmlsec1 >/dev/null; then   # a genuinely signed response
      local k=$work/saml-keys; "$root/.venv/bin/python" "$root/scripts/peers/saml_idp.py" keys "$k" \
        && "$root/.venv/bin/python" "$root/scripts/peers/saml_idp.py" response "$k" --sp-entity-id https://sp.example.test/saml/metadata \
             --acs-url https://sp.example.test/saml/acs --in-response-to _req-0001 --out "$d/seed-signed.xml" || true
    fi ;;
  fuzz-webauthn-cbor)   # {"fmt": "none", "attStmt": {}, "authData": 37 bytes + attested ES256 credential}
    printf '\xa3\x63fmt\x64none\x67attStmt\xa0\x68authData\x58\x94' > "$d/seed-attestation"
    { head -c 32 /dev/zero; printf '\x45\x00\x00\x00\x00'; head -c 16 /dev/zero; printf '\x00\x10'; head -c 16 /dev/zero
      printf '\xa5\x01\x02\x03\x26\x20\x01\x21\x58\x20'; head -c 32 /dev/zero; printf '\x22\x58\x20'; head -c 32 /dev/zero; } >> "$d/seed-attestation" ;;
  esac
}

failed=0
for t in fuzz-ntske-records fuzz-ntp-extension-fields fuzz-timestamp-response fuzz-saml-response fuzz-webauthn-cbor; do
  seed "$t"
  maxlen=4096; [ "$t" = fuzz-saml-response ] && maxlen=16384   # a signed SAML response is 5-10 KiB
  echo "== $t: ${secs}s"
  # SWIFT_BACKTRACE off: libFuzzer reports crashes itself; the backtracer can outlive the run.
  if ! (cd "$work/$t" && SWIFT_BACKTRACE=enable=no timeout -s KILL $((secs + 60)) "$bin/$t" \
          -max_total_time="$secs" -max_len="$maxlen" -rss_limit_mb=2048 -print_final_stats=1 corpus 2>&1 | tail -n 12); then
    failed=1
  fi
  if ls "$work/$t"/crash-* >/dev/null 2>&1; then echo "!! $t crashed: $(ls "$work/$t"/crash-*)"; failed=1; fi
done
exit $failed
