"""A stand-in for a Streamlit replica in serve.py's tests: answers ``/_stcore/health`` with 200
and every other path with which replica (port and process id) served it.

    python tests/deploy/fake_replica.py PORT [--slow-start SECONDS]
"""

import argparse
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = (b"ok" if self.path == "/_stcore/health"
                else f"port={self.server.server_port} pid={os.getpid()}".encode())
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # quiet
        pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--slow-start", type=float, default=0.0)
    a = p.parse_args()
    time.sleep(a.slow_start)
    print(f"fake replica listening on 127.0.0.1:{a.port}", flush=True)
    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.handle_error = lambda *_: None  # HAProxy's health checks hang up early: fine
    server.serve_forever()


if __name__ == "__main__":
    main()
