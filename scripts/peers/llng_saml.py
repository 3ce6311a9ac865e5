#!/usr/bin/env python3
"""LemonLDAP::NG as a SAML 2.0 IdP on loopback, for the SAML tests.

  llng_saml.py start DIR PORT SP_METADATA   instance in DIR (File config, Demo users), portal under
                                            plackup on 127.0.0.1:PORT; waits until /saml/metadata answers
                                            and saves it as DIR/idp-metadata.xml
  llng_saml.py stop DIR                     stops the portal started in DIR (by its recorded PID)
  llng_saml.py login PORT SP_ENTITY ACS REQUEST_ID OUT
                                            SP-initiated login of dwho/dwho: HTTP-Redirect AuthnRequest,
                                            login form, then writes the posted SAMLResponse (base64) to OUT

Needs lemonldap-ng, lemonldap-ng-fastcgi-server, liblasso-perl, libplack-perl (plackup) and the
portal's Perl modules listed in scripts/apt-packages.txt (installing without recommends leaves
them out, and the portal then fails to load its configuration).
The IdP metadata is at http://127.0.0.1:PORT/saml/metadata; its signing certificate is DIR/saml-sig.crt.
"""
import base64
import datetime
import html.parser
import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib

ENTITY = "http://127.0.0.1:%d/saml/metadata"


def instance_config(d, port):
    """Prepares a private LemonLDAP::NG instance in DIR (its own ini, sessions and cache, Demo
    users) and returns the base portal configuration for 127.0.0.1:PORT; callers add the
    issuer they need (SAML here, OIDC in llng_oidc.py) and write it with the portal."""
    for sub in ("conf", "sessions/lock", "psessions/lock", "notifications", "cache"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    ini = open("/etc/lemonldap-ng/lemonldap-ng.ini").read()
    ini = re.sub(r"(?m)^dirName\s*=\s*/var/lib/lemonldap-ng/conf", "dirName = " + d + "/conf", ini)
    ini = ini.replace("/var/lib/lemonldap-ng/cache", d + "/cache")
    open(os.path.join(d, "lemonldap-ng.ini"), "w").write(ini)
    c = json.load(open("/var/lib/lemonldap-ng/conf/lmConf-1.json"))
    c.update({
        "cfgNum": 1, "portal": "http://127.0.0.1:%d/" % port, "domain": "127.0.0.1", "securedCookie": 0,
        "globalStorageOptions": {"Directory": d + "/sessions", "LockDirectory": d + "/sessions/lock",
                                 "generateModule": "Lemonldap::NG::Common::Apache::Session::Generate::SHA256"},
        "persistentStorageOptions": {"Directory": d + "/psessions", "LockDirectory": d + "/psessions/lock"},
        "notificationStorageOptions": {"dirName": d + "/notifications"},
        "localSessionStorageOptions": {**c.get("localSessionStorageOptions", {}), "cache_root": d + "/cache"},
        "authentication": "Demo", "userDB": "Same", "passwordDB": "Demo",
    })
    return c


def start(d, port, sp_metadata):
    d = os.path.abspath(d)
    c = instance_config(d, port)
    key, crt = os.path.join(d, "saml-sig.key"), os.path.join(d, "saml-sig.crt")
    if not os.path.exists(crt):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                        "-days", "3650", "-subj", "/CN=llng-idp.test"], check=True, capture_output=True)
    c.update({
        "issuerDBSAMLActivation": 1, "samlEntityID": ENTITY % port,
        "samlServicePrivateKeySig": open(key).read(), "samlServicePrivateKeySigPwd": "",
        "samlServicePublicKeySig": open(crt).read(), "samlServiceSignatureMethod": "RSA_SHA256",
        "samlSPMetaDataXML": {"msp-sp": {"samlSPMetaDataXML": open(sp_metadata).read()}},
        "samlSPMetaDataOptions": {"msp-sp": {
            "samlSPMetaDataOptionsNameIDFormat": "email", "samlSPMetaDataOptionsSignSSOMessage": 1,
            "samlSPMetaDataOptionsCheckSSOMessageSignature": 0, "samlSPMetaDataOptionsSignatureMethod": "RSA_SHA256",
            "samlSPMetaDataOptionsEnableIDPInitiatedURL": 1}},
        "samlSPMetaDataExportedAttributes": {"msp-sp": {
            "mail": "1;mail;urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
            "cn": "0;cn;urn:oasis:names:tc:SAML:2.0:attrname-format:basic"}},
    })
    json.dump(c, open(os.path.join(d, "conf", "lmConf-1.json"), "w"), indent=1)
    open(os.path.join(d, "portal.psgi"), "w").write(
        'use strict; use Plack::Builder; use Lemonldap::NG::Portal::Main;\n'
        'my $app = Lemonldap::NG::Portal::Main->run( {} );\n'
        'builder { enable "Static", path => qr{^/static/}, root => "/usr/share/lemonldap-ng/portal/htdocs/"; $app };\n')
    log = open(os.path.join(d, "portal.log"), "w")
    env = dict(os.environ, LLNG_DEFAULTCONFFILE=os.path.join(d, "lemonldap-ng.ini"))
    p = subprocess.Popen(["plackup", "-s", "HTTP::Server::PSGI", "--host", "127.0.0.1", "--port", str(port),
                          os.path.join(d, "portal.psgi")], stdout=log, stderr=subprocess.STDOUT, env=env,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    open(os.path.join(d, "portal.pid"), "w").write(str(p.pid))
    deadline = time.time() + 60
    while time.time() < deadline:
        if p.poll() is not None:
            sys.exit("plackup exited: " + open(os.path.join(d, "portal.log")).read()[-2000:])
        try:
            metadata = urllib.request.urlopen(ENTITY % port, timeout=2).read()
            open(os.path.join(d, "idp-metadata.xml"), "wb").write(metadata)
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    stop(d)
    sys.exit("LemonLDAP::NG did not answer on port %d within 60 s" % port)


def stop(d):
    try:
        pid = int(open(os.path.join(d, "portal.pid")).read())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, ChildProcessError):
        # Not our child any more (started by another process): poll until it is gone.
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    os.remove(os.path.join(d, "portal.pid"))


class Forms(html.parser.HTMLParser):
    """Collects the forms of a page: action and input name/value pairs."""
    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": {}})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["fields"][a["name"]] = a.get("value") or ""


def forms(page):
    f = Forms()
    f.feed(page)
    return f.forms


def login(port, sp_entity, acs, request_id, out):
    sso = "http://127.0.0.1:%d/saml/singleSignOn" % port
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    request = ('<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
               'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="%s" Version="2.0" IssueInstant="%s" '
               'Destination="%s" AssertionConsumerServiceURL="%s" '
               'ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer>%s</saml:Issuer>'
               '</samlp:AuthnRequest>') % (request_id, now, sso, acs, sp_entity)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    encoded = base64.b64encode(deflate.compress(request.encode()) + deflate.flush()).decode()
    url = sso + "?" + urllib.parse.urlencode({"SAMLRequest": encoded})
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(url, timeout=30).read().decode()
    login_forms = [f for f in forms(page) if "user" in f["fields"] or "password" in f["fields"]]
    if not login_forms:
        sys.exit("no login form in the SSO page: " + page[:500])
    fields = dict(login_forms[0]["fields"], user="dwho", password="dwho")
    action = login_forms[0]["action"]
    target = url if action in ("", "#") else urllib.parse.urljoin(url, action)
    page = opener.open(target, data=urllib.parse.urlencode(fields).encode(), timeout=30).read().decode()
    for f in forms(page):
        if "SAMLResponse" in f["fields"]:
            open(out, "w").write(f["fields"]["SAMLResponse"])
            return
    sys.exit("no SAMLResponse after login: " + page[:800])


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "start" and len(sys.argv) == 5:
        start(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif cmd == "stop" and len(sys.argv) == 3:
        stop(sys.argv[2])
    elif cmd == "login" and len(sys.argv) == 7:
        login(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
