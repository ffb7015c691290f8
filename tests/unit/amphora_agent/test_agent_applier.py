"""The applier against a fake process: forced re-apply, a new renderer version recorded without a
reload, and the main file each backend needs."""

from __future__ import annotations

import asyncio

import pytest

from amphora_agent.applier import Applier, ConfigFile, RequestError, Result
from amphora_agent.confighash import config_hash


class FakeProcess:
    def __init__(self, main_file: str = "nginx.conf") -> None:
        self.main_file = main_file
        self.running = False
        self.calls: list[str] = []
        self.valid = True

    async def validate(self, cfg_path: str, cwd: str) -> tuple[bool, str]:
        self.calls.append("validate")
        return self.valid, "" if self.valid else "bad directive"

    def stop_stale(self) -> None:
        self.calls.append("stop_stale")

    async def start(self) -> None:
        self.calls.append("start")
        self.running = True

    async def reload(self) -> None:
        self.calls.append("reload")
        self.running = True

    async def stop(self, timeout: float = 5.0) -> None:
        self.calls.append("stop")
        self.running = False


def _files(text: bytes = b"events {}\n") -> tuple[list[ConfigFile], str]:
    files = [ConfigFile("nginx.conf", text, 0o644), ConfigFile("certs/a.pem", b"k", 0o600)]
    return files, config_hash((f.path, f.content) for f in files)


def _apply(applier: Applier, files, digest, version="nginx-1.0.0", force=False):
    return asyncio.run(applier.apply(files, digest, version, force=force))


def test_unchanged_hash_records_a_new_renderer_version_without_reloading(tmp_path) -> None:
    process = FakeProcess()
    applier = Applier(str(tmp_path), process)
    files, digest = _files()
    assert _apply(applier, files, digest).result == Result.APPLIED
    assert applier.applied_renderer_version == "nginx-1.0.0"
    process.calls.clear()

    outcome = _apply(applier, files, digest, version="nginx-1.0.1")
    assert outcome.result == Result.UNCHANGED and process.calls == []
    assert applier.applied_renderer_version == "nginx-1.0.1"
    assert applier.applied().renderer_version == "nginx-1.0.1"
    assert applier.applied_hash == digest


def test_force_validates_swaps_and_reloads_the_same_hash(tmp_path) -> None:
    process = FakeProcess()
    applier = Applier(str(tmp_path), process)
    files, digest = _files()
    _apply(applier, files, digest)
    before = (tmp_path / "conf").readlink()
    process.calls.clear()

    outcome = _apply(applier, files, digest, force=True)
    assert outcome.result == Result.APPLIED and outcome.applied_hash == digest
    assert process.calls == ["validate", "reload"]
    assert (tmp_path / "conf").readlink() != before  # a fresh copy was swapped in
    assert (tmp_path / "conf" / "certs" / "a.pem").read_bytes() == b"k"
    assert oct((tmp_path / "conf" / "certs" / "a.pem").stat().st_mode & 0o777) == "0o600"

    process.valid = False
    outcome = _apply(applier, files, digest, force=True)
    assert outcome.result == Result.INVALID and outcome.detail == "bad directive"
    assert (tmp_path / "conf").exists() and applier.applied_hash == digest


def test_the_backend_names_the_main_file(tmp_path) -> None:
    applier = Applier(str(tmp_path), FakeProcess("nginx.conf"))
    haproxy_files = [ConfigFile("haproxy.cfg", b"global\n")]
    with pytest.raises(RequestError, match="must contain nginx.conf"):
        _apply(applier, haproxy_files, config_hash([("haproxy.cfg", b"global\n")]))
    # The static check keeps its haproxy default for existing callers.
    Applier.check_request(haproxy_files, config_hash([("haproxy.cfg", b"global\n")]))
