"""Creates and updates are checked against the features the renderer advertises in Describe
(a fake renderer here): an unsupported one is refused with Unsupported (Octavia's 501) naming the feature and
the field before anything is written; Describe is cached per renderer address for a minute; an
unreachable renderer blocks nothing. ready() refreshes every renderer's Describe at once (no
database), check_now answers from the cache in the write's transaction
(tests/integration/orchestrator/test_orchestrator_backends_roll.py: one transaction per write)."""

from __future__ import annotations

import asyncio
import time

import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from lbaas.common.v1 import graph_pb2 as g
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.common.errors import Unavailable, Unsupported
from services.orchestrator.domain import features
from services.orchestrator.handlers.orchestrator import OrchestratorServicer
from services.orchestrator.service_layer.feature_gate import FeatureGate

SUPPORTED = [
    "listener.protocol.HTTP",
    "listener.protocol.TCP",
    "listener.insert_headers.X-Forwarded-For",
    "pool.protocol.HTTP",
    "pool.lb_algorithm.ROUND_ROBIN",
    "pool.session_persistence",  # a prefix covers every type
    "healthmonitor.type.HTTP",
    "l7policy.action.REJECT",
    "l7rule.type.PATH",
    "l7rule.compare_type.STARTS_WITH",
]


class FakeRenderer:
    def __init__(self, supported=SUPPORTED, address="127.0.0.1:1", fail=False):
        self.address = address
        self.supported = list(supported)
        self.fail = fail
        self.describes = 0

    async def describe(self):
        self.describes += 1
        if self.fail:
            raise Unavailable("renderer down")
        return "haproxy", "haproxy-test", list(self.supported)


class NoWrites:
    """A unit of work that fails the test if the handler reaches the database."""

    def transaction(self):
        raise AssertionError("the handler wrote before checking features")


def _servicer(renderer: FakeRenderer) -> OrchestratorServicer:
    return OrchestratorServicer(NoWrites(), deps=None, feature_gate=FeatureGate(renderer))


def _scope() -> pb.Scope:
    return pb.Scope(all_projects=True)


def test_unsupported_listener_protocol_is_refused_before_any_write() -> None:
    servicer = _servicer(FakeRenderer())
    req = pb.CreateListenerRequest(
        scope=_scope(), listener=g.Listener(protocol="TERMINATED_HTTPS", protocol_port=443)
    )
    with pytest.raises(Unsupported) as err:
        asyncio.run(servicer.CreateListener(req, None))
    assert str(err.value) == (
        "Provider 'amphora' does not support a requested option: "
        "feature listener.protocol.TERMINATED_HTTPS is not supported by the haproxy backend"
    )
    assert err.value.field == "protocol"


@pytest.mark.parametrize(
    ("rpc", "request_", "feature", "field"),
    [
        (
            "CreatePool",
            pb.CreatePoolRequest(
                pool=g.Pool(protocol="HTTP", lb_algorithm="ROUND_ROBIN", tls_enabled=True)
            ),
            "pool.tls_enabled",
            "tls_enabled",
        ),
        (
            "UpdateListener",
            pb.UpdateListenerRequest(
                listener=g.Listener(insert_headers={"X-Forwarded-Proto": "true"}),
                update_mask=FieldMask(paths=["insert_headers"]),
            ),
            "listener.insert_headers.X-Forwarded-Proto",
            "insert_headers",
        ),
        (
            "CreateL7Rule",
            pb.CreateL7RuleRequest(l7rule=g.L7Rule(type="PATH", compare_type="REGEX")),
            "l7rule.compare_type.REGEX",
            "compare_type",
        ),
        (
            "CreateLoadBalancer",
            pb.CreateLoadBalancerRequest(
                loadbalancer=g.LoadBalancer(
                    listeners=[g.Listener(protocol="HTTP", allowed_cidrs=["10.0.0.0/8"])]
                )
            ),
            "listener.allowed_cidrs",
            "listeners.allowed_cidrs",
        ),
        (
            "BatchUpdateMembers",
            pb.BatchUpdateMembersRequest(members=[g.Member(address="192.0.2.1", backup=True)]),
            "member.backup",
            "backup",
        ),
    ],
)
def test_each_kind_is_checked(rpc, request_, feature, field) -> None:
    request_.scope.CopyFrom(_scope())
    with pytest.raises(Unsupported) as err:
        asyncio.run(getattr(_servicer(FakeRenderer()), rpc)(request_, None))
    assert feature in str(err.value) and err.value.field == field


def test_supported_and_unchanged_fields_pass() -> None:
    gate = FeatureGate(FakeRenderer())
    listener = g.Listener(protocol="HTTP", insert_headers={"X-Forwarded-For": "true"})
    asyncio.run(gate.check(features.listener(listener)))
    # An update that does not touch the protocol does not need it again.
    odd = g.Listener(protocol="TERMINATED_HTTPS", connection_limit=5)
    asyncio.run(gate.check(features.listener(odd, ["connection_limit"])))
    pool = g.Pool(
        protocol="HTTP",
        lb_algorithm="ROUND_ROBIN",
        session_persistence=g.SessionPersistence(type="APP_COOKIE"),
    )
    asyncio.run(gate.check(features.pool(pool)))
    # A header set to false is not used.
    asyncio.run(
        gate.check(features.listener(g.Listener(insert_headers={"X-SSL-Client-CN": "false"})))
    )


def test_describe_is_cached_per_address_and_refreshed_after_the_ttl() -> None:
    now = [0.0]
    renderer = FakeRenderer()
    gate = FeatureGate(renderer, clock=lambda: now[0])
    tls = list(features.listener(g.Listener(protocol="TERMINATED_HTTPS")))
    for _ in range(3):
        with pytest.raises(Unsupported):
            asyncio.run(gate.check(tls))
    assert renderer.describes == 1
    # The renderer gains the feature: seen once the cache entry is a minute old.
    renderer.supported.append("listener.protocol.TERMINATED_HTTPS")
    now[0] = 59.0
    with pytest.raises(Unsupported):
        asyncio.run(gate.check(tls))
    now[0] = 61.0
    asyncio.run(gate.check(tls))
    assert renderer.describes == 2


def test_an_unreachable_renderer_blocks_nothing() -> None:
    renderer = FakeRenderer(fail=True)
    gate = FeatureGate(renderer)
    asyncio.run(gate.check(features.listener(g.Listener(protocol="TERMINATED_HTTPS"))))
    # Not cached: the next change asks again.
    asyncio.run(gate.check(features.listener(g.Listener(protocol="TERMINATED_HTTPS"))))
    assert renderer.describes == 2


def test_the_haproxy_renderers_own_feature_names_are_understood() -> None:
    """The names the haproxy renderer advertises satisfy an ordinary HTTP load balancer."""
    from services.renderer.backends.haproxy.features import SUPPORTED_FEATURES

    lb = g.LoadBalancer(
        listeners=[g.Listener(protocol="HTTP", l7policies=[g.L7Policy(action="REJECT", rules=[
            g.L7Rule(type="PATH", compare_type="STARTS_WITH")])])],
        pools=[g.Pool(protocol="HTTP", lb_algorithm="ROUND_ROBIN",
                      members=[g.Member(address="192.0.2.1")],
                      healthmonitor=g.HealthMonitor(type="HTTP"))],
    )  # fmt: skip
    assert features.missing(SUPPORTED_FEATURES, features.loadbalancer(lb)) is None


@pytest.mark.parametrize(
    ("rule_type", "key", "needed"),
    [
        ("HEADER", "X-Key", False),
        ("HEADER", "X_Key", True),
        ("HEADER", "X.Key", True),
        ("COOKIE", "session_id", False),
        ("COOKIE", "c.1", True),
        ("COOKIE", "c-1", True),
        ("PATH", "", False),
    ],
)
def test_a_punctuated_header_or_cookie_key_needs_its_feature(rule_type, key, needed):
    """nginx reaches headers and cookies through variables, which cannot hold these names; the
    gate answers 501 for its load balancers instead of a config that fails to render."""
    from lbaas.common.v1 import graph_pb2

    from services.orchestrator.domain import features

    rule = graph_pb2.L7Rule(type=rule_type, compare_type="EQUAL_TO", key=key, value="v")
    names = {need.feature for need in features.l7rule(rule)}
    assert ("l7rule.key_punctuation" in names) is needed


class SlowRenderer(FakeRenderer):
    # Describes under way, of every SlowRenderer, and the most seen at once.
    in_flight = 0
    most_in_flight = 0

    def __init__(self, backend, supported, address, delay=0.05, **kw):
        super().__init__(supported, address, **kw)
        self.backend, self.delay = backend, delay

    async def describe(self):
        cls = SlowRenderer
        cls.in_flight += 1
        cls.most_in_flight = max(cls.most_in_flight, cls.in_flight)
        try:
            await asyncio.sleep(self.delay)
            _, version, supported = await super().describe()
        finally:
            cls.in_flight -= 1
        return self.backend, version, supported


def _two_backends(nginx_fail=False, delay=0.05):
    haproxy = SlowRenderer("haproxy", [*SUPPORTED, "member.backup"], "127.0.0.1:1", delay)
    nginx = SlowRenderer("nginx", SUPPORTED, "127.0.0.1:2", delay, fail=nginx_fail)
    return haproxy, nginx


BACKUP = [features.Need("member.backup", "backup")]


def test_ready_describes_every_renderer_at_once_and_check_now_answers_from_the_cache() -> None:
    """ready() (no database) makes every renderer's Describe fresh, concurrently; check_now,
    run where the write's transaction finds the backend, only reads the cache."""
    now = [0.0]
    haproxy, nginx = _two_backends()
    gate = FeatureGate({"haproxy": haproxy, "nginx": nginx}, clock=lambda: now[0])
    assert gate.needs_backend
    # Nothing described yet: nothing is refused.
    gate.check_now(BACKUP, "nginx")

    async def twice() -> None:
        await asyncio.gather(gate.ready(), gate.ready())  # one Describe each, shared

    SlowRenderer.most_in_flight = 0
    asyncio.run(twice())
    assert SlowRenderer.most_in_flight == 2  # both at once, not one after the other
    assert (haproxy.describes, nginx.describes) == (1, 1)
    with pytest.raises(Unsupported) as err:
        gate.check_now(BACKUP, "nginx")
    assert str(err.value).endswith("feature member.backup is not supported by the nginx backend")
    assert err.value.field == "backup"
    gate.check_now(BACKUP, "haproxy")
    gate.check_now(BACKUP, None)  # the default backend
    gate.check_now(BACKUP, "octavia-someday")  # no renderer for it here: the reconcile reports
    # Fresh: not described again; expired: described again.
    asyncio.run(gate.ready())
    assert (haproxy.describes, nginx.describes) == (1, 1)
    now[0] = 61.0
    asyncio.run(gate.ready())
    assert (haproxy.describes, nginx.describes) == (2, 2)


def test_one_renderer_for_every_backend_needs_no_backend() -> None:
    renderer = FakeRenderer()
    gate = FeatureGate({"haproxy": renderer, "nginx": renderer})
    assert not gate.needs_backend
    asyncio.run(gate.ready())
    assert renderer.describes == 1
    with pytest.raises(Unsupported):
        gate.check_now(features.listener(g.Listener(protocol="TERMINATED_HTTPS")))


def test_an_unreachable_renderer_blocks_nothing_and_delays_ready_only_to_the_timeout() -> None:
    now = [0.0]
    haproxy, nginx = _two_backends(nginx_fail=True, delay=0.0)
    gate = FeatureGate({"haproxy": haproxy, "nginx": nginx}, clock=lambda: now[0])
    asyncio.run(gate.ready())
    gate.check_now(BACKUP, "nginx")  # not described: not checked
    asyncio.run(gate.ready())
    assert (haproxy.describes, nginx.describes) == (1, 2)  # asked again, as before
    # Described once, unreachable when its entry expires: it blocks nothing again.
    nginx.fail = False
    now[0] = 100.0
    asyncio.run(gate.ready())
    with pytest.raises(Unsupported):
        gate.check_now(BACKUP, "nginx")
    nginx.fail = True
    now[0] = 200.0
    asyncio.run(gate.ready())
    gate.check_now(BACKUP, "nginx")
    # One that does not answer holds ready() for the timeout only.
    hung = SlowRenderer("nginx", SUPPORTED, "127.0.0.1:3", delay=30.0)
    gate = FeatureGate({"haproxy": haproxy, "nginx": hung}, timeout=0.1)
    started = time.monotonic()
    asyncio.run(gate.ready())
    assert time.monotonic() - started < 1.0
    gate.check_now(BACKUP, "nginx")


def test_standing_needs_are_checked_with_every_change() -> None:
    haproxy, nginx = _two_backends(delay=0.0)
    gate = FeatureGate({"haproxy": haproxy, "nginx": nginx}, standing=BACKUP)
    asyncio.run(gate.ready())
    gate.check_now([], "haproxy")
    with pytest.raises(Unsupported):
        gate.check_now([], "nginx")
