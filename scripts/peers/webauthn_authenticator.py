"""Software WebAuthn authenticator for the tests: real registration and assertion responses.

Usage:
  webauthn_authenticator.py register STATE --rp-id ID --origin URL --challenge B64URL
        [--alg es256|eddsa|rs256] [--fmt none|packed|packed-x5c] [--uv] [--no-up] [--type T]
  webauthn_authenticator.py assert STATE --rp-id ID --origin URL --challenge B64URL
        [--uv] [--no-up] [--counter N] [--type T]

STATE is a JSON file holding the key (PKCS#8 PEM), credential id, user handle and counter.
Output (stdout) is the WebAuthn JSON a browser posts, binary fields unpadded base64url.
The authenticator data follows WebAuthn Level 3 section 6.1; COSE keys RFC 9053.
"""
import argparse, base64, hashlib, json, os, sys, datetime
import cbor2
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, padding

b64e = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
b64d = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
sha256 = lambda b: hashlib.sha256(b).digest()
ALG = {"es256": -7, "eddsa": -8, "rs256": -257}


def new_key(alg):
    if alg == "es256": return ec.generate_private_key(ec.SECP256R1())
    if alg == "eddsa": return ed25519.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def cose(alg, key):
    pub = key.public_key()
    if alg == "es256":
        n = pub.public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: n.x.to_bytes(32, "big"), -3: n.y.to_bytes(32, "big")})
    if alg == "eddsa":
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return cbor2.dumps({1: 1, 3: -8, -1: 6, -2: raw})
    n = pub.public_numbers()
    return cbor2.dumps({1: 3, 3: -257, -1: n.n.to_bytes(256, "big"), -2: n.e.to_bytes(3, "big")})


def sign(alg, key, msg):
    if alg == "es256": return key.sign(msg, ec.ECDSA(hashes.SHA256()))
    if alg == "eddsa": return key.sign(msg)
    return key.sign(msg, padding.PKCS1v15(), hashes.SHA256())


def flags(a, at=False):
    f = 0 if a.no_up else 0x01
    if a.uv: f |= 0x04
    if at: f |= 0x40
    return bytes([f])


def client_data(a, kind):
    return json.dumps({"type": a.type or kind, "challenge": a.challenge, "origin": a.origin, "crossOrigin": False}).encode()


def attestation_cert():
    """A fresh attestation key and a self-signed certificate shaped as WebAuthn 8.2.1 asks."""
    k = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Authenticators"),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Authenticator Attestation"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Software Authenticator")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(k.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True).sign(k, hashes.SHA256()))
    return k, cert.public_bytes(serialization.Encoding.DER)


def register(a):
    key = new_key(a.alg); cid = os.urandom(32); uh = os.urandom(16)
    cdj = client_data(a, "webauthn.create")
    auth = sha256(a.rp_id.encode()) + flags(a, at=True) + (0).to_bytes(4, "big") + bytes(16) + len(cid).to_bytes(2, "big") + cid + cose(a.alg, key)
    if a.fmt == "none":
        att = {"fmt": "none", "attStmt": {}, "authData": auth}
    elif a.fmt == "packed":
        att = {"fmt": "packed", "attStmt": {"alg": ALG[a.alg], "sig": sign(a.alg, key, auth + sha256(cdj))}, "authData": auth}
    else:
        ak, der = attestation_cert()
        att = {"fmt": "packed", "attStmt": {"alg": -7, "sig": ak.sign(auth + sha256(cdj), ec.ECDSA(hashes.SHA256())), "x5c": [der]}, "authData": auth}
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    json.dump({"alg": a.alg, "key": pem, "cid": b64e(cid), "uh": b64e(uh), "count": 0}, open(a.state, "w"))
    return {"id": b64e(cid), "rawId": b64e(cid), "type": "public-key",
            "response": {"clientDataJSON": b64e(cdj), "attestationObject": b64e(cbor2.dumps(att))}}


def assertion(a):
    st = json.load(open(a.state)); key = serialization.load_pem_private_key(st["key"].encode(), None)
    count = a.counter if a.counter is not None else st["count"] + 1
    cdj = client_data(a, "webauthn.get")
    auth = sha256(a.rp_id.encode()) + flags(a) + count.to_bytes(4, "big")
    sig = sign(st["alg"], key, auth + sha256(cdj))
    st["count"] = max(st["count"], count); json.dump(st, open(a.state, "w"))
    return {"id": st["cid"], "rawId": st["cid"], "type": "public-key",
            "response": {"authenticatorData": b64e(auth), "clientDataJSON": b64e(cdj), "signature": b64e(sig), "userHandle": st["uh"]}}


p = argparse.ArgumentParser()
p.add_argument("command", choices=["register", "assert"]); p.add_argument("state")
p.add_argument("--rp-id", required=True); p.add_argument("--origin", required=True); p.add_argument("--challenge", required=True)
p.add_argument("--alg", choices=list(ALG), default="es256"); p.add_argument("--fmt", choices=["none", "packed", "packed-x5c"], default="none")
p.add_argument("--uv", action="store_true"); p.add_argument("--no-up", action="store_true")
p.add_argument("--counter", type=int); p.add_argument("--type")
args = p.parse_args()
json.dump(register(args) if args.command == "register" else assertion(args), sys.stdout)
