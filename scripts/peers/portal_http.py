#!/usr/bin/env python3
"""usage: portal_http.py PORT LOGFILE — a national-portal stand-in on 127.0.0.1 for PortalTests.

POST /ok            200 with a JSON receipt that echoes the payload's SHA-256
POST /flaky         503 (Retry-After: 0) on the first request per Idempotency-Key, then 200
POST /refuse        400 with {"message": ...}
POST /no-reference  200 with a JSON object lacking any reference
POST /huge          200 with a 1 MiB body
Every request is appended to LOGFILE as one JSON line: path, idempotency key, payload sha256.
"""
import hashlib, http.server, json, sys, threading
PORT, LOG = int(sys.argv[1]), sys.argv[2]
seen, lock = set(), threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def reply(self, status, obj=None, raw=None, headers=()):
        out = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        for k, v in headers: self.send_header(k, v)
        self.end_headers(); self.wfile.write(out)
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        digest = hashlib.sha256(body).hexdigest()
        key = self.headers.get("Idempotency-Key", "")
        with lock:
            with open(LOG, "a") as f: f.write(json.dumps({"path": self.path, "key": key, "sha256": digest}) + "\n")
            first = (self.path, key) not in seen
            seen.add((self.path, key))
        receipt = {"reference": "CASE-%s" % digest[:8], "receivedAt": "2026-06-01T10:00:00Z", "payloadSHA256": digest}
        if self.path == "/ok": self.reply(200, receipt)
        elif self.path == "/flaky":
            if first: self.reply(503, {"message": "maintenance"}, headers=[("Retry-After", "0")])
            else: self.reply(200, receipt)
        elif self.path == "/refuse": self.reply(400, {"message": "field awareAt: not a valid date"})
        elif self.path == "/no-reference": self.reply(200, {"status": "ok"})
        elif self.path == "/huge": self.reply(200, raw=b"x" * (1 << 20))
        else: self.reply(404, {"message": "no such endpoint"})
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
