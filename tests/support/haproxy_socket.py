"""haproxy's admin socket and processes, as the tests see them."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path


def ask(sock_path: Path, command: str, deadline: float) -> str:
    """One command on its own connection (as a runtime plan is sent: sessions a command shuts
    end between two requests), retried only until haproxy has created the socket."""
    while True:
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(5)
                sock.connect(str(sock_path))
                sock.sendall(f"{command}\n".encode())
                data = b""
                while chunk := sock.recv(65536):
                    data += chunk
            return data.decode()
        except (FileNotFoundError, ConnectionRefusedError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def haproxy_pids(pids: list[int], marker: bytes) -> set[int]:
    """Of `pids`, the haproxy processes (master and worker) whose command line names `marker`
    (an amphora's directory): a reload starts a new worker."""
    found = set()
    for pid in pids:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"haproxy" in cmd.split(b"\0")[0] and marker in cmd:
            found.add(pid)
    return found


def stop_masters(procs: list) -> None:
    """Stops haproxy master processes a test started (a master stops its workers on SIGTERM)."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
