"""Real HTTP backends on loopback that answer with their own name."""

from __future__ import annotations

import random
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Ports free_port draws from, below the kernel's ephemeral range (ip_local_port_range).
_LOWEST = 10000


def _ephemeral_low() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as fh:
            return int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on host now, for a process started later to bind. Drawn at random below
    the kernel's ephemeral range when there is room there: a port of that range can be taken
    before that process binds it, by the source port of any connection or any bind to port 0
    (an amphora agent's), which failed a stack's start now and then on a busy machine
    ("Address already in use")."""
    low = _ephemeral_low()
    for _ in range(200 if low > _LOWEST + 1000 else 0):
        port = random.randint(_LOWEST, low - 1)
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # haproxy's health checks close connections abruptly; that is not a test failure.
        pass


class Backend:
    """One HTTP server thread; `status` is what it answers (500 makes health checks fail)."""

    def __init__(self, name: str, host: str = "127.0.0.1", port: int = 0):
        self.name = name
        self.status = 200
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, with_body: bool) -> None:
                body = backend.name.encode()
                self.send_response(backend.status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if with_body:
                    self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                self._answer(True)

            def do_HEAD(self) -> None:  # noqa: N802
                self._answer(False)

            def log_message(self, *args: object) -> None:
                pass

        self._server = _QuietServer((host, port), Handler)
        self._server.daemon_threads = True
        self.host, self.port = self._server.server_address[:2]
        self._thread: threading.Thread | None = None

    def start(self) -> Backend:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None
