"""Runtime plans of the haproxy renderer: member changes as haproxy runtime-API commands, and no
plan whenever anything but members changed (services/renderer/backends/haproxy/runtime_plan.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from lbaas.common.v1 import graph_pb2, runtime_pb2
from lbaas.renderer.v1 import renderer_service_pb2 as pb

from services.renderer.backends.haproxy import runtime_plan
from services.renderer.backends.haproxy.renderer import HaproxyRenderer
from services.renderer.backends.nginx.renderer import NginxRenderer
from services.renderer.domain.ports import RenderedFile, Rendering, RuntimePlanner
from services.renderer.handlers.renderer import RendererServicer
from tests.unit.renderer import nginx_samples, ping_samples, tls_samples
from tests.unit.renderer import renderer_samples as samples

HTTP_POOL = samples.HTTP_POOL_ID
NEW_ID = "3c3c3c3c-0000-4000-8000-0000000000aa"
M = samples.MEMBER_IDS


@pytest.fixture(scope="module")
def renderer() -> HaproxyRenderer:
    return HaproxyRenderer()


def _pool(lb: graph_pb2.LoadBalancer, pool_id: str) -> graph_pb2.Pool:
    return next(pool for pool in lb.pools if pool.meta.id == pool_id)


def _member(pool: graph_pb2.Pool, member_id: str) -> graph_pb2.Member:
    return next(member for member in pool.members if member.meta.id == member_id)


def _plan(
    renderer: HaproxyRenderer,
    change: Callable[[graph_pb2.LoadBalancer], None],
    lb: Callable[[], graph_pb2.LoadBalancer] = samples.full_lb,
    materials: Callable[[], list[pb.TlsMaterial]] = list,
    new_materials: Callable[[], list[pb.TlsMaterial]] | None = None,
    target: pb.Target | None = None,
) -> tuple[runtime_pb2.RuntimePlan | None, Rendering, Rendering]:
    """(plan, applied rendering, new rendering) for the change of the sample graph."""
    target = target or samples.target()
    before = renderer.render(lb(), target, materials())
    graph = lb()
    change(graph)
    after = renderer.render(graph, target, (new_materials or materials)())
    return renderer.runtime_plan(after, before.files, target), before, after


def _add_http_member(lb: graph_pb2.LoadBalancer, **fields) -> None:
    values = {"address": "192.0.2.99", "protocol_port": 8081, "weight": 3, **fields}
    up = values.pop("up", True)
    _pool(lb, HTTP_POOL).members.append(
        graph_pb2.Member(meta=samples.meta(NEW_ID, up=up), **values)
    )


def _state(backend: str, server: str, **fields) -> runtime_pb2.ServerState:
    return runtime_pb2.ServerState(backend=backend, server=server, **fields)


def test_added_member(renderer: HaproxyRenderer) -> None:
    plan, before, _ = _plan(renderer, _add_http_member)
    target = f"{HTTP_POOL}/{NEW_ID}"
    assert list(plan.commands) == [
        f"add server {target} 192.0.2.99:8081 weight 3 check inter 5s fall 4 rise 2",
        f"enable health {target}",
        f"set server {target} state ready",
    ]
    assert list(plan.expected) == [
        _state(HTTP_POOL, NEW_ID, present=True, address="192.0.2.99", port=8081, weight=3)
    ]
    assert plan.from_config_hash == before.config_hash


def test_added_member_admin_down_monitor_address_backup_ipv6(renderer: HaproxyRenderer) -> None:
    plan, _, after = _plan(
        renderer,
        lambda lb: _add_http_member(
            lb,
            address="2001:DB8::0:99",
            up=False,
            backup=True,
            monitor_address="2001:db8::199",
            monitor_port=9001,
        ),
    )
    target = f"{HTTP_POOL}/{NEW_ID}"
    line = (
        f"server {NEW_ID} [2001:db8::99]:8081 weight 3 check inter 5s fall 4 rise 2 "
        "addr [2001:db8::199] port 9001 backup disabled"
    )
    assert line in after.files[0].content.decode()
    # The same keywords as the server line; an admin-down member stays in maintenance.
    assert list(plan.commands) == [
        f"add {line.replace(NEW_ID, target, 1)}",
        f"enable health {target}",
    ]
    assert list(plan.expected) == [
        _state(HTTP_POOL, NEW_ID, present=True, address="2001:db8::99", port=8081, weight=3,
               maintenance=True)
    ]  # fmt: skip


def test_removed_member(renderer: HaproxyRenderer) -> None:
    plan, _, _ = _plan(renderer, lambda lb: _pool(lb, HTTP_POOL).members.pop(0))
    target = f"{HTTP_POOL}/{M[0]}"
    assert list(plan.commands) == [
        f"set server {target} state maint",
        f"shutdown sessions server {target}",
        f"del server {target}",
    ]
    assert list(plan.expected) == [_state(HTTP_POOL, M[0], present=False)]


def test_weight_change(renderer: HaproxyRenderer) -> None:
    plan, _, _ = _plan(renderer, lambda lb: setattr(_pool(lb, HTTP_POOL).members[0], "weight", 0))
    assert list(plan.commands) == [f"set server {HTTP_POOL}/{M[0]} weight 0"]
    assert list(plan.expected) == [
        _state(HTTP_POOL, M[0], present=True, address="192.0.2.11", port=8080, weight=0)
    ]


def test_admin_down_and_up(renderer: HaproxyRenderer) -> None:
    def change(lb: graph_pb2.LoadBalancer) -> None:
        pool = _pool(lb, HTTP_POOL)
        _member(pool, M[0]).meta.admin_state_up = False
        _member(pool, M[3]).meta.admin_state_up = True

    plan, _, _ = _plan(renderer, change)
    assert list(plan.commands) == [
        f"set server {HTTP_POOL}/{M[0]} state maint",
        f"set server {HTTP_POOL}/{M[3]} state ready",
    ]
    assert [(s.server, s.maintenance, s.weight) for s in plan.expected] == [
        (M[0], True, 10),
        (M[3], False, 256),
    ]


def test_address_and_port_change(renderer: HaproxyRenderer) -> None:
    def change(lb: graph_pb2.LoadBalancer) -> None:
        member = _member(_pool(lb, HTTP_POOL), M[2])
        member.address, member.protocol_port = "2001:db8::abcd", 8443

    plan, _, _ = _plan(renderer, change)
    assert list(plan.commands) == [f"set server {HTTP_POOL}/{M[2]} addr 2001:db8::abcd port 8443"]
    assert list(plan.expected) == [
        _state(HTTP_POOL, M[2], present=True, address="2001:db8::abcd", port=8443, weight=1)
    ]


def test_one_change_of_many_kinds_is_one_ordered_plan(renderer: HaproxyRenderer) -> None:
    """Additions first, removals last (a replaced member never leaves the pool empty); a member
    going down is put in maintenance before its other settings change, one coming up after."""

    def change(lb: graph_pb2.LoadBalancer) -> None:
        pool = _pool(lb, HTTP_POOL)
        _add_http_member(lb)
        _member(pool, M[3]).meta.admin_state_up = True
        _member(pool, M[3]).weight = 7
        _member(pool, M[0]).meta.admin_state_up = False
        _member(pool, M[0]).protocol_port = 8088
        pool.members.remove(_member(pool, M[1]))

    plan, _, _ = _plan(renderer, change)
    b = HTTP_POOL
    assert [c.split(" 192.0.2.99")[0] for c in plan.commands] == [
        f"add server {b}/{NEW_ID}", f"enable health {b}/{NEW_ID}",
        f"set server {b}/{NEW_ID} state ready",
        f"set server {b}/{M[0]} state maint", f"set server {b}/{M[0]} addr 192.0.2.11 port 8088",
        f"set server {b}/{M[3]} weight 7", f"set server {b}/{M[3]} state ready",
        f"set server {b}/{M[1]} state maint", f"shutdown sessions server {b}/{M[1]}",
        f"del server {b}/{M[1]}",
    ]  # fmt: skip
    assert [(s.server, s.present) for s in plan.expected] == [
        (NEW_ID, True), (M[0], True), (M[3], True), (M[1], False),
    ]  # fmt: skip


def test_a_thousand_members_added_is_one_plan(renderer: HaproxyRenderer) -> None:
    def change(lb: graph_pb2.LoadBalancer) -> None:
        pool = _pool(lb, samples.TCP_POOL_ID)
        for i in range(1000):
            pool.members.append(
                graph_pb2.Member(
                    meta=samples.meta(f"5f5f5f5f-0000-4000-8000-{i:012d}"),
                    address=f"10.0.{i // 250}.{i % 250 + 1}",
                    protocol_port=5432,
                    weight=1,
                )
            )

    started = time.perf_counter()
    plan, _, _ = _plan(renderer, change)
    elapsed = time.perf_counter() - started
    assert len(plan.commands) == 3000
    assert len(plan.expected) == 1000
    assert plan.commands[0] == (
        f"add server {samples.TCP_POOL_ID}/5f5f5f5f-0000-4000-8000-000000000000 10.0.0.1:5432 "
        "weight 1 check inter 10s fall 3 rise 3"
    )
    assert len({s.server for s in plan.expected}) == 1000
    assert elapsed < 10, elapsed  # two renders and the diff; generous for slow machines


def test_reencrypting_pool_repeats_default_server_keywords(renderer: HaproxyRenderer) -> None:
    """Dynamic servers take nothing from default-server: the command carries its keywords."""

    def change(lb: graph_pb2.LoadBalancer) -> None:
        _pool(lb, tls_samples.REENC_POOL_ID).members.append(
            graph_pb2.Member(
                meta=samples.meta(NEW_ID), address="192.0.2.33", protocol_port=8443, weight=1
            )
        )

    plan, _, after = _plan(renderer, change, tls_samples.reencrypt_lb, tls_samples.materials)
    text = after.files[0].content.decode()
    default_server = text.split("    default-server ")[1].split("\n")[0]
    assert default_server.startswith("ssl crt conf/certs/")
    assert plan.commands[0] == (
        f"add server {tls_samples.REENC_POOL_ID}/{NEW_ID} 192.0.2.33:8443 {default_server} "
        "weight 1 check check-ssl inter 2s fall 2 rise 2"
    )


def _no_plan(plan: runtime_pb2.RuntimePlan | None) -> None:
    assert plan is None


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda lb: setattr(lb.listeners[1], "protocol_port", 8080), id="listener-port"
        ),
        pytest.param(
            lambda lb: setattr(lb.listeners[0], "timeout_client_data", 1), id="listener-timeout"
        ),
        pytest.param(
            lambda lb: setattr(_pool(lb, HTTP_POOL), "lb_algorithm", "LEAST_CONNECTIONS"),
            id="pool-algorithm",
        ),
        pytest.param(
            # Changes only the inter of every server line: a delete and add of each member would
            # shut their connections, a reload does not.
            lambda lb: setattr(_pool(lb, HTTP_POOL).healthmonitor, "delay", 7),
            id="monitor-delay",
        ),
        pytest.param(
            lambda lb: setattr(_pool(lb, HTTP_POOL).healthmonitor, "url_path", "/x"),
            id="monitor-path",
        ),
        pytest.param(
            lambda lb: setattr(_pool(lb, HTTP_POOL).meta, "admin_state_up", False),
            id="pool-admin-down",
        ),
        pytest.param(
            lambda lb: setattr(_pool(lb, HTTP_POOL).members[0], "backup", True), id="backup"
        ),
        pytest.param(
            lambda lb: setattr(_pool(lb, HTTP_POOL).members[0], "monitor_port", 9999),
            id="monitor-port",
        ),
        pytest.param(
            lambda lb: setattr(_pool(lb, HTTP_POOL).members[1], "monitor_address", "192.0.2.7"),
            id="monitor-address",
        ),
        pytest.param(
            lambda lb: (
                _add_http_member(lb),
                setattr(lb.listeners[1], "connection_limit", 10),
            ),
            id="member-and-listener",
        ),
    ],
)
def test_no_plan_when_more_than_members_change(renderer: HaproxyRenderer, change) -> None:
    plan, before, after = _plan(renderer, change)
    assert before.files[0].content != after.files[0].content
    _no_plan(plan)


def test_no_plan_when_a_certificate_changes(renderer: HaproxyRenderer) -> None:
    def swapped() -> list[pb.TlsMaterial]:
        items = tls_samples.materials()
        other = next(m for m in items if m.ref == tls_samples.SNI_A_REF)
        for item in items:
            if item.ref == tls_samples.BACKEND_CLIENT_REF:
                item.certificate_pem = other.certificate_pem
                item.private_key_pem = other.private_key_pem
        return items

    def change(lb: graph_pb2.LoadBalancer) -> None:
        _member(_pool(lb, tls_samples.REENC_POOL_ID), tls_samples.MEMBER_IDS[2]).weight = 9

    plan, before, after = _plan(
        renderer, change, tls_samples.reencrypt_lb, tls_samples.materials, swapped
    )
    assert before.files[0].content != after.files[0].content
    _no_plan(plan)
    # The same member change without the certificate change has a plan.
    plan, _, _ = _plan(renderer, change, tls_samples.reencrypt_lb, tls_samples.materials)
    assert plan is not None and len(plan.commands) == 1


def test_cookie_pool_adds_are_refused_but_other_changes_are_not(renderer: HaproxyRenderer) -> None:
    """haproxy 2.6: "'cookie' option is not accepted for dynamic server"."""
    pool_id = samples.WEB_POOL_ID

    def add(lb: graph_pb2.LoadBalancer) -> None:
        _pool(lb, pool_id).members.append(
            graph_pb2.Member(
                meta=samples.meta(NEW_ID), address="192.0.2.33", protocol_port=80, weight=1
            )
        )

    _no_plan(_plan(renderer, add, samples.l7_lb)[0])
    plan, _, _ = _plan(
        renderer, lambda lb: setattr(_pool(lb, pool_id).members[0], "weight", 4), samples.l7_lb
    )
    assert list(plan.commands) == [f"set server {pool_id}/{samples.L7_MEMBER_IDS[0]} weight 4"]
    plan, _, _ = _plan(renderer, lambda lb: _pool(lb, pool_id).members.pop(0), samples.l7_lb)
    assert plan.commands[-1] == f"del server {pool_id}/{samples.L7_MEMBER_IDS[0]}"


def test_source_ip_pool_takes_removals_states_and_addresses_only(
    renderer: HaproxyRenderer,
) -> None:
    """`balance source` (map-based hash) refuses dynamic servers and weights but 0% and 100%."""
    pool_id = samples.ORPHAN_POOL_ID

    def member(lb: graph_pb2.LoadBalancer) -> graph_pb2.Member:
        return _pool(lb, pool_id).members[0]

    def add(lb: graph_pb2.LoadBalancer) -> None:
        _pool(lb, pool_id).members.append(
            graph_pb2.Member(meta=samples.meta(NEW_ID), address="2001:db8::22", protocol_port=443)
        )

    _no_plan(_plan(renderer, add, samples.source_ip_lb)[0])
    _no_plan(_plan(renderer, lambda lb: setattr(member(lb), "weight", 5), samples.source_ip_lb)[0])
    plan, _, _ = _plan(
        renderer, lambda lb: setattr(member(lb).meta, "admin_state_up", False), samples.source_ip_lb
    )
    assert list(plan.commands) == [f"set server {pool_id}/{M[0]} state maint"]
    plan, _, _ = _plan(
        renderer, lambda lb: setattr(member(lb), "address", "2001:db8::23"), samples.source_ip_lb
    )
    assert list(plan.commands) == [f"set server {pool_id}/{M[0]} addr 2001:db8::23 port 443"]


def test_ping_pool_adds_are_refused(renderer: HaproxyRenderer) -> None:
    """haproxy 2.6.12 kills its worker when a second dynamic server with check joins a backend
    with external checks."""

    def add(lb: graph_pb2.LoadBalancer) -> None:
        _pool(lb, ping_samples.WEB_POOL_ID).members.append(ping_samples.member(3, "192.0.2.13"))

    _no_plan(_plan(renderer, add, ping_samples.ping_lb)[0])
    plan, _, _ = _plan(
        renderer,
        lambda lb: _pool(lb, ping_samples.WEB_POOL_ID).members.pop(1),
        ping_samples.ping_lb,
    )
    assert (
        plan.commands[-1] == f"del server {ping_samples.WEB_POOL_ID}/{ping_samples.MEMBER_IDS[1]}"
    )


def test_no_plan_for_haproxy_older_than_2_6(renderer: HaproxyRenderer) -> None:
    _no_plan(_plan(renderer, _add_http_member, target=samples.target(haproxy_version="2.4.22"))[0])
    assert _plan(renderer, _add_http_member, target=samples.target(haproxy_version="2.6.0"))[0]


def test_no_plan_without_applied_files_or_without_change(renderer: HaproxyRenderer) -> None:
    target = samples.target()
    rendering = renderer.render(samples.full_lb(), target)
    assert renderer.runtime_plan(rendering, (), target) is None
    assert renderer.runtime_plan(rendering, rendering.files, target) is None


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda files: files[1:], id="no-haproxy.cfg"),
        pytest.param(
            lambda files: [RenderedFile("haproxy.cfg", b"\xff\xfe", 0o644), *files[1:]],
            id="not-utf8",
        ),
        pytest.param(
            lambda files: [
                RenderedFile(
                    "haproxy.cfg",
                    files[0].content.replace(b" weight 10 ", b" weight 10 frobnicate "),
                    0o644,
                ),
                *files[1:],
            ],
            id="unknown-keyword",
        ),
        pytest.param(
            lambda files: [
                RenderedFile(
                    "haproxy.cfg", files[0].content.replace(b"192.0.2.11:8080", b"host:80"), 0o644
                ),
                *files[1:],
            ],
            id="not-an-address",
        ),
        pytest.param(
            lambda files: [*files, RenderedFile("extra.pem", b"x", 0o600)], id="extra-file"
        ),
        pytest.param(lambda files: [files[0], files[0]], id="duplicate-path"),
        pytest.param(
            lambda files: [RenderedFile("haproxy.cfg", files[0].content, 0o600), *files[1:]],
            id="mode",
        ),
    ],
)
def test_no_plan_when_the_applied_files_cannot_be_read(renderer: HaproxyRenderer, spoil) -> None:
    target = samples.target()
    applied = list(renderer.render(samples.full_lb(), target).files)
    graph = samples.full_lb()
    _add_http_member(graph)
    assert renderer.runtime_plan(renderer.render(graph, target), spoil(applied), target) is None


def test_from_config_hash_is_the_applied_render_config_hash(renderer: HaproxyRenderer) -> None:
    """Computed exactly as RenderResponse.config_hash, companion files included."""

    def change(lb: graph_pb2.LoadBalancer) -> None:
        _member(_pool(lb, tls_samples.REENC_POOL_ID), tls_samples.MEMBER_IDS[2]).weight = 9

    plan, before, after = _plan(renderer, change, tls_samples.reencrypt_lb, tls_samples.materials)
    assert len(before.files) > 1
    assert plan.from_config_hash == before.config_hash != after.config_hash


def test_parse_takes_only_backend_server_lines_out() -> None:
    text = (
        "global\n    stats socket /x level admin\n\nring r\n    server log 192.0.2.1:514\n\n"
        "backend b\n    balance roundrobin\n    server s 192.0.2.2:80 weight 2 check\n"
    )
    parsed = runtime_plan.parse(text.encode())
    assert "server log 192.0.2.1:514" in parsed.skeleton
    assert "server s" not in parsed.skeleton
    server = parsed.backends["b"].servers["s"]
    assert (server.address, server.port, server.weight, server.check) == ("192.0.2.2", 80, 2, True)


def test_describe_lists_runtime_member_changes_for_haproxy_only() -> None:
    assert "runtime.member_changes" in HaproxyRenderer().describe().supported_features
    assert "runtime.member_changes" not in NginxRenderer().describe().supported_features
    assert isinstance(HaproxyRenderer(), RuntimePlanner)
    assert not isinstance(NginxRenderer(), RuntimePlanner)


def _render_rpc(renderer, lb, target, applied=()) -> pb.RenderResponse:
    request = pb.RenderRequest(loadbalancer=lb, target=target, applied_files=list(applied))
    return asyncio.run(RendererServicer(renderer).Render(request, None))


def test_render_rpc_answers_the_plan_only_with_applied_files() -> None:
    target = samples.target()
    applied = _render_rpc(HaproxyRenderer(), samples.full_lb(), target).files
    graph = samples.full_lb()
    _add_http_member(graph)
    without = _render_rpc(HaproxyRenderer(), graph, target)
    assert not without.HasField("runtime_plan")
    reply = _render_rpc(HaproxyRenderer(), graph, target, applied)
    assert reply.HasField("runtime_plan")
    assert reply.runtime_plan.commands[0].startswith(f"add server {HTTP_POOL}/{NEW_ID} ")
    assert (
        reply.runtime_plan.from_config_hash
        == _render_rpc(HaproxyRenderer(), samples.full_lb(), target).config_hash
    )
    assert [(f.path, f.content) for f in reply.files] == [
        (f.path, f.content) for f in without.files
    ]


def test_nginx_never_answers_a_plan() -> None:
    lb = nginx_samples.http_lb()
    target = nginx_samples.target()
    applied = _render_rpc(NginxRenderer(), lb, target).files
    graph = nginx_samples.http_lb()
    graph.pools[0].members.append(
        graph_pb2.Member(meta=samples.meta(NEW_ID), address="192.0.2.99", protocol_port=80)
    )
    reply = _render_rpc(NginxRenderer(), graph, target, applied)
    assert reply.files[0].content != applied[0].content
    assert not reply.HasField("runtime_plan")
