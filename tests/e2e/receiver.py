"""A webhook receiver on loopback for the notification and action tests: Python's
http.server on 127.0.0.1, recording every POST. It answers 200, answers 500, or hangs (never
answers within the provider's timeout), as the test sets `mode`."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Posted:
    path: str
    content_type: str
    body: dict


class Receiver:
    def __init__(self):
        self.posts: list[Posted] = []
        self.mode = "ok"  # "ok" | "500" | "hang"
        self._release = threading.Event()
        # The secret part of the URL, as in a Slack webhook URL; tests look for it in logs.
        self.secret = f"T0JKE/B0JKE/{uuid.uuid4().hex}"
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"unparsed": raw.decode(errors="replace")}
                receiver.posts.append(Posted(self.path, self.headers.get("content-type", ""), body))
                if receiver.mode == "hang":
                    receiver._release.wait(60)
                    return
                status = 500 if receiver.mode == "500" else 200
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/{self.secret}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def take(self) -> list[Posted]:
        """The posts so far, and forget them."""
        got, self.posts = self.posts, []
        return got

    def close(self):
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


URL_VARIABLE = 'variable "webhook_url" {\n  type      = string\n  sensitive = true\n}\n'


def secret_url(tf, url: str):
    """The webhook URL as a user keeps it: the sensitive variable URL_VARIABLE declares, set
    in terraform.tfvars (so it is in no .tf file Terraform could quote)."""
    (tf.workdir / "terraform.tfvars").write_text(f"webhook_url = {json.dumps(url)}\n")


@pytest.fixture
def webhook():
    r = Receiver()
    yield r
    r.close()
