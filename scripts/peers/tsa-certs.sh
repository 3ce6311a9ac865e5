#!/usr/bin/env bash
# tsa-certs.sh DIR — a test TSA for `openssl ts -reply`: root CA, signer with the critical
# timeStamping EKU, tsa.cnf with ESSCertIDv2 (SHA-256). Idempotent. Serve it with
#   (cd DIR && python3 tsa_http.py PORT tsa.cnf)
set -euo pipefail
dir=${1:?usage: tsa-certs.sh DIR}
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
[ -s "$dir/tsa.crt" ] && exit 0
cd "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -keyout tsa-ca.key -out tsa-ca.crt \
  -subj "/CN=Test TSA Root" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tsa.key -out tsa.csr -subj "/CN=Test TSA" 2>/dev/null
printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
  "extendedKeyUsage=critical,timeStamping" "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" > tsa.ext
openssl x509 -req -in tsa.csr -CA tsa-ca.crt -CAkey tsa-ca.key -CAcreateserial -days 3650 -extfile tsa.ext -out tsa.crt 2>/dev/null
echo 01 > tsaserial
cat > tsa.cnf <<'CNF'
[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir               = .
serial            = $dir/tsaserial
crypto_device     = builtin
signer_cert       = $dir/tsa.crt
certs             = $dir/tsa-ca.crt
signer_key        = $dir/tsa.key
signer_digest     = sha256
default_policy    = 1.2.3.4.1
other_policies    = 1.2.3.4.5.6, 1.2.3.4.5.7
digests           = sha256, sha384, sha512
accuracy          = secs:1, millisecs:500, microsecs:100
clock_precision_digits = 0
ordering          = yes
tsa_name          = yes
ess_cert_id_chain = no
ess_cert_id_alg   = sha256
CNF
echo "TSA ready in $dir (trust anchor: $dir/tsa-ca.crt)"
