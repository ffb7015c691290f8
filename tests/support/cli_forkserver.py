"""A fork server for the `openstack` CLI of the compat tests.

Starting `openstack` costs about a second of imports (cliff, keystoneauth, openstacksdk, the
octaviaclient plugin) per command, and the compat tests run some 150 commands. This server
imports the CLI once, then forks a child per command that runs the real entry point
(`openstackclient.shell.main`, what the `openstack` script calls) with the command's argv and
environment, its output in files: the same client code and requests, without the start-up.

Run as `python -m tests.support.cli_forkserver SOCKET`; one request at a time, a JSON line
{"argv", "env", "stdout", "stderr"} answered by {"rc"}. The server is its own process group
leader, so stopping it (ForkServer.stop) also ends a child still running.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_REPO = _HERE.parents[1]


def _preload() -> object:
    # The command modules the compat tests use, imported now rather than in every child.
    import octaviaclient.osc.v2.amphora  # noqa: F401
    import octaviaclient.osc.v2.availabilityzone  # noqa: F401
    import octaviaclient.osc.v2.availabilityzoneprofile  # noqa: F401
    import octaviaclient.osc.v2.flavor  # noqa: F401
    import octaviaclient.osc.v2.flavorprofile  # noqa: F401
    import octaviaclient.osc.v2.health_monitor  # noqa: F401
    import octaviaclient.osc.v2.l7policy  # noqa: F401
    import octaviaclient.osc.v2.l7rule  # noqa: F401
    import octaviaclient.osc.v2.listener  # noqa: F401
    import octaviaclient.osc.v2.load_balancer  # noqa: F401
    import octaviaclient.osc.v2.member  # noqa: F401
    import octaviaclient.osc.v2.pool  # noqa: F401
    import octaviaclient.osc.v2.provider  # noqa: F401
    import octaviaclient.osc.v2.quota  # noqa: F401
    from openstackclient import shell

    # The same short `--wait` poll as a CLI process started by the tests (cli_poll/).
    sys.path.insert(0, str(_HERE / "cli_poll"))
    import sitecustomize  # noqa: F401

    return shell


def _child(shell: object, request: dict) -> None:
    """In the forked child: the command, as the `openstack` script would run it."""
    os.environ.clear()
    os.environ.update(request["env"])
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    sys.stdin = open(0, closefd=False)  # noqa: SIM115
    try:
        code = shell.main(request["argv"])  # type: ignore[attr-defined]
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:  # noqa: BLE001  (reported like an uncaught error in the script)
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


def serve(path: str) -> None:
    shell = _preload()
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen()
    listener.settimeout(1.0)
    parent = os.getppid()
    while True:
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            if os.getppid() != parent:  # the test run is gone (killed): so is its server
                return
            continue
        conn.settimeout(None)
        with conn:
            data = b""
            while not data.endswith(b"\n"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            if not data:
                continue
            request = json.loads(data)
            pid = os.fork()
            if pid == 0:
                listener.close()
                _child(shell, request)
            _, status = os.waitpid(pid, 0)
            conn.sendall(json.dumps({"rc": os.waitstatus_to_exitcode(status)}).encode() + b"\n")


class ForkServer:
    """The server process, started on first use; stop() ends it and anything it forked."""

    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="lbaas-cli-")
        self.socket = os.path.join(self._dir, "cli.sock")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.cli_forkserver", self.socket],
            cwd=_REPO,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while not os.path.exists(self.socket):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the CLI fork server did not start")
            time.sleep(0.05)

    def run(self, argv: list[str], env: dict[str, str], timeout: float) -> tuple[int, str, str]:
        out = os.path.join(self._dir, "stdout")
        err = os.path.join(self._dir, "stderr")
        request = {"argv": argv, "env": env, "stdout": out, "stderr": err}
        with socket.socket(socket.AF_UNIX) as conn:
            conn.settimeout(timeout)
            conn.connect(self.socket)
            conn.sendall(json.dumps(request).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = conn.recv(65536)
                if not chunk:
                    raise RuntimeError("the CLI fork server went away")
                data += chunk
        rc = json.loads(data)["rc"]
        return rc, Path(out).read_text(), Path(err).read_text()

    def stop(self) -> None:
        if self._proc.poll() is None:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)  # the server and a child still running
            except ProcessLookupError:
                pass
            self._proc.wait(timeout=10)
        for name in ("cli.sock", "stdout", "stderr"):
            Path(self._dir, name).unlink(missing_ok=True)
        os.rmdir(self._dir)


if __name__ == "__main__":
    serve(sys.argv[1])
