"""A webhook receiver for tests: an HTTP server on 127.0.0.1 in a thread that answers a scripted
sequence of status codes and records every request (usable by the end-to-end test too)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """An HTTP server in a thread answering ``statuses`` in turn (then 200), recording requests."""

    def __init__(self, statuses: list[int] | None = None, always: int | None = None):
        self.statuses = list(statuses or [])
        self.always = always
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with owner.lock:
                    owner.requests.append((dict(self.headers), body))
                    status = owner.always or (owner.statuses.pop(0) if owner.statuses else 200)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def bodies(self) -> list[dict]:
        with self.lock:
            return [json.loads(b) for _, b in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
