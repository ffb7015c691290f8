"""What GetDiagnostics and GetLogs are built from, without processes: /proc/net/tcp parsing,
log tails with their caps, and the apply and reload history (kept on disk)."""

from __future__ import annotations

import asyncio

from amphora_agent import diagnostics
from amphora_agent.applier import Applier, ConfigFile, Result
from amphora_agent.confighash import config_hash
from amphora_agent.history import MAX_TEXT, History
from amphora_agent.process import ProcessError

# /proc/net/tcp and tcp6 as a little-endian kernel prints them (the header line first).
TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1
   1: 0A0B0C7F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 112 1
   2: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 113 1
"""
TCP6 = """  sl  local_address                         remote_address                        st
   0: 00000000000000000000000001000000:01BB 00000000000000000000000000000000:0000 0A 0:0 0:0 0 0 0 211
   1: 0000000000000000FFFF00000100007F:2328 00000000000000000000000000000000:0000 0A 0:0 0:0 0 0 0 212
"""


def test_listening_sockets_are_parsed_from_proc_net_tcp():
    found = diagnostics.parse_proc_net_tcp(TCP, "tcp")
    assert [(s.address, s.port, s.inode) for s in found] == [
        ("127.0.0.1", 8080, 111),
        ("127.12.11.10", 80, 112),
    ]  # the ESTABLISHED one is not listening
    found6 = diagnostics.parse_proc_net_tcp(TCP6, "tcp6")
    assert [(s.address, s.port, s.inode) for s in found6] == [
        ("::1", 443, 211),
        ("127.0.0.1", 9000, 212),
    ]


def test_only_the_given_processes_sockets_are_kept(tmp_path):
    import os
    import socket

    with socket.socket() as mine:
        mine.bind(("127.0.0.1", 0))
        mine.listen()
        port = mine.getsockname()[1]
        held = diagnostics.held_by(diagnostics.listening(), [os.getpid()])
        assert ("tcp", "127.0.0.1", port) in {(s.protocol, s.address, s.port) for s, _ in held}
        assert all(pids == [os.getpid()] for _, pids in held)
        assert diagnostics.held_by(diagnostics.listening(), []) == []


def test_tail_takes_the_last_lines_within_the_byte_cap(tmp_path):
    path = tmp_path / "agent.log"
    assert diagnostics.tail(str(path), 5) == diagnostics.Tail([], False, False)
    path.write_bytes(b"".join(b"line %d\n" % i for i in range(1, 101)) + b"bad \xff byte")
    tail = diagnostics.tail(str(path), 3)
    assert tail.lines == ["line 99", "line 100", "bad \ufffd byte"] and not tail.truncated
    # 64 bytes hold the end of the file only: no partial first line, and it says it is short.
    short = diagnostics.tail(str(path), 50, max_bytes=64)
    assert short.truncated and short.found and 0 < len(short.lines) < 50
    assert short.lines[-1] == "bad \ufffd byte" and short.lines[0].startswith("line ")
    assert all(line.split()[-1].isdigit() for line in short.lines[:-1])
    # Enough lines inside the window: not truncated even though the file is longer.
    assert not diagnostics.tail(str(path), 2, max_bytes=64).truncated


class FailingReload:
    """A process whose reloads fail when told to (haproxy refusing to bind, say)."""

    main_file = "haproxy.cfg"

    def __init__(self) -> None:
        self.running = False
        self.fail_next_reload = False

    async def validate(self, cfg_path: str, cwd: str) -> tuple[bool, str]:
        return True, ""

    def stop_stale(self) -> None:
        pass

    async def start(self) -> None:
        self.running = True

    async def reload(self) -> None:
        if not self.running:  # as haproxy's: a reload of a stopped process starts it
            self.running = True
            return
        if self.fail_next_reload:
            self.fail_next_reload = False
            raise ProcessError("[ALERT] cannot bind socket (Address already in use)")

    async def stop(self, timeout: float = 5.0) -> None:
        self.running = False


def _config(text: bytes) -> tuple[list[ConfigFile], str]:
    files = [ConfigFile("haproxy.cfg", text, 0o644)]
    return files, config_hash((f.path, f.content) for f in files)


def test_history_records_applies_and_reloads_and_survives_a_restart(tmp_path):
    process = FailingReload()
    applier = Applier(str(tmp_path), process, history=History.in_dir(str(tmp_path)))
    good, good_hash = _config(b"global\n")
    assert asyncio.run(applier.apply(good, good_hash, "r1")).result == Result.APPLIED
    history = applier.history
    assert (history.last_reload.action, history.last_reload.ok) == ("start", True)
    assert history.last_reload.config_hash == good_hash
    assert history.last_apply.result == "APPLIED" and history.last_failed_reload is None

    process.fail_next_reload = True
    bad, bad_hash = _config(b"global\n# clash\n")
    outcome = asyncio.run(applier.apply(bad, bad_hash, "r2", force=True))
    assert outcome.result == Result.ROLLED_BACK
    failed = history.last_failed_reload
    assert (failed.action, failed.ok, failed.config_hash) == ("reload", False, bad_hash)
    assert "cannot bind" in failed.error
    assert (history.last_reload.action, history.last_reload.ok) == ("rollback", True)
    assert history.last_reload.config_hash == good_hash
    apply = history.last_apply
    assert (apply.result, apply.config_hash, apply.applied_config_hash) == (
        "ROLLED_BACK",
        bad_hash,
        good_hash,
    )
    assert apply.force and apply.renderer_version == "r2" and "cannot bind" in apply.detail

    again = History.in_dir(str(tmp_path))  # what a restarted agent reads
    assert again.last_apply == apply and again.last_failed_reload == failed
    assert again.last_reload == history.last_reload


def test_history_bounds_error_output_and_ignores_a_broken_file(tmp_path):
    history = History.in_dir(str(tmp_path))
    history.record_reload("reload", False, "x" * (MAX_TEXT * 2), "h")
    assert len(history.last_failed_reload.error) == MAX_TEXT
    (tmp_path / "last-operations.json").write_text("{not json")
    assert History.in_dir(str(tmp_path)).last_reload is None
    assert History(None).last_apply is None  # memory only
