"""A syslog receiver on loopback for tests: UDP and TCP on one port, every message kept.

TCP takes both RFC 6587 framings: octet counting ("<len> <msg>") and one message per line.
Each message is parsed as RFC 5424 (haproxy, the agent) or RFC 3164 (nginx) far enough to tell
its facility, severity, host and text apart.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from dataclasses import dataclass

_PRI = re.compile(rb"^<(\d{1,3})>")
# <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG
_RFC5424 = re.compile(r"^1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|\[.*?\]) ?(.*)$", re.S)
# <PRI>Mmm dd hh:mm:ss HOSTNAME TAG: MSG
_RFC3164 = re.compile(r"^\w{3} [ \d]\d \d\d:\d\d:\d\d (\S+) ([^:\s]+): ?(.*)$", re.S)


@dataclass(frozen=True)
class Message:
    transport: str  # "udp" or "tcp"
    facility: int
    severity: int
    host: str
    app: str
    text: str
    raw: bytes


def parse(raw: bytes, transport: str) -> Message:
    found = _PRI.match(raw)
    if found is None:
        return Message(transport, -1, -1, "", "", raw.decode("utf-8", "replace"), raw)
    pri = int(found[1])
    rest = raw[found.end() :].decode("utf-8", "replace").rstrip("\n")
    if m := _RFC5424.match(rest):
        return Message(transport, pri // 8, pri % 8, m[2], m[3], m[7], raw)
    if m := _RFC3164.match(rest):
        return Message(transport, pri // 8, pri % 8, m[1], m[2], m[3], raw)
    return Message(transport, pri // 8, pri % 8, "", "", rest, raw)


class SyslogReceiver:
    """Listens on host:port (port 0: a free one) for UDP datagrams and TCP streams until
    stop()."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._tcp.bind((host, port))
        self.host, self.port = self._tcp.getsockname()
        self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._udp.bind((host, self.port))  # the same port number, as a syslog server has
        self._tcp.listen(16)
        self._tcp.settimeout(0.2)
        self._udp.settimeout(0.2)
        self._messages: list[Message] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._serve_udp, daemon=True),
            threading.Thread(target=self._serve_tcp, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def messages(self) -> list[Message]:
        with self._lock:
            return list(self._messages)

    def wait_for(self, predicate, count: int = 1, timeout: float = 15.0) -> list[Message]:
        """The messages matching predicate once there are at least `count`; AssertionError
        with what arrived after timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.messages() if predicate(m)]
            if len(found) >= count or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        assert len(found) >= count, (
            f"{len(found)} of {count} expected syslog messages after {timeout}s; "
            f"received: {[m.raw for m in self.messages()][-20:]}"
        )
        return found

    def _keep(self, raw: bytes, transport: str) -> None:
        if raw.strip():
            with self._lock:
                self._messages.append(parse(raw, transport))

    def _serve_udp(self) -> None:
        while not self._stopping.is_set():
            try:
                data, _ = self._udp.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            self._keep(data, "udp")

    def _serve_tcp(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._tcp.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._read_stream, args=(conn,), daemon=True).start()

    def _read_stream(self, conn: socket.socket) -> None:
        buffer = b""
        conn.settimeout(0.2)
        with conn:
            while not self._stopping.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                buffer += data
                buffer = self._split(buffer)

    def _split(self, buffer: bytes) -> bytes:
        while buffer:
            counted = re.match(rb"^(\d{1,6}) ", buffer)
            if counted:  # octet counting
                end = counted.end() + int(counted[1])
                if len(buffer) < end:
                    return buffer
                self._keep(buffer[counted.end() : end], "tcp")
                buffer = buffer[end:]
                continue
            line, newline, rest = buffer.partition(b"\n")
            if not newline:
                return buffer
            self._keep(line, "tcp")
            buffer = rest
        return buffer

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=2)
        self._tcp.close()
        self._udp.close()

    def __enter__(self) -> SyslogReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
