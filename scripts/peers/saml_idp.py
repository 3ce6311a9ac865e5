#!/usr/bin/env python3
"""A scripted SAML 2.0 IdP for the SAML tests: pysaml2 builds the Response, xmlsec1 signs it.

  saml_idp.py keys DIR
      Key pairs in DIR: idp (RSA 2048), idp2 (RSA 2048, the rollover key), idp-ec (P-256),
      other (RSA 2048, a key no metadata lists). Idempotent.

  saml_idp.py metadata DIR --entity-id URL --certs idp,idp2 --out FILE
      IdP metadata with one signing KeyDescriptor per listed certificate.

  saml_idp.py response DIR --key idp --sp-entity-id ID --acs-url URL --out FILE
      [--issuer URL] [--in-response-to ID] [--name-id TEXT] [--class-ref URI]
      [--sign both|response|assertion|none] [--alg rsa-sha256|ecdsa-sha256]
      [--lifetime-minutes N] [--base64] [--inclusive-prefixes "xs"]
      A signed HTTP-POST SAMLResponse (raw XML, or its base64 form with --base64).

  saml_idp.py batch FILE
      One `response ...` command line per line of FILE (arguments separated by tabs), all in
      this one process: the tests build their fixtures this way in about a second.

Run with the project's .venv python (pysaml2) and xmlsec1 on PATH.
"""
import argparse
import base64
import os
import re
import shutil
import subprocess
import sys
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", module="saml2")

XMLSEC = shutil.which("xmlsec1") or "/usr/bin/xmlsec1"
DEFAULT_IDP = "http://127.0.0.1:18370/idp/metadata"


def keys(d):
    os.makedirs(d, exist_ok=True)
    specs = {"idp": ["-newkey", "rsa:2048"], "idp2": ["-newkey", "rsa:2048"], "other": ["-newkey", "rsa:2048"],
             "idp-ec": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]}
    for name, newkey in specs.items():
        crt, key = os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")
        if os.path.exists(crt) and os.path.exists(key):
            continue
        subprocess.run(["openssl", "req", "-x509", *newkey, "-nodes", "-keyout", key, "-out", crt, "-days", "3650",
                        "-subj", "/CN=test-%s.local" % name], check=True, capture_output=True)


def cert_body(d, name):
    lines = open(os.path.join(d, name + ".crt")).read().strip().splitlines()
    return "".join(l for l in lines if not l.startswith("-----"))


def metadata(d, entity_id, certs, out):
    kds = "".join(
        '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>%s'
        "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>" % cert_body(d, c) for c in certs)
    xml = ('<?xml version="1.0"?>\n<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
           'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="%s">'
           '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">%s'
           '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
           'Location="http://127.0.0.1:18370/idp/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>\n') % (entity_id, kds)
    open(out, "w").write(xml)


def response(a):
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, xmldsig as ds
    from saml2.config import Config, IdPConfig
    from saml2.metadata import entity_descriptor
    from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_PERSISTENT, NameID
    from saml2.server import Server
    import saml2.entity

    # pysaml2's allow-list has only RSA; xmlsec1 itself signs ECDSA-SHA256 (raw r||s, XML-DSig 1.1).
    saml2.entity.SIG_ALLOWED_ALG = ds.SIG_ALLOWED_ALG + (("SIG_ECDSA_SHA256", ds.SIG_ECDSA_SHA256),)
    d = a.dir
    sign_alg = ds.SIG_ECDSA_SHA256 if a.alg == "ecdsa-sha256" else ds.SIG_RSA_SHA256
    key, crt = os.path.join(d, a.key + ".key"), os.path.join(d, a.key + ".crt")
    sp_md = str(entity_descriptor(Config().load({
        "entityid": a.sp_entity_id, "xmlsec_binary": XMLSEC,
        "service": {"sp": {"endpoints": {"assertion_consumer_service": [(a.acs_url, BINDING_HTTP_POST)]},
                           "want_assertions_signed": True}}})))
    idp_conf = IdPConfig().load({
        "entityid": a.issuer, "xmlsec_binary": XMLSEC, "key_file": key, "cert_file": crt,
        "service": {"idp": {
            "endpoints": {"single_sign_on_service": [("http://127.0.0.1:18370/idp/sso", BINDING_HTTP_REDIRECT)]},
            "name_id_format": [NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_EMAILADDRESS],
            "policy": {"default": {"lifetime": {"minutes": a.lifetime_minutes}, "attribute_restrictions": None,
                                   "name_form": "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"}}}},
        "metadata": {"inline": [sp_md]}, "signing_algorithm": sign_alg, "digest_algorithm": ds.DIGEST_SHA256})
    resp = Server(config=idp_conf).create_authn_response(
        identity={"mail": a.name_id, "givenName": "Alice"}, in_response_to=a.in_response_to,
        destination=a.acs_url, sp_entity_id=a.sp_entity_id,
        name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=a.name_id),
        authn={"class_ref": a.class_ref},
        sign_response=a.sign in ("both", "response"), sign_assertion=a.sign in ("both", "assertion"),
        sign_alg=sign_alg, digest_alg=ds.DIGEST_SHA256)
    text = str(resp)
    if a.inclusive_prefixes:
        text = sign_assertion_with_prefix_list(text, key, crt, a.inclusive_prefixes, d)
    if a.base64:
        text = base64.b64encode(text.encode()).decode()
    open(a.out, "w").write(text)


def sign_assertion_with_prefix_list(text, key, crt, prefixes, d):
    """Signs only the Assertion with xmlsec1 from a template whose exclusive C14N transform
    carries InclusiveNamespaces PrefixList. xmlns:xs moves to the Response, so the xs prefix
    (used only inside xsi:type values) is rendered in the signed form only if the verifier
    honours the PrefixList."""
    xs = ' xmlns:xs="http://www.w3.org/2001/XMLSchema"'
    text = text.replace(xs, "")
    text = re.sub(r"<ns0:Response ", "<ns0:Response" + xs + " ", text, count=1)
    assertion_id = re.search(r'<ns1:Assertion [^>]*ID="([^"]+)"', text).group(1)
    template = (
        '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>'
        '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
        '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
        '<ds:Reference URI="#%s"><ds:Transforms>'
        '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
        '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#">'
        '<ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="%s"/></ds:Transform>'
        '</ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/>'
        '</ds:Reference></ds:SignedInfo><ds:SignatureValue/></ds:Signature>') % (assertion_id, prefixes)
    issuer_end = text.index("</ns1:Issuer>", text.index("<ns1:Assertion ")) + len("</ns1:Issuer>")
    text = text[:issuer_end] + template + text[issuer_end:]
    src, out = os.path.join(d, "tmpl-%d.xml" % os.getpid()), os.path.join(d, "signed-%d.xml" % os.getpid())
    open(src, "w").write(text)
    subprocess.run([XMLSEC, "--sign", "--privkey-pem", key + "," + crt, "--id-attr:ID",
                    "urn:oasis:names:tc:SAML:2.0:assertion:Assertion", "--output", out, src], check=True, capture_output=True)
    signed = open(out).read()
    os.remove(src); os.remove(out)
    return signed


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("keys"); k.add_argument("dir")
    m = sub.add_parser("metadata"); m.add_argument("dir"); m.add_argument("--entity-id", default=DEFAULT_IDP)
    m.add_argument("--certs", default="idp"); m.add_argument("--out", required=True)
    r = sub.add_parser("response"); r.add_argument("dir")
    r.add_argument("--key", default="idp"); r.add_argument("--issuer", default=DEFAULT_IDP)
    r.add_argument("--sp-entity-id", required=True); r.add_argument("--acs-url", required=True)
    r.add_argument("--in-response-to"); r.add_argument("--name-id", default="alice@msp.example")
    r.add_argument("--class-ref", default="urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
    r.add_argument("--sign", choices=["both", "response", "assertion", "none"], default="both")
    r.add_argument("--alg", choices=["rsa-sha256", "ecdsa-sha256"], default="rsa-sha256")
    r.add_argument("--lifetime-minutes", type=int, default=15); r.add_argument("--base64", action="store_true")
    r.add_argument("--inclusive-prefixes", help="sign only the Assertion, from an xmlsec1 template whose "
                   "exclusive C14N transform has this InclusiveNamespaces PrefixList (use with --sign none)")
    r.add_argument("--out", required=True)
    b = sub.add_parser("batch"); b.add_argument("file")
    a = p.parse_args()
    if a.cmd == "batch":
        for line in open(a.file):
            if line.strip():
                response(p.parse_args(line.rstrip("\n").split("\t")))
    elif a.cmd == "keys":
        keys(a.dir)
    elif a.cmd == "metadata":
        metadata(a.dir, a.entity_id, [c for c in a.certs.split(",") if c], a.out)
    else:
        response(a)


if __name__ == "__main__":
    sys.exit(main())
