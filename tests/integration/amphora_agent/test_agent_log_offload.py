"""The agent's side of log offload: its own records reach syslog receivers on loopback over UDP
and TCP (a TCP receiver that comes up late gets what was queued), local logging can be switched
off, and an engine's output can be kept in memory instead of a file."""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from amphora_agent import log_offload
from amphora_agent.config import parse_settings
from amphora_agent.haproxy import Haproxy, HaproxyError
from amphora_agent.process import LogTail, MemoryLog, process_log
from services.common.log_offload import SyslogTarget
from tests.support.syslog import SyslogReceiver

AMPHORA = "5e5e5e5e-0000-4000-8000-00000000000a"


@pytest.fixture
def logger():
    log = logging.getLogger("amphora_agent.test_log_offload")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()


@pytest.mark.parametrize("protocol", ["udp", "tcp"])
def test_records_reach_every_target(protocol: str, logger: logging.Logger) -> None:
    with SyslogReceiver() as first, SyslogReceiver() as second:
        forwarder = log_offload.SyslogForwarder(
            [SyslogTarget("127.0.0.1", first.port), SyslogTarget("127.0.0.1", second.port)],
            protocol,
            hostname=f"amphora-{AMPHORA}",
        )
        logger.addHandler(forwarder)
        logger.info("applied config %s", "abc123")
        logger.warning("two\nlines")
        for receiver in (first, second):
            info, warning = receiver.wait_for(lambda m: m.transport == protocol, count=2)
            assert (info.facility, info.severity, warning.severity) == (17, 6, 4)
            assert (info.host, info.app) == (f"amphora-{AMPHORA}", "amphora-agent")
            assert info.text == "amphora_agent.test_log_offload: applied config abc123"
            assert warning.text.endswith("two\\nlines")  # one line per message, also over TCP
        assert forwarder.dropped == 0


def test_a_tcp_target_that_comes_up_late_gets_what_was_queued(
    logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_offload, "RETRY_INTERVAL", 0.2)
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))  # a port with nobody listening
        port = placeholder.getsockname()[1]
    forwarder = log_offload.SyslogForwarder(
        [SyslogTarget("127.0.0.1", port)], "tcp", hostname=f"amphora-{AMPHORA}"
    )
    logger.addHandler(forwarder)
    logger.error("while the receiver is away")
    receiver = SyslogReceiver(port=port)
    try:
        logger.error("once it is back")
        found = receiver.wait_for(lambda m: m.transport == "tcp", count=2, timeout=10)
        assert [m.text.split(": ", 1)[1] for m in found] == [
            "while the receiver is away",
            "once it is back",
        ]
    finally:
        receiver.stop()


def test_install_sends_to_targets_and_drops_local_logging(tmp_path: Path) -> None:
    root = logging.getLogger()
    saved = list(root.handlers)
    stderr = logging.StreamHandler(sys.stderr)
    root.addHandler(stderr)
    try:
        with SyslogReceiver() as receiver:
            settings = parse_settings(
                [
                    "--amphora-id", AMPHORA, "--listen", "127.0.0.1:0", "--tls-cert", "c",
                    "--tls-key", "k", "--client-ca", "ca", "--runtime-dir", str(tmp_path),
                    "--heartbeat-target", "127.0.0.1:9", "--heartbeat-key-file", "keys",
                    "--admin-log-target", receiver.address, "--disable-local-log-storage",
                ]
            )  # fmt: skip
            forwarder = log_offload.install(settings)
            assert forwarder is not None
            assert stderr not in root.handlers
            assert not [h for h in root.handlers if isinstance(h, logging.StreamHandler)]
            logging.getLogger("amphora_agent.applier").warning("applied config x")
            (message,) = receiver.wait_for(lambda m: "applied config x" in m.text)
            assert message.host == f"amphora-{AMPHORA}"
            root.removeHandler(forwarder)
            forwarder.close()
    finally:
        root.handlers[:] = saved
        logging.captureWarnings(False)


def test_memory_log_keeps_a_process_output_off_the_disk(tmp_path: Path) -> None:
    path = tmp_path / "engine.log"
    log = process_log(str(path), local=False)
    assert isinstance(log, MemoryLog)
    offset = log.size()
    with log.open() as out:
        proc = subprocess.Popen(
            ["sh", "-c", "echo started; echo '[ALERT] failed' >&2; exit 3"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    assert proc.wait(timeout=10) == 3
    assert log.since(offset) == "started\n[ALERT] failed"
    assert log.since(log.size()) == ""
    assert not path.exists()
    assert isinstance(process_log(str(path), local=True), LogTail)


def test_memory_log_keeps_only_the_last_bytes() -> None:
    log = MemoryLog(limit=10)
    with log.open() as out:
        proc = subprocess.Popen(["printf", "0123456789abcdefghij"], stdout=out)
    proc.wait(timeout=10)
    assert log.since(0) == "abcdefghij"
    assert log.size() == 20
    assert log.since(15) == "fghij"


@pytest.mark.skipif(not shutil.which("haproxy"), reason="haproxy is not installed")
def test_haproxy_without_local_storage_reports_a_failed_start_from_memory() -> None:
    runtime = Path(tempfile.mkdtemp(prefix="lbaas-lo-", dir="/tmp"))  # short: unix sockets
    try:
        (runtime / "conf").mkdir()
        (runtime / "conf" / "haproxy.cfg").write_text("global\n    no-such-keyword\n")
        engine = Haproxy(shutil.which("haproxy") or "haproxy", str(runtime), local_logs=False)
        with pytest.raises(HaproxyError, match="no-such-keyword"):
            asyncio.run(engine.start())
        assert not (runtime / "haproxy.log").exists()
    finally:
        shutil.rmtree(runtime, ignore_errors=True)
