#!/usr/bin/env python3
"""LemonLDAP::NG as an OpenID Connect provider (RS256, PKCE required) on loopback, for the OIDC tests.

  llng_oidc.py start DIR PORT REDIRECT_URI   instance in DIR (File config, Demo users dwho/dwho, rtyler/rtyler),
                                             portal under plackup on 127.0.0.1:PORT, issuer http://127.0.0.1:PORT;
                                             public client "msp-client" (PKCE required, RS256 ID tokens, no
                                             consent page) with REDIRECT_URI; waits until discovery answers
  llng_oidc.py stop DIR                      stops the portal started in DIR (by its recorded PID)
  llng_oidc.py login AUTHORIZE_URL REDIRECT_URI OUT [USER PASSWORD]
                                             a scripted browser: opens the authorize URL, posts the login form
                                             (default dwho/dwho), follows redirects until REDIRECT_URI and writes
                                             the callback query (code=...&state=...) to OUT

Needs the same packages as llng_saml.py (lemonldap-ng, libplack-perl and the portal's Perl modules,
see scripts/apt-packages.txt).
"""
import http.cookiejar
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llng_saml import forms, instance_config, stop  # noqa: E402  (same instance set-up, process handling and form parser)

CLIENT_ID = "msp-client"


def start(d, port, redirect_uri):
    d = os.path.abspath(d)
    c = instance_config(d, port)
    key, pub = os.path.join(d, "oidc-sig.key"), os.path.join(d, "oidc-sig.pub")
    if not os.path.exists(pub):
        subprocess.run(["openssl", "genrsa", "-out", key, "2048"], check=True, capture_output=True)
        subprocess.run(["openssl", "rsa", "-in", key, "-pubout", "-out", pub], check=True, capture_output=True)
    c.update({
        "issuerDBOpenIDConnectActivation": 1, "oidcServiceMetaDataIssuer": "http://127.0.0.1:%d" % port,
        "oidcServicePrivateKeySig": open(key).read(), "oidcServicePublicKeySig": open(pub).read(),
        "oidcServiceKeyIdSig": "llng-rs256-1",
        "oidcRPMetaDataOptions": {"msp": {
            "oidcRPMetaDataOptionsClientID": CLIENT_ID, "oidcRPMetaDataOptionsPublic": 1,
            "oidcRPMetaDataOptionsRequirePKCE": 1, "oidcRPMetaDataOptionsRedirectUris": redirect_uri,
            "oidcRPMetaDataOptionsIDTokenSignAlg": "RS256", "oidcRPMetaDataOptionsBypassConsent": 1,
            "oidcRPMetaDataOptionsIDTokenExpiration": 3600}},
        "oidcRPMetaDataExportedVars": {"msp": {"email": "mail", "name": "cn", "family_name": "sn"}},
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
    discovery = "http://127.0.0.1:%d/.well-known/openid-configuration" % port
    deadline = time.time() + 60
    while time.time() < deadline:
        if p.poll() is not None:
            sys.exit("plackup exited: " + open(os.path.join(d, "portal.log")).read()[-2000:])
        try:
            if urllib.request.urlopen(discovery, timeout=2).status == 200:
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    stop(d)
    sys.exit("LemonLDAP::NG did not answer on port %d within 60 s" % port)


class Arrived(Exception):
    def __init__(self, url):
        super().__init__(url)
        self.url = url


def login(authorize_url, redirect_uri, out, user="dwho", password="dwho"):
    class StopAtCallback(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):
            if newurl.startswith(redirect_uri):
                raise Arrived(newurl)
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), StopAtCallback())
    try:
        page = opener.open(authorize_url, timeout=30).read().decode()
        login_forms = [f for f in forms(page) if "user" in f["fields"] or "password" in f["fields"]]
        if not login_forms:
            sys.exit("no login form on the authorize page: " + page[:500])
        fields = dict(login_forms[0]["fields"], user=user, password=password)
        action = login_forms[0]["action"]
        target = authorize_url if action in ("", "#") else urllib.parse.urljoin(authorize_url, action)
        page = opener.open(target, data=urllib.parse.urlencode(fields).encode(), timeout=30).read().decode()
    except Arrived as a:
        open(out, "w").write(urllib.parse.urlsplit(a.url).query)
        return
    except urllib.error.HTTPError as e:
        sys.exit("HTTP %d during the login: %s" % (e.code, e.read()[:500]))
    sys.exit("the login did not come back to %s: %s" % (redirect_uri, page[:800]))


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "start" and len(sys.argv) == 5:
        start(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif cmd == "stop" and len(sys.argv) == 3:
        stop(sys.argv[2])
    elif cmd == "login" and len(sys.argv) in (5, 7):
        login(*sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
