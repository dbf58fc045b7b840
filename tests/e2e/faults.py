"""A loopback proxy between the provider and the local cluster's API server that injects the
faults of a flaky network or an overloaded control plane into a chosen share of requests.

It terminates TLS with the cluster's own serving certificate (`DIR/pki/apiserver.*`, whose
SANs include 127.0.0.1, so the provider's kubeconfig keeps the cluster's CA) and talks to the
API server as the cluster's admin (`DIR/pki/admin.*`). Each request is sent upstream on its own
connection with `Connection: close`, so the API server's answer closes the provider's
connection too and every request arrives on a fresh one: the proxy decides per connection,
which is per request, without parsing HTTP responses.

Faults, each with its share of requests (`FaultProxy(..., shares={...})`):
- `reset`: the request is never forwarded; the connection is reset (RST) after it was read.
- `lost`: the request is forwarded and done by the API server, its answer is dropped and the
  connection reset; the client cannot know whether it happened (a delete that did).
- `503` / `429` / `500`: answered by the proxy with a Kubernetes Status of that code
  (429 with `Retry-After: 1` and `retryAfterSeconds`), nothing forwarded.
- `delay`: forwarded after 0.5-2 s.
- `cut`: a watch's stream is reset 0.5-2 s after it opened (other requests are forwarded).

`rules` pick requests by what they are rather than by chance: each `Rule` gives its fault to
the requests matching its method, path and content type, up to `times` of them (all when
None), before any share is drawn; `Rule.hits` counts the requests it matched.
"""

from __future__ import annotations

import json
import random
import socket
import ssl
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

FAULTS = ("reset", "lost", "503", "429", "500", "delay", "cut")


@dataclass
class Rule:
    """`fault` for the requests with this method, whose path (query left out) is `path` and
    whose Content-Type starts with `content_type` (None: any); `watch` True or False picks
    watches or other requests only. `cut_after`: seconds a cut watch stays open."""

    fault: str
    method: str | None = None
    path: str | None = None
    content_type: str | None = None
    watch: bool | None = None
    times: int | None = None
    cut_after: float | None = None
    hits: int = 0

    def matches(self, method: str, path: str, content_type: str, watch: bool) -> bool:
        return (
            (self.times is None or self.hits < self.times)
            and self.method in (None, method)
            and self.path in (None, path)
            and (self.content_type is None or content_type.startswith(self.content_type))
            and self.watch in (None, watch)
        )


class FaultProxy:
    def __init__(
        self, cluster_dir: Path, upstream: str, shares: dict[str, float], seed: int = 14, rules: list[Rule] | None = None
    ):
        unknown = (set(shares) | {r.fault for r in rules or []}) - set(FAULTS)
        assert not unknown, f"unknown faults {unknown}"
        assert sum(shares.values()) <= 1.0
        self.dir = cluster_dir
        host, port = upstream.removeprefix("https://").rsplit(":", 1)
        self.upstream = (host, int(port))
        self.shares = dict(shares)
        self.rules = list(rules or [])
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.injected: Counter[str] = Counter()
        self.requests = 0
        pki = cluster_dir / "pki"
        self.server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.server_tls.load_cert_chain(pki / "apiserver.crt", pki / "apiserver.key")
        self.client_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.client_tls.load_verify_locations(pki / "ca.crt")
        self.client_tls.load_cert_chain(pki / "admin.crt", pki / "admin.key")
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def kubeconfig(self, path: Path) -> Path:
        """A copy of the cluster's kubeconfig whose server is this proxy."""
        cfg = yaml.safe_load((self.dir / "kubeconfig").read_text())
        for c in cfg["clusters"]:
            c["cluster"]["server"] = self.url
        path.write_text(yaml.safe_dump(cfg))
        return path

    def stop(self):
        self.stopped = True
        self.sock.close()

    def _rule(self, head: bytes) -> Rule | None:
        """The first rule matching the request whose head is `head` (counted as a hit)."""
        method, target = (head.split(b"\r\n", 1)[0].decode("latin-1").split(" ") + ["", ""])[:2]
        path, _, query = target.partition("?")
        content_type = ""
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-type":
                content_type = value.strip()
        watch = "watch=" in query
        with self.lock:
            for r in self.rules:
                if r.matches(method, path, content_type, watch):
                    r.hits += 1
                    self.requests += 1
                    self.injected[r.fault] += 1
                    return r
        return None

    def _pick(self, watch: bool) -> str | None:
        with self.lock:
            self.requests += 1
            x = self.rng.random()
            for fault, share in self.shares.items():
                if x < share:
                    if fault == "cut" and not watch:
                        return None
                    # A watch's answer never ends on its own: its lost answer is a cut stream.
                    if fault == "lost" and watch:
                        fault = "cut"
                    self.injected[fault] += 1
                    return fault
                x -= share
            return None

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, raw: socket.socket):
        try:
            conn = self.server_tls.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            return
        try:
            head, rest = _read_head(conn)
            if head is None:
                return
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            rule = self._rule(head)
            fault = rule.fault if rule else self._pick(watch="watch=" in request_line)
            if fault == "reset":
                return _reset(conn)
            if fault in ("503", "429", "500"):
                return _answer(conn, int(fault))
            if fault == "delay":
                time.sleep(0.5 + 1.5 * self.rng.random())
            up = self.client_tls.wrap_socket(socket.create_connection(self.upstream), server_hostname="127.0.0.1")
            up.sendall(_close_after(head) + rest)
            if fault == "lost":
                # Let the API server do it, read its answer, and drop that.
                _relay(conn, up, until=None, to_client=False)
                return _reset(conn)
            cut = None
            if fault == "cut":
                after = rule.cut_after if rule and rule.cut_after is not None else 0.5 + 1.5 * self.rng.random()
                cut = time.monotonic() + after
            _relay(conn, up, until=cut, to_client=True)
            if cut is not None:
                return _reset(conn)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass


def _read_head(conn) -> tuple[bytes | None, bytes]:
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head + b"\r\n\r\n", rest


def _close_after(head: bytes) -> bytes:
    """The request head with `Connection: close` (one request per upstream connection)."""
    lines = [
        line
        for line in head.rstrip(b"\r\n").split(b"\r\n")
        if not line.lower().startswith(b"connection:") and not line.lower().startswith(b"keep-alive:")
    ]
    return b"\r\n".join(lines + [b"Connection: close"]) + b"\r\n\r\n"


def _relay(client, up, until: float | None, to_client: bool):
    """Copy the client's remaining request bytes up and the answer down (or away) until the
    API server closes, or until `until` (monotonic) passes."""
    client.settimeout(0.05)
    up.settimeout(0.05)
    while until is None or time.monotonic() < until:
        try:
            data = client.recv(65536)
            if data:
                up.sendall(data)
        except (TimeoutError, ssl.SSLWantReadError, socket.timeout):
            pass
        try:
            data = up.recv(65536)
        except (TimeoutError, ssl.SSLWantReadError, socket.timeout):
            continue
        if not data:
            break
        if to_client:
            client.sendall(data)
    up.close()


def _reset(conn):
    """Close with an RST: the client sees 'connection reset', not a clean end."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    conn.close()


def _answer(conn, code: int):
    reason = {429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable"}[code]
    status = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": f"injected {code} by the test's fault proxy",
        "reason": reason,
        "code": code,
    }
    extra = ""
    if code == 429:
        status["details"] = {"retryAfterSeconds": 1}
        extra = "Retry-After: 1\r\n"
    body = json.dumps(status).encode()
    conn.sendall(
        f"HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}Connection: close\r\n\r\n".encode()
        + body
    )
