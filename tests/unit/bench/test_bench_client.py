"""The API benchmark's load generator (bench.api.Clients) against a local HTTP/1.1 server: it
reuses one connection per thread, reads bodies by Content-Length, and sends a request again on a
new connection when the server closed the idle one."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.api import Clients


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    connections: set[int] = set()  # noqa: RUF012 (client ports; one server per test)
    close_next = False

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        reply = json.dumps(
            {"got": body, "path": self.path, "token": self.headers["X-Auth-Token"]}
        ).encode()
        _Handler.connections.add(self.client_address[1])
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)
        if _Handler.close_next:  # the server drops the connection after answering
            _Handler.close_next = False
            self.close_connection = True

    def do_GET(self) -> None:
        big = b"x" * 700_000  # larger than one recv
        self.send_response(200)
        self.send_header("Content-Length", str(len(big)))
        self.end_headers()
        self.wfile.write(big)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    _Handler.connections = set()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_requests_share_one_keep_alive_connection_and_bodies_are_read_whole(server):
    clients = Clients(server, "tok")
    try:
        for i in range(3):
            status, payload = clients.request("POST", "/v2/x", {"n": i})
            assert status == 201
            assert json.loads(payload) == {"got": {"n": i}, "path": "/v2/x", "token": "tok"}
        assert len(_Handler.connections) == 1
        status, payload = clients.request("GET", "/big")
        assert status == 200 and payload == b"x" * 700_000
    finally:
        clients.close()


def test_a_request_after_the_server_closed_the_connection_goes_out_on_a_new_one(server):
    clients = Clients(server, "tok")
    try:
        _Handler.close_next = True
        assert clients.request("POST", "/a", {})[0] == 201
        status, payload = clients.request("POST", "/b", {"again": True})
        assert status == 201 and json.loads(payload)["got"] == {"again": True}
        assert len(_Handler.connections) == 2
    finally:
        clients.close()
