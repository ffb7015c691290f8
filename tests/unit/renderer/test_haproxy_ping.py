"""PING monitors in the haproxy renderer: the global switch, the constant wrapper script and the
per-backend external check lines."""

from __future__ import annotations

import pytest

from services.common.errors import InvalidInput, Precondition
from services.renderer.backends.haproxy import ping
from services.renderer.backends.haproxy.renderer import HaproxyRenderer
from tests.unit.renderer import ping_samples as ps
from tests.unit.renderer import renderer_samples as samples
from tests.unit.renderer.golden_cases import CASES


@pytest.fixture(scope="module")
def renderer() -> HaproxyRenderer:
    return HaproxyRenderer()


def _global(text: str) -> str:
    return text.split("\nglobal\n", 1)[1].split("\n\n", 1)[0]


def _backend(text: str, pool_id: str) -> str:
    return text.split(f"\nbackend {pool_id}\n")[1].split("\n\n")[0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_forking_is_enabled_only_when_a_ping_monitor_is_rendered(renderer, name) -> None:
    lb, materials = CASES[name]
    rendering = renderer.render(lb(), samples.target(), materials())
    text = rendering.files[0].content.decode()
    uses_ping = "option external-check" in text
    assert uses_ping == (name == "ping_monitors.cfg")
    for keyword in ("external-check", "insecure-fork-wanted"):
        assert (f"    {keyword}\n" in _global(text) + "\n") == uses_ping, keyword
    scripts = [f for f in rendering.files if f.path.startswith("ping-wrapper-")]
    assert bool(scripts) == uses_ping


def test_a_disabled_ping_monitor_does_not_enable_forking(renderer) -> None:
    lb = ps.ping_lb()
    for pool in lb.pools:
        pool.healthmonitor.meta.admin_state_up = False
    rendering = renderer.render(lb, samples.target())
    text = rendering.files[0].content.decode()
    assert "external-check" not in text and "insecure-fork-wanted" not in text
    assert [f.path for f in rendering.files] == ["haproxy.cfg"]


def test_one_constant_executable_script_per_timeout(renderer) -> None:
    rendering = renderer.render(ps.ping_lb(), samples.target())
    files = {f.path: f for f in rendering.files}
    assert sorted(files) == ["haproxy.cfg", "ping-wrapper-2s.sh", "ping-wrapper-5s.sh"]
    for path in ("ping-wrapper-2s.sh", "ping-wrapper-5s.sh"):
        assert files[path].content == ping.SCRIPT
        assert files[path].mode == 0o755
    text = files["haproxy.cfg"].content.decode()
    assert "external-check command conf/ping-wrapper-2s.sh\n" in _backend(text, ps.WEB_POOL_ID)
    assert "external-check command conf/ping-wrapper-5s.sh\n" in _backend(text, ps.DB_POOL_ID)
    # Pools with the same timeout share one file.
    lb = ps.ping_lb()
    lb.pools[1].healthmonitor.timeout = 2
    paths = [f.path for f in renderer.render(lb, samples.target()).files]
    assert paths == ["haproxy.cfg", "ping-wrapper-2s.sh"]


def test_the_script_holds_no_user_input(renderer) -> None:
    """Different addresses, ids, names and timeouts: the script's text never changes, and none
    of the graph's values appear in it."""
    lb = ps.ping_lb()
    user_values = [
        lb.meta.id, lb.vip.address, *(p.meta.id for p in lb.pools),
        *(m.address for p in lb.pools for m in p.members),
        *(m.meta.id for p in lb.pools for m in p.members),
        *(p.healthmonitor.meta.name for p in lb.pools), "192.0.2.121",
    ]  # fmt: skip
    contents = {f.content for f in renderer.render(lb, samples.target()).files[1:]}
    other = ps.ping_lb()
    other.pools[0].members[0].address = "198.51.100.7"
    other.pools[0].healthmonitor.timeout = 9
    other.pools[0].meta.id = "7e7e7e7e-0000-4000-8000-000000000001"
    other.listeners[0].default_pool_id = other.pools[0].meta.id
    contents |= {
        f.content for f in renderer.render(other, samples.target(runtime_dir="/run/x")).files[1:]
    }
    assert contents == {ping.SCRIPT}
    script = ping.SCRIPT.decode()
    for value in [*user_values, "198.51.100.7", "/run/x", "/var/lib/lbaas"]:
        assert value not in script, value
    # The address is taken from what haproxy passes, the binary from an absolute lookup.
    assert "${HAPROXY_SERVER_ADDR:-${3:-}}" in script
    assert "ping=$(command -v ping) || exit 4" in script
    assert '-W "$seconds" "$family" -- "$addr"' in script


def test_an_ipv6_member_is_checked_by_the_same_script(renderer) -> None:
    """No per-family variant is rendered: the script picks `ping -6` from the address haproxy
    hands it (exercised for real in tests/integration/renderer/test_haproxy_ping_runtime.py)."""
    lb = ps.ping_lb()
    del lb.pools[0].members[0]  # only the IPv6 member is left in the web pool
    rendering = renderer.render(lb, samples.target())
    text = rendering.files[0].content.decode()
    backend = _backend(text, ps.WEB_POOL_ID)
    assert f"server {ps.MEMBER_IDS[1]} [2001:db8::11]:80 weight 1 check" in backend
    assert "external-check command conf/ping-wrapper-2s.sh" in backend
    script = ping.SCRIPT.decode()
    v6_branch = script.split("    *:*:*)\n", 1)[1].split("\n    *)\n", 1)[0]
    v4_branch = script.split("\n    *)\n", 1)[1].split("\nesac\n", 1)[0]
    assert "family=-6" in v6_branch and "family=-4" not in v6_branch
    assert "family=-4" in v4_branch and "family=-6" not in v4_branch


def test_ping_timeout_is_checked(renderer) -> None:
    lb = ps.ping_lb()
    lb.pools[0].healthmonitor.timeout = 0
    with pytest.raises(InvalidInput) as err:
        renderer.render(lb, samples.target())
    assert err.value.field == f"pool.{ps.WEB_POOL_ID}.healthmonitor.timeout"
    assert ping.wrapper_path(86400, "t") == "ping-wrapper-86400s.sh"
    with pytest.raises(InvalidInput):
        ping.wrapper_path(86401, "t")


def test_ping_needs_haproxy_2_2(renderer) -> None:
    with pytest.raises(Precondition):
        renderer.render(ps.ping_lb(), samples.target(haproxy_version="2.1.12"))
