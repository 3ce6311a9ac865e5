"""Minimal HTTP glue around the idpyoidc OpenID Provider (the OP logic is idpyoidc's own).
Usage: op.py PORT STATE_DIR [REDIRECT_URI]"""
import json, os, sys
from flask import Flask, request, make_response, redirect
from idpyoidc.server import Server
from idpyoidc.server.configure import OPConfiguration
from idpyoidc.message.oidc import AuthorizationRequest, AccessTokenRequest
from idpyoidc.message.oauth2 import ResponseMessage
from idpyoidc.server.oidc.token import Token
from idpyoidc.server.user_authn.authn_context import INTERNETPROTOCOLPASSWORD
from idpyoidc.server.oauth2.add_on.pkce import CC_METHOD

PORT = int(sys.argv[1]); D = os.path.abspath(sys.argv[2]); os.makedirs(D, exist_ok=True)
REDIRECT = sys.argv[3] if len(sys.argv) > 3 else "http://127.0.0.1:18399/callback"
HERE = os.path.dirname(os.path.abspath(__file__)); ISS = f"http://127.0.0.1:{PORT}"
json.dump({"alice": "alice-pw", "bob": "bob-pw"}, open(f"{D}/passwd.json", "w"))
json.dump({"alice": {"sub": "alice", "name": "Alice Auditor", "email": "alice@msp.example", "email_verified": True},
           "bob": {"sub": "bob", "name": "Bob", "email": "bob@msp.example", "email_verified": True}}, open(f"{D}/users.json", "w"))
conf = {
  "issuer": ISS, "httpc_params": {"verify": False}, "template_dir": f"{HERE}/templates",
  "keys": {"private_path": f"{D}/jwks.json", "public_path": f"{D}/public_jwks.json", "uri_path": "jwks", "read_only": False,
           "key_defs": [{"type": "RSA", "use": ["sig"]}, {"type": "EC", "crv": "P-256", "use": ["sig"]}]},
  "add_on": {"pkce": {"function": "idpyoidc.server.oauth2.add_on.pkce.add_support", "kwargs": {"essential": True}}},
  "authentication": {"user": {"acr": INTERNETPROTOCOLPASSWORD, "class": "idpyoidc.server.user_authn.user.UserPassJinja2",
      "kwargs": {"verify_endpoint": "verify/user", "template": "user_pass.jinja2",
                 "db": {"class": "idpyoidc.server.util.JSONDictDB", "kwargs": {"filename": f"{D}/passwd.json"}}}}},
  "userinfo": {"class": "idpyoidc.server.user_info.UserInfo", "kwargs": {"db_file": f"{D}/users.json"}},
  "cookie_handler": {"class": "idpyoidc.server.cookie_handler.CookieHandler", "kwargs": {
      "keys": {"private_path": f"{D}/cookie_jwks.json", "read_only": False,
               "key_defs": [{"type": "OCT", "use": ["enc"], "kid": "enc"}, {"type": "OCT", "use": ["sig"], "kid": "sig"}]},
      "name": {"session": "oidc_op", "register": "oidc_op_rp", "session_management": "sman"}}},
  "token_handler_args": {
      "jwks_def": {"private_path": f"{D}/token_jwks.json", "read_only": False, "key_defs": [{"type": "OCT", "bytes": 24, "use": ["enc"], "kid": "code"}]},
      "code": {"kwargs": {"lifetime": 600}},
      "token": {"class": "idpyoidc.server.token.jwt_token.JWTToken", "kwargs": {"lifetime": 3600}},
      "refresh": {"class": "idpyoidc.server.token.jwt_token.JWTToken", "kwargs": {"lifetime": 86400}},
      "id_token": {"class": "idpyoidc.server.token.id_token.IDToken", "kwargs": {"base_claims": {"email": None, "email_verified": None}}}},
  "endpoint": {
      "provider_info": {"path": ".well-known/openid-configuration", "class": "idpyoidc.server.oidc.provider_config.ProviderConfiguration", "kwargs": {"client_authn_method": None}},
      "authorization": {"path": "authorization", "class": "idpyoidc.server.oidc.authorization.Authorization",
          "kwargs": {"client_authn_method": None, "response_types_supported": ["code"], "response_modes_supported": ["query"]}},
      "token": {"path": "token", "class": "idpyoidc.server.oidc.token.Token",
          "kwargs": {"client_authn_method": ["client_secret_basic", "client_secret_post", "public"]}},
      "userinfo": {"path": "userinfo", "class": "idpyoidc.server.oidc.userinfo.UserInfo", "kwargs": {}}},
}
server = Server(OPConfiguration(conf=conf, base_path=D, domain="127.0.0.1", port=PORT), cwd=D)
ctx = server.context
ctx.add_on["pkce"]["code_challenge_methods"] = {"S256": CC_METHOD["S256"]}     # refuse "plain"
ctx.set_preference("code_challenge_methods_supported", ["S256"])
def client(cid, alg, secret=None):
    c = {"client_id": cid, "redirect_uris": [(REDIRECT, {})], "response_types_supported": ["code"],
         "allowed_scopes": ["openid", "email", "profile"], "id_token_signed_response_alg": alg,
         "token_endpoint_auth_method": "client_secret_basic" if secret else "none",
         "client_authn_method": ["client_secret_basic"] if secret else ["public"], "client_salt": "salt"}
    if secret: c["client_secret"] = secret
    return c
ctx.cdb = {"msp-es256": client("msp-es256", "ES256"), "msp-rs256": client("msp-rs256", "RS256", "rs-secret-0123456789")}

app = Flask(__name__)
def http_info():
    return {"headers": {k.lower(): v for k, v in request.headers.items() if k.lower() != "cookie"}, "method": request.method,
            "url": request.url, "cookie": [{"name": k, "value": v} for k, v in request.cookies.items()]}
def finish(ep, req_args, **args):
    info = ep.do_response(request=req_args, **args)
    if info.get("response_placement", ep.response_placement) == "body":
        resp = make_response(info["response"], info.get("response_code", 400 if args.get("error") else 200))
    else:
        resp = redirect(info["response"])
    for k, v in info.get("http_headers", []): resp.headers[k] = v
    ck = info.get("cookie") or []
    for c in (ck if isinstance(ck, list) else [ck]): resp.set_cookie(c["name"], c["value"], path="/", samesite="Lax")
    return resp
def err(msg): return make_response(ResponseMessage(error="invalid_request", error_description=msg).to_json(), 400, {"Content-Type": "application/json"})
def serve(name):
    ep = server.get_endpoint(name)
    raw = request.args.to_dict() if request.method == "GET" else request.form.to_dict()
    try: req = ep.parse_request(raw, http_info=http_info())
    except Exception as e: return err(str(e))
    if isinstance(req, ResponseMessage) and "error" in req: return make_response(req.to_json(), 400, {"Content-Type": "application/json"})
    try: args = ep.process_request(AccessTokenRequest(**req) if isinstance(ep, Token) else req, http_info=http_info())
    except Exception as e: return err(str(e))
    if "http_response" in args: return make_response(args["http_response"], 200)
    if "redirect_location" in args: return redirect(args["redirect_location"])
    if isinstance(args, ResponseMessage) and "error" in args: return make_response(args.to_json(), 400, {"Content-Type": "application/json"})
    if "error" in args and "response_args" not in args:
        return make_response(json.dumps({k: args[k] for k in ("error", "error_description") if k in args}), 400, {"Content-Type": "application/json"})
    return finish(ep, req, **args)
app.add_url_rule("/.well-known/openid-configuration", "disco", lambda: serve("provider_config"))
app.add_url_rule("/authorization", "authz", lambda: serve("authorization"))
app.add_url_rule("/token", "token", lambda: serve("token"), methods=["POST"])
app.add_url_rule("/userinfo", "userinfo", lambda: serve("userinfo"), methods=["GET", "POST"])
app.add_url_rule("/jwks", "jwks", lambda: make_response(ctx.keyjar.export_jwks_as_json(issuer_id=""), 200, {"Content-Type": "application/json"}))
@app.route("/verify/user", methods=["POST"])
def verify_user():
    m = ctx.authn_broker.get_method_by_id("user"); kw = request.form.to_dict()
    try: user = m.verify(**kw)
    except Exception as e: return make_response(f"Authentication failed: {e}", 403)
    a = m.unpack_token(kw["token"]); areq = AuthorizationRequest().from_urlencoded(a["query"])
    ep = server.get_endpoint("authorization")
    args = ep.authz_part2(request=areq, session_id=ep.create_session(areq, user, a["authn_class_ref"], a["iat"], m))
    if isinstance(args, ResponseMessage) and "error" in args: return make_response(args.to_json(), 400)
    return finish(ep, areq, **args)
if __name__ == "__main__":
    app.run(host="127.0.0.1", port=PORT, threaded=True)
