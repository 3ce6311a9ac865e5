#!/usr/bin/env bash
# demo.sh NIS2CTL [DIR] — the pilot flow end to end on embedded defaults (no servers, no
# network): `nis2ctl demo` builds a store, a tenant, a JIT grant, a recorded session, signed
# checkpoints, a simulated significant incident with its 24 h / 72 h drafts, an evidence
# pack verified offline and a file-drop submission. Then the log is checked with the CLI,
# one byte of it is flipped, and verification must name the place.
set -euo pipefail
bin=${1:-.build/release/nis2ctl}
dir=${2:-$(mktemp -d /tmp/nis2-demo-XXXXXX)}
store="$dir/store"
tenant=acme-gmbh
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

"$bin" demo --dir "$dir"

say "Verify every record and checkpoint of the demo store with the CLI"
"$bin" log verify --store "$store"

say "Tamper: flip one byte of the incident's first record in the log segment"
seg=$(ls "$store"/tenants/$tenant/log/seg-*.log | head -1)
off=$(python3 - "$seg" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read(); pos = 16
while pos + 4 <= len(b):
    (n,) = struct.unpack(">I", b[pos:pos + 4])
    if b'"kind":"incident.opened"' in b[pos + 4:pos + 4 + n]:
        print(pos + 4 + 10); break
    pos += 4 + n + 8
else:
    sys.exit("no incident.opened record found")
PY
)
chmod u+w "$seg"
printf 'X' | dd of="$seg" bs=1 seek="$off" conv=notrunc status=none
set +e
"$bin" log verify --store "$store"; rc=$?
set -e
say "verify exit status after tampering: $rc (1 = verification failed)"
[ "$rc" = 1 ] || { echo "demo: tampering was NOT detected" >&2; exit 1; }
say "The evidence pack exported before the tampering still verifies on its own: $dir/evidence-pack.zip"
