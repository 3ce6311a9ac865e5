#!/usr/bin/env bash
# demo.sh NIS2CTL [DIR] — the evidence log end to end on embedded defaults (no servers):
# create a store, register a tenant, append records, sign a checkpoint, prove one record,
# verify the whole log, tamper with one byte, and watch verification name the place.
set -euo pipefail
bin=${1:-.build/release/nis2ctl}
dir=${2:-$(mktemp -d /tmp/nis2-demo-XXXXXX)}
store="$dir/store"
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
say "1. Create an evidence store with its checkpoint key"
"$bin" init --store "$store" --origin demo.msp.example/evidence
"$bin" tenant add --store "$store" --tenant acme-gmbh --name "ACME GmbH"
say "2. Append evidence records (privileged session events) with group commit"
for i in $(seq 1 500); do
  printf '{"kind":"session.action","tenant":"acme-gmbh","actor":"oidc#alice","action":"command","command":"systemctl restart nginx","seq":%d}\n' "$i"
done | "$bin" log append --store "$store" --tenant acme-gmbh
say "3. The signed checkpoint (C2SP tlog-checkpoint in a signed note)"
"$bin" log checkpoint --store "$store" --tenant acme-gmbh
say "4. An inclusion proof for record 123, checked without the store"
"$bin" log prove --store "$store" --tenant acme-gmbh --index 123 > "$dir/proof-123.json"
cp "$store/keys/checkpoint.pub" "$dir/auditor-trusted.pub"
"$bin" log prove --verify "$dir/proof-123.json" --key "$dir/auditor-trusted.pub"
say "5. Verify every record and checkpoint"
"$bin" log verify --store "$store"
say "6. Tamper: flip one byte of record 200 in the segment file"
seg=$(ls "$store"/tenants/acme-gmbh/log/seg-*.log | head -1)
off=$(python3 - "$seg" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read(); pos = 16
for i in range(200):
    (n,) = struct.unpack(">I", b[pos:pos + 4]); pos += 4 + n + 8
print(pos + 4 + 10)
PY
)
chmod u+w "$seg"
printf 'X' | dd of="$seg" bs=1 seek="$off" conv=notrunc status=none
set +e
"$bin" log verify --store "$store"; rc=$?
set -e
say "verify exit status after tampering: $rc (1 = verification failed)"
[ "$rc" = 1 ] || { echo "demo: tampering was NOT detected" >&2; exit 1; }
say "Outputs: store $store, proof $dir/proof-123.json, trusted key $dir/auditor-trusted.pub"
