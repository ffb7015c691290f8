"""Workers that drop root: haproxy's user/group/chroot and nginx's user, rendered only for agents
that prepare for them (API 1.1), and byte-for-byte the previous output for older agents."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.errors import InvalidInput
from services.renderer.backends.haproxy.renderer import HaproxyRenderer
from services.renderer.backends.nginx.renderer import NginxRenderer
from tests.unit.renderer import nginx_samples, ping_samples
from tests.unit.renderer import renderer_samples as samples
from tests.unit.renderer.golden_cases import CASES

HERE = Path(__file__).parent
RUNTIME = "/var/lib/lbaas/run"
RUN_AS_CHROOT = f"    user haproxy\n    group haproxy\n    chroot {RUNTIME}/chroot\n"
RUN_AS_NO_CHROOT = "    user haproxy\n    group haproxy\n"
NGINX_USER = "user www-data www-data;\n"
OLDER_AGENTS = ["", "1.0", "1.0.9", "0.9"]


def _haproxy_cfg(name: str, **target: str) -> str:
    lb, materials = CASES[name]
    rendering = HaproxyRenderer().render(lb(), samples.target(**target), materials())
    return rendering.files[0].content.decode()


def _global(text: str) -> list[str]:
    return text.split("\nglobal\n", 1)[1].split("\n\n", 1)[0].splitlines()


@pytest.mark.parametrize("name", sorted(CASES))
def test_haproxy_workers_drop_root_and_are_chrooted_unless_a_ping_check_runs(name: str) -> None:
    lines = _global(_haproxy_cfg(name))
    assert lines[2:4] == ["    user haproxy", "    group haproxy"]
    chroot = [line for line in lines if line.lstrip().startswith("chroot")]
    if name == "ping_monitors.cfg":
        # The check execs conf/ping-wrapper-*.sh and ping: neither is inside an empty chroot.
        assert chroot == [] and "    external-check" in lines
    else:
        assert chroot == [f"    chroot {RUNTIME}/chroot"]
        assert "    external-check" not in lines


def test_a_disabled_ping_monitor_keeps_the_chroot() -> None:
    lb = ping_samples.ping_lb()
    for pool in lb.pools:
        pool.healthmonitor.meta.admin_state_up = False
    text = HaproxyRenderer().render(lb, samples.target()).files[0].content.decode()
    assert f"    chroot {RUNTIME}/chroot" in _global(text)


def test_later_agent_api_versions_drop_root_too() -> None:
    for version in ("1.1.0", "1.2", "2.0"):
        text = _haproxy_cfg("full.cfg", agent_api_version=version)
        assert RUN_AS_CHROOT in text, version


@pytest.mark.parametrize("version", OLDER_AGENTS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_older_agents_get_the_previous_haproxy_config_byte_for_byte(name: str, version: str):
    """The golden files are rendered for this release's agent; an older agent (or one that could
    not prepare) gets them without the three lines, so a roll pushes nothing new to it."""
    golden = (HERE / "golden" / name).read_text()
    removed = RUN_AS_NO_CHROOT if name == "ping_monitors.cfg" else RUN_AS_CHROOT
    assert removed in golden
    assert _haproxy_cfg(name, agent_api_version=version) == golden.replace(removed, "", 1)


def test_a_malformed_agent_api_version_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as err:
        _haproxy_cfg("empty.cfg", agent_api_version="one.one")
    assert err.value.field == "target.agent_api_version"


def test_the_chroot_does_not_shorten_the_longest_runtime_dir() -> None:
    """The runtime dir keeps its limit (socket paths); the chroot line is not another path
    checked against it."""
    longest = "/" + "r" * 92
    text = _haproxy_cfg("empty.cfg", runtime_dir=longest)
    assert f"    chroot {longest}/chroot" in _global(text)


# -- nginx -----------------------------------------------------------------------------------


def _nginx_conf(lb, **target: str) -> str:
    rendering = NginxRenderer().render(
        lb, nginx_samples.target(**target), nginx_samples.tls_materials()
    )
    return rendering.files[0].content.decode()


def test_nginx_workers_run_as_www_data_in_the_main_context() -> None:
    text = _nginx_conf(nginx_samples.http_lb())
    main = text.split("\nevents {", 1)[0]
    assert main.endswith(f"notice;\n{NGINX_USER}worker_processes auto;\n")
    assert text.count("\nuser ") == 1


@pytest.mark.parametrize("version", OLDER_AGENTS)
@pytest.mark.parametrize(
    ("golden", "lb"),
    [
        ("empty.conf", nginx_samples.empty_lb),
        ("http.conf", nginx_samples.http_lb),
        ("tls_sni.conf", nginx_samples.tls_lb),
        ("l7.conf", nginx_samples.l7_lb),
        ("stream.conf", nginx_samples.stream_lb),
    ],
)
def test_older_agents_get_the_previous_nginx_config_byte_for_byte(golden, lb, version) -> None:
    """As for haproxy: the golden files without the user line (nginx's workers then run as its
    default user, nobody, as before)."""
    expected = (HERE / "golden_nginx" / golden).read_text()
    assert NGINX_USER in expected
    assert _nginx_conf(lb(), agent_api_version=version) == expected.replace(NGINX_USER, "", 1)
