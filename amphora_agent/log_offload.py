"""The agent's own log records sent to the admin syslog targets, and local logging switched off.

Octavia's amphorae hand the agent's log to rsyslog, which forwards it with the other admin logs;
here the agent sends it itself: RFC 5424 lines, facility local1, host `amphora-<id>`, app
`amphora-agent`, over UDP or TCP (one message per line, RFC 6587 non-transparent framing, as
haproxy's rings send). Logging never waits on the network: records are queued (at most
QUEUE_SIZE; when it is full new ones are dropped and counted) and one thread sends them. Every
target gets every record. A TCP target that cannot be reached is retried every RETRY_INTERVAL
seconds; what it missed meanwhile is kept, up to QUEUE_SIZE lines per target, oldest dropped
first (Octavia's log_queue_size and log_retry_interval, with rsyslog's defaults; a retry count
is not needed when nothing waits for the sender).
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Sequence

from amphora_agent.config import Settings
from services.common.log_offload import SyslogTarget

FACILITY_LOCAL1 = 17
APP_NAME = "amphora-agent"
QUEUE_SIZE = 10_000
RETRY_INTERVAL = 2.0
CONNECT_TIMEOUT = 1.0
# Longest line sent, as haproxy's admin lines (renderer backends/haproxy/logs.py).
MAX_LINE = 8192
_CLOSE = object()


def severity(levelno: int) -> int:
    """RFC 5424 severity of a Python log level."""
    if levelno >= logging.CRITICAL:
        return 2
    if levelno >= logging.ERROR:
        return 3
    if levelno >= logging.WARNING:
        return 4
    if levelno >= logging.INFO:
        return 6
    return 7


class _Target:
    """One receiver: its address, and for TCP its connection and what waits for it."""

    def __init__(self, target: SyslogTarget, protocol: str) -> None:
        self.address = (target.address, target.port)
        self.family = socket.AF_INET6 if ":" in target.address else socket.AF_INET
        self.tcp = protocol == "tcp"
        self.pending: collections.deque[bytes] = collections.deque(maxlen=QUEUE_SIZE)
        self.sock: socket.socket | None = None
        self.retry_at = 0.0

    def send(self, line: bytes) -> None:
        if not self.tcp:
            try:
                if self.sock is None:
                    self.sock = socket.socket(self.family, socket.SOCK_DGRAM)
                self.sock.sendto(line, self.address)
            except OSError:
                pass  # UDP is best effort, as haproxy's and nginx's own lines
            return
        self.pending.append(line + b"\n")
        self.flush()

    def flush(self) -> None:
        if not self.tcp or not self.pending:
            return
        if self.sock is None:
            if time.monotonic() < self.retry_at:
                return
            try:
                self.sock = socket.create_connection(self.address, timeout=CONNECT_TIMEOUT)
            except OSError:
                self.retry_at = time.monotonic() + RETRY_INTERVAL
                return
        while self.pending:
            try:
                self.sock.sendall(self.pending[0])
            except OSError:
                self.close()
                self.retry_at = time.monotonic() + RETRY_INTERVAL
                return
            self.pending.popleft()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


class SyslogForwarder(logging.Handler):
    """A logging handler that sends each record to every target from a thread of its own."""

    def __init__(self, targets: Sequence[SyslogTarget], protocol: str, hostname: str) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        self._header_host = hostname
        self._targets = [_Target(t, protocol) for t in targets]
        self._queue: queue.Queue[object] = queue.Queue(maxsize=QUEUE_SIZE)
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="syslog-forwarder", daemon=True)
        self._thread.start()

    def frame(self, record: logging.LogRecord) -> bytes:
        """The RFC 5424 line of a record (no trailing newline; a newline inside becomes \\n)."""
        text = self.format(record).replace("\r", "").replace("\n", "\\n")
        stamp = dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="microseconds")
        pri = FACILITY_LOCAL1 * 8 + severity(record.levelno)
        line = f"<{pri}>1 {stamp} {self._header_host} {APP_NAME} {os.getpid()} - - {text}"
        return line.encode("utf-8", "replace")[:MAX_LINE]

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.frame(record)
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.handleError(record)
            return
        try:
            self._queue.put_nowait(line)
        except queue.Full:
            self.dropped += 1

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=RETRY_INTERVAL / 2)
            except queue.Empty:
                for target in self._targets:
                    target.flush()  # a TCP target back after a retry interval
                continue
            if item is _CLOSE:
                break
            for target in self._targets:
                target.send(item)  # type: ignore[arg-type]
        for target in self._targets:
            target.flush()
            target.close()

    def close(self) -> None:
        """Sends what is queued (at most about a second more) and stops the thread."""
        if self._thread.is_alive():
            try:
                self._queue.put(_CLOSE, timeout=1.0)
            except queue.Full:
                pass
            self._thread.join(timeout=1.0 + CONNECT_TIMEOUT)
        super().close()


def install(settings: Settings) -> SyslogForwarder | None:
    """Adds the forwarder to the root logger when there are admin targets; with local storage
    off removes the stream handlers (stderr: the agent's log file or journal)."""
    root = logging.getLogger()
    forwarder = None
    if settings.admin_log_targets:
        forwarder = SyslogForwarder(
            settings.admin_log_targets,
            settings.log_protocol,
            hostname=f"amphora-{settings.amphora_id}",
        )
        root.addHandler(forwarder)
    if settings.disable_local_log_storage:
        for handler in list(root.handlers):
            if isinstance(handler, logging.StreamHandler):
                root.removeHandler(handler)
        if not root.handlers:
            root.addHandler(logging.NullHandler())  # not Python's last-resort stderr handler
        logging.captureWarnings(True)  # warnings would be printed on stderr otherwise
    return forwarder
