"""What the nginx agent reports: parsed from the lbaas-* lines the nginx renderer writes."""

from __future__ import annotations

from amphora_agent.config import parse_settings
from amphora_agent.nginx import parse_manifest
from amphora_agent.service import CAPABILITIES, NGINX_CAPABILITIES
from services.renderer.backends.nginx.renderer import NginxRenderer
from tests.unit.renderer import nginx_samples as samples

M = samples.MEMBER_IDS


def _rendered(lb) -> str:
    rendering = NginxRenderer().render(lb, samples.target(), samples.tls_materials())
    return rendering.files[0].content.decode()


def test_listeners_open_members_without_checks_and_draining() -> None:
    snapshot = parse_manifest(_rendered(samples.http_lb()))
    assert [(fe.name, fe.status) for fe in snapshot.frontends] == [
        (samples.HTTP_LISTENER_ID, "OPEN")
    ]
    assert snapshot.frontends[0].total_connections == 0  # nginx has no per-listener counter
    (pool,) = snapshot.pools
    assert pool.name == samples.WEB_POOL_ID and pool.status == "UP"
    # Admin-down member 2 is left to the health service (OFFLINE from the graph).
    assert {m.name: m.status for m in pool.members} == {
        M[0]: "no check",
        M[1]: "DRAIN",
        M[3]: "no check",
    }


def test_disabled_listeners_and_pools_are_not_reported() -> None:
    snapshot = parse_manifest(_rendered(samples.stream_lb()))
    assert samples.OFF_LISTENER_ID not in {fe.name for fe in snapshot.frontends}
    assert samples.EMPTY_POOL_ID not in {p.name for p in snapshot.pools}
    assert parse_manifest("# lbaas-listener not-an-id\n# lbaas-member x y z\n").frontends == ()


def test_backend_flag_and_capabilities() -> None:
    base = ["--amphora-id", "a", "--listen", "127.0.0.1:0", "--tls-cert", "c", "--tls-key", "k",
            "--client-ca", "ca", "--runtime-dir", "/tmp/x", "--heartbeat-target", "127.0.0.1:1",
            "--heartbeat-key-file", "h"]  # fmt: skip
    settings = parse_settings([*base, "--backend", "nginx", "--nginx-bin", "/opt/nginx"])
    assert settings.backend == "nginx" and settings.nginx_bin == "/opt/nginx"
    assert parse_settings(base).backend == "haproxy"
    assert "apply-force" in CAPABILITIES and "apply-force" in NGINX_CAPABILITIES
    assert "server-state-preserve" not in NGINX_CAPABILITIES
