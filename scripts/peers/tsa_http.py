#!/usr/bin/env python3
"""usage: tsa_http.py PORT TSA_CONFIG   (run from the folder that tsa.cnf's 'dir = .' means)"""
import http.server, subprocess, sys, tempfile, os
PORT, CONF = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Type") != "application/timestamp-query":
            self.send_error(415, "need application/timestamp-query"); return
        with tempfile.TemporaryDirectory() as d:
            q, r = os.path.join(d, "q.tsq"), os.path.join(d, "r.tsr")
            open(q, "wb").write(body)
            p = subprocess.run(["openssl", "ts", "-reply", "-config", CONF, "-queryfile", q, "-out", r], capture_output=True)
            if p.returncode != 0 or not os.path.exists(r):
                self.send_error(500, p.stderr.decode(errors="replace")[-200:]); return
            out = open(r, "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers(); self.wfile.write(out)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
