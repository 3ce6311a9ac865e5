#!/usr/bin/env bash
# check_identity.sh NIS2CTL — 'nis2ctl verify id-token' as an integrator uses it: a valid ES256
# token is accepted with the principal as JSON; an expired token, a wrong audience, a wrong
# nonce, a tampered signature and alg "none" are refused with exit 1 and the reason; usage
# errors exit 2. Tokens and the JWKS are minted with the .venv's `cryptography`.
set -uo pipefail
bin=${1:?usage: check_identity.sh NIS2CTL}
root=$(cd "$(dirname "$0")/../.." && pwd)
py=$root/.venv/bin/python
[ -x "$py" ] || { echo "FAIL no $py; run scripts/install-deps.sh --peers"; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0
ok()  { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }
expect() {  # expect STATUS DESCRIPTION -- command...
  local want=$1 what=$2; shift 3
  "$@" > "$work/out" 2> "$work/err"; local got=$?
  if [ "$got" = "$want" ]; then ok "$what (exit $got)"; else bad "$what: exit $got, wanted $want: $(cat "$work/err")"; fi
}
reason() { grep -q "$1" "$work/err" && ok "the reason names $1" || bad "reason lacks '$1': $(cat "$work/err")"; }

ISS=https://idp.check.test NOW=2026-03-01T10:00:00Z
"$py" - "$work" "$ISS" <<'PY' || { echo "FAIL minting tokens"; exit 1; }
import base64, json, sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
d, iss = sys.argv[1:3]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
key = ec.generate_private_key(ec.SECP256R1()); n = key.public_key().public_numbers()
json.dump({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig", "alg": "ES256",
                     "x": b64(n.x.to_bytes(32, "big")), "y": b64(n.y.to_bytes(32, "big"))}]}, open(f"{d}/jwks.json", "w"))
now = 1772359200   # 2026-03-01T10:00:00Z
def mint(name, alg="ES256", **over):
    claims = {"iss": iss, "sub": "alice", "aud": "msp-client", "iat": now - 30, "exp": now + 300, "nonce": "n-1",
              "amr": ["pwd", "hwk"], "email": "alice@msp.example"}
    claims.update(over)
    head = b64(json.dumps({"alg": alg, "kid": "k1", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
    r, s = utils.decode_dss_signature(key.sign(head.encode(), ec.ECDSA(hashes.SHA256())))
    sig = "" if alg == "none" else b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    open(f"{d}/{name}.jwt", "w").write(head + "." + sig + "\n")
mint("valid"); mint("expired", exp=now - 120, iat=now - 600); mint("audience", aud="other-client"); mint("none", alg="none")
t = open(f"{d}/valid.jwt").read().strip(); h, p, s = t.split(".")
sig = bytearray(base64.urlsafe_b64decode(s + "==")); sig[-1] ^= 1
open(f"{d}/tampered.jwt", "w").write(f"{h}.{p}.{b64(bytes(sig))}\n")
PY
V=(--issuer "$ISS" --client-id msp-client --jwks "$work/jwks.json" --now "$NOW")

expect 0 "a valid ES256 token is accepted" -- "$bin" verify id-token "$work/valid.jwt" "${V[@]}" --nonce n-1 --tenant acme
"$py" -c 'import json,sys; p=json.load(open(sys.argv[1])); assert p["subject"]=="alice" and p["tenant"]=="acme" and p["issuer"]=="https://idp.check.test", p' "$work/out" \
  && ok "the principal JSON names subject, issuer and tenant" || bad "principal JSON: $(cat "$work/out")"
expect 1 "an expired token is refused" -- "$bin" verify id-token "$work/expired.jwt" "${V[@]}"; reason expired
expect 1 "a token for another client is refused" -- "$bin" verify id-token "$work/audience.jwt" "${V[@]}"; reason audienceMismatch
expect 1 "a tampered signature is refused" -- "$bin" verify id-token "$work/tampered.jwt" "${V[@]}"; reason badSignature
expect 1 "alg none is refused" -- "$bin" verify id-token "$work/none.jwt" "${V[@]}"; reason algorithmRefused
expect 1 "a wrong nonce is refused" -- "$bin" verify id-token "$work/valid.jwt" "${V[@]}" --nonce n-2; reason nonceMismatch
expect 1 "another issuer is refused" -- "$bin" verify id-token "$work/valid.jwt" --issuer https://other.test --client-id msp-client --jwks "$work/jwks.json" --now "$NOW"; reason issuerMismatch
expect 2 "neither --jwks nor --discover is a usage error" -- "$bin" verify id-token "$work/valid.jwt" --issuer "$ISS" --client-id msp-client
expect 2 "a bad --now is a usage error" -- "$bin" verify id-token "$work/valid.jwt" "${V[@]/$NOW/yesterday}"

[ "$fails" = 0 ] && echo "check_identity: all passed" || echo "check_identity: $fails failed"
exit $((fails > 0))
