"""What the agent prepares for workers that drop root: haproxy's chroot directory, search
permission for the workers' group, ping_group_range, the API version it reports, and config
versions the workers may search (on files under a temporary directory; the real processes are in
tests/integration/amphora_agent/test_agent_privileges.py)."""

from __future__ import annotations

import asyncio
import grp
import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest
from lbaas.renderer.v1.renderer_service_pb2 import Target

from amphora_agent import privileges
from amphora_agent.applier import Applier, ConfigFile, Result
from amphora_agent.confighash import config_hash
from amphora_agent.service import API_VERSION, LEGACY_API_VERSION
from services.renderer.backends.haproxy import features as haproxy_features
from services.renderer.backends.nginx import features as nginx_features
from services.renderer.domain.privileges import CHROOT_DIR as RENDERED_CHROOT_DIR
from services.renderer.domain.privileges import drops_root

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="chown needs root")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _haproxy_gid() -> int:
    try:
        return grp.getgrnam("haproxy").gr_gid
    except KeyError:
        pytest.skip("no haproxy group (make system-deps)")


# -- ping_group_range ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "gid", "after", "ok"),
    [
        ("1\t0\n", 105, "105 105\n", True),  # the kernel's default admits nobody: set to the group
        ("0\t2147483647\n", 105, "0\t2147483647\n", True),  # systemd's: already admitted
        ("100 200\n", 105, "100 200\n", True),
        ("1000 1000\n", 105, "1000 1000\n", False),  # an operator's choice is left alone
        ("garbage\n", 105, "garbage\n", False),
    ],
)
def test_ping_group_range_admits_the_group_only_when_it_admitted_nobody(
    tmp_path: Path, before: str, gid: int, after: str, ok: bool
) -> None:
    path = tmp_path / "ping_group_range"
    path.write_text(before)
    assert privileges.allow_ping(gid, str(path)) is ok
    assert path.read_text() == after


def test_an_unreadable_ping_group_range_is_not_fatal(tmp_path: Path) -> None:
    assert privileges.allow_ping(105, str(tmp_path / "missing")) is False


# -- the chroot directory --------------------------------------------------------------------


@needs_root
def test_chroot_is_created_empty_root_owned_0755(tmp_path: Path) -> None:
    chroot = tmp_path / "chroot"
    old = os.umask(0o077)  # mkdir's mode is masked by the umask: the mode must not depend on it
    try:
        privileges.ensure_chroot(str(chroot))
    finally:
        os.umask(old)
    assert chroot.is_dir() and not chroot.is_symlink()
    assert (chroot.stat().st_uid, chroot.stat().st_gid, _mode(chroot)) == (0, 0, 0o755)
    assert list(chroot.iterdir()) == []


@needs_root
def test_whatever_sits_at_the_chroot_path_becomes_an_empty_directory(tmp_path: Path) -> None:
    chroot = tmp_path / "chroot"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep").write_text("x")
    chroot.symlink_to(elsewhere)  # never chroot through a link
    privileges.ensure_chroot(str(chroot))
    assert chroot.is_dir() and not chroot.is_symlink() and list(chroot.iterdir()) == []
    assert (elsewhere / "keep").exists()  # the link's target is not touched

    (chroot / "bin").mkdir()
    (chroot / "bin" / "sh").write_text("#!")
    os.chmod(chroot, 0o777)
    os.chown(chroot, 1, 1)
    privileges.ensure_chroot(str(chroot))
    assert list(chroot.iterdir()) == []
    assert (chroot.stat().st_uid, chroot.stat().st_gid, _mode(chroot)) == (0, 0, 0o755)

    chroot.rmdir()
    chroot.write_text("a file")
    privileges.ensure_chroot(str(chroot))
    assert chroot.is_dir() and list(chroot.iterdir()) == []


# -- search permission -----------------------------------------------------------------------


@needs_root
def test_the_group_gets_search_only(tmp_path: Path) -> None:
    run_dir = tmp_path / "amp"
    run_dir.mkdir(mode=0o770)
    os.chmod(run_dir, 0o770)
    privileges.grant_search(str(run_dir), 105)
    assert run_dir.stat().st_gid == 105
    assert _mode(run_dir) == 0o710  # no listing, no writing: only names it knows


def test_unreachable_names_the_first_directory_the_user_cannot_search(tmp_path: Path) -> None:
    nobody = 65534
    # pytest's own directories are 0700: the first of them blocks.
    blocked = privileges.unreachable(str(tmp_path), nobody, nobody)
    assert blocked is not None and str(tmp_path).startswith(blocked)
    top = Path(tempfile.mkdtemp(dir="/tmp"))  # /tmp is searchable by anyone
    try:
        inner = top / "outer" / "inner"
        inner.mkdir(parents=True)
        for path, mode in ((top, 0o755), (inner.parent, 0o700), (inner, 0o755)):
            os.chmod(path, mode)
        assert privileges.unreachable(str(inner), nobody, nobody) == str(inner.parent)
        os.chmod(inner.parent, 0o711)
        assert privileges.unreachable(str(inner), nobody, nobody) is None
    finally:
        shutil.rmtree(top)


# -- prepare ---------------------------------------------------------------------------------


def test_an_agent_that_is_not_root_prepares_nothing(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(privileges.os, "geteuid", lambda: 1000)
    assert privileges.prepare("haproxy", str(tmp_path)) is None
    assert not (tmp_path / "chroot").exists()


@needs_root
def test_a_missing_user_prepares_nothing(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(privileges.USERS, "haproxy", ("lbaas-no-such-user", "lbaas-no-such"))
    assert privileges.prepare("haproxy", str(tmp_path)) is None
    assert not (tmp_path / "chroot").exists()


@needs_root
def test_haproxy_gets_a_chroot_search_permission_and_the_ping_range(tmp_path: Path) -> None:
    gid = _haproxy_gid()
    run_dir = tmp_path / "amp"
    run_dir.mkdir(mode=0o700)
    ping_range = tmp_path / "ping_group_range"
    ping_range.write_text("1\t0\n")
    workers = privileges.prepare("haproxy", str(run_dir), str(ping_range))
    assert workers is not None
    assert (workers.user, workers.gid, workers.reads_conf) == ("haproxy", gid, True)
    assert workers.uid != 0 and workers.chroot == str(run_dir / "chroot")
    assert (run_dir / "chroot").is_dir() and _mode(run_dir / "chroot") == 0o755
    assert (run_dir.stat().st_gid, _mode(run_dir)) == (gid, 0o710)
    assert ping_range.read_text() == f"{gid} {gid}\n"


@needs_root
def test_nginx_gets_search_permission_and_no_chroot(tmp_path: Path) -> None:
    try:
        gid = grp.getgrnam("www-data").gr_gid
    except KeyError:
        pytest.skip("no www-data group")
    run_dir = tmp_path / "amp"
    run_dir.mkdir(mode=0o700)
    workers = privileges.prepare("nginx", str(run_dir))
    assert workers is not None and workers.user == "www-data" and workers.chroot is None
    assert not workers.reads_conf
    assert not (run_dir / "chroot").exists()
    assert (run_dir.stat().st_gid, _mode(run_dir)) == (gid, 0o710)


def test_the_renderer_names_the_users_exactly_for_agents_that_prepared_them() -> None:
    """The contract between agent and renderer (neither imports the other): the API version
    that switches the directives on, and the user and group names."""
    for backend, features in (("haproxy", haproxy_features), ("nginx", nginx_features)):
        assert privileges.USERS[backend] == (features.WORKER_USER, features.WORKER_GROUP)
    assert drops_root(Target(agent_api_version=API_VERSION))
    assert not drops_root(Target(agent_api_version=LEGACY_API_VERSION))
    assert privileges.CHROOT_DIR == RENDERED_CHROOT_DIR


# -- config versions the workers may search --------------------------------------------------


class FakeProcess:
    main_file = "haproxy.cfg"
    running = False

    async def validate(self, cfg_path: str, cwd: str) -> tuple[bool, str]:
        return True, ""

    def stop_stale(self) -> None:
        pass

    async def start(self) -> None:
        self.running = True

    async def reload(self) -> None:
        self.running = True

    async def stop(self, timeout: float = 5.0) -> None:
        self.running = False


@needs_root
@pytest.mark.parametrize("search_gid", [None, 105])
def test_config_versions_are_searchable_by_the_workers_group_and_certs_stay_root(
    tmp_path: Path, search_gid: int | None
) -> None:
    files = [
        ConfigFile("haproxy.cfg", b"global\n", 0o644),
        ConfigFile("ping-wrapper-5s.sh", b"#!/bin/sh\n", 0o755),
        ConfigFile("certs/a.pem", b"key", 0o600),
    ]
    digest = config_hash((f.path, f.content) for f in files)
    applier = Applier(str(tmp_path), FakeProcess(), search_gid=search_gid)
    outcome = asyncio.run(applier.apply(files, digest, "haproxy-1.6.0"))
    assert outcome.result == Result.APPLIED
    version = (tmp_path / "conf").resolve()
    configs = tmp_path / "configs"
    certs = version / "certs"
    if search_gid is None:
        assert _mode(version) == 0o700 and version.stat().st_gid == 0
    else:
        for directory in (configs, version):
            assert (directory.stat().st_gid, _mode(directory)) == (search_gid, 0o710)
    assert (certs.stat().st_gid, _mode(certs)) == (0, 0o700)
    assert _mode(certs / "a.pem") == 0o600
    assert _mode(version / "ping-wrapper-5s.sh") == 0o755
