"""Who may call whom, at the gRPC level, against the services as the launcher runs them.

Every service refuses a client without a certificate, one with a certificate from another CA,
and one with a valid certificate of a service that may not call it; only the gateway's identity
may act across projects. grpcurl's way in (reflection, then a call, as the operator) still works.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pool, message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)
from lbaas.compute.v1 import compute_service_pb2 as cpb
from lbaas.compute.v1 import compute_service_pb2_grpc as cpb_grpc
from lbaas.health.v1 import health_service_pb2 as hpb
from lbaas.health.v1 import health_service_pb2_grpc as hpb_grpc
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as opb
from lbaas.orchestrator.v1 import orchestrator_service_pb2_grpc as opb_grpc
from lbaas.renderer.v1 import renderer_service_pb2 as rpb
from lbaas.renderer.v1 import renderer_service_pb2_grpc as rpb_grpc

from services.common import internal_tls as t
from tests.support.stack import RunningStack, running_stack

pytestmark = pytest.mark.timeout(300)

Call = Callable[[grpc.Channel], object]


def _list_lbs(all_projects: bool) -> Call:
    scope = opb.Scope(all_projects=True) if all_projects else opb.Scope(project_id="p" * 32)
    return lambda ch: opb_grpc.OrchestratorServiceStub(ch).ListLoadBalancers(
        opb.ListLoadBalancersRequest(scope=scope), timeout=10
    )


# service name in the launcher -> (its identity, its address variable, a call of its API)
SERVICES: dict[str, tuple[str, str, Call]] = {
    "orchestrator": (t.ORCHESTRATOR, "LBAAS_ORCHESTRATOR_ADDR", _list_lbs(False)),
    "renderer-haproxy": (
        t.RENDERER,
        "LBAAS_RENDERER_HAPROXY_ADDR",
        lambda ch: rpb_grpc.RendererServiceStub(ch).Describe(rpb.DescribeRequest(), timeout=10),
    ),
    "compute": (
        t.COMPUTE,
        "LBAAS_COMPUTE_HOST_ADDR",
        lambda ch: cpb_grpc.ComputeServiceStub(ch).IsAlive(
            cpb.IsAliveRequest(compute_id="1:1"), timeout=10
        ),
    ),
    "health": (
        t.HEALTH,
        "LBAAS_HEALTH_ADDR",
        lambda ch: hpb_grpc.HealthServiceStub(ch).ListAmphoraHealth(
            hpb.ListAmphoraHealthRequest(), timeout=10
        ),
    ),
}
# The worker's port serves only grpc.health.v1 (no API to refuse a service identity).
PROBED = {n: (i, v) for n, (i, v, _) in SERVICES.items()}
PROBED["orchestrator-worker"] = (t.WORKER, "LBAAS_ORCHESTRATOR_WORKER_ADDR")


# identity -> the gRPC service its process serves
API_OF = {
    t.ORCHESTRATOR: t.ORCHESTRATOR_SERVICE,
    t.RENDERER: t.RENDERER_SERVICE,
    t.HEALTH: t.HEALTH_SERVICE,
    t.COMPUTE: t.COMPUTE_SERVICE,
}


def _check(channel: grpc.Channel) -> object:
    return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    # The remote compute driver: the compute host runs too, and is in the matrix.
    with running_stack("lbaas-mtls-", extra_env={"LBAAS_COMPUTE_DRIVER": "remote"}) as running:
        yield running


@pytest.fixture(scope="module")
def foreign_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA of the same shape with the same identity names, which the services never trusted."""
    return t.ensure_internal_pki(tmp_path_factory.mktemp("foreign") / "internal-tls")


def _pki(stack: RunningStack) -> Path:
    return stack.run_dir / "internal-tls"


def _code(call: Call, channel: grpc.Channel) -> grpc.StatusCode:
    try:
        call(channel)
    except grpc.RpcError as err:
        return err.code()
    return grpc.StatusCode.OK


@pytest.mark.parametrize("name", sorted(PROBED))
def test_a_client_without_a_certificate_is_refused(stack: RunningStack, name: str) -> None:
    identity, variable = PROBED[name]
    address = stack.env[variable]
    with grpc.insecure_channel(address) as plain:
        assert _code(_check, plain) == grpc.StatusCode.UNAVAILABLE
    # TLS that trusts the right CA but presents no certificate: the handshake fails.
    server_only = grpc.ssl_channel_credentials((_pki(stack) / "ca.crt").read_bytes())
    options = t.channel_options(identity)
    with grpc.secure_channel(address, server_only, options=options) as anonymous:
        assert _code(_check, anonymous) == grpc.StatusCode.UNAVAILABLE
    # Positive control: the same probe with the operator's certificate.
    with t.blocking_channel(address, identity, t.InternalTLS(_pki(stack), t.OPERATOR)) as ok:
        assert _code(_check, ok) == grpc.StatusCode.OK


@pytest.mark.parametrize("name", sorted(PROBED))
def test_a_certificate_from_another_ca_is_refused(
    stack: RunningStack, foreign_pki: Path, name: str
) -> None:
    identity, variable = PROBED[name]
    address = stack.env[variable]
    # The foreign certificate claims the most privileged name there is.
    impostor = t.InternalTLS(foreign_pki, t.GATEWAY)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=(_pki(stack) / "ca.crt").read_bytes(),
        private_key=(foreign_pki / "api-gateway.key").read_bytes(),
        certificate_chain=(foreign_pki / "api-gateway.crt").read_bytes(),
    )
    with grpc.secure_channel(address, credentials, options=t.channel_options(identity)) as ch:
        assert _code(_check, ch) == grpc.StatusCode.UNAVAILABLE
    # Nor does a client that trusts only the foreign CA accept the real server.
    with t.blocking_channel(address, identity, impostor) as ch:
        assert _code(_check, ch) == grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_only_the_drawn_callers_may_call(stack: RunningStack, name: str) -> None:
    identity, variable, call = SERVICES[name]
    address = stack.env[variable]
    service = API_OF[identity]
    outcomes = {}
    for caller in t.IDENTITIES:
        with t.blocking_channel(address, identity, t.InternalTLS(_pki(stack), caller)) as ch:
            outcomes[caller] = _code(call, ch)
    allowed = {c for c, methods in t.CALLERS[service].items() if methods is t.ALL}
    assert allowed, service
    assert {c for c, code in outcomes.items() if code == grpc.StatusCode.OK} == allowed, outcomes
    refused = {c: code for c, code in outcomes.items() if c not in allowed}
    assert refused and set(refused.values()) == {grpc.StatusCode.PERMISSION_DENIED}, outcomes
    # Each identity may still probe its health (container and Kubernetes probes).
    for caller in t.IDENTITIES:
        with t.blocking_channel(address, identity, t.InternalTLS(_pki(stack), caller)) as ch:
            assert _code(_check, ch) == grpc.StatusCode.OK, caller


def test_health_may_call_only_what_it_uses(stack: RunningStack) -> None:
    address = stack.env["LBAAS_ORCHESTRATOR_ADDR"]
    health = t.InternalTLS(_pki(stack), t.HEALTH)
    with t.blocking_channel(address, t.ORCHESTRATOR, health) as ch:
        stub = opb_grpc.OrchestratorServiceStub(ch)
        # One of its calls: it reaches the orchestrator (the amphora does not exist).
        assert (
            _code(lambda c: stub.GetAmphora(opb.GetAmphoraRequest(id="0" * 36), timeout=10), ch)
            == grpc.StatusCode.NOT_FOUND
        )
        # Not one of them: refused before the orchestrator looks.
        assert _code(_list_lbs(False), ch) == grpc.StatusCode.PERMISSION_DENIED


def test_only_the_gateway_may_list_across_projects(stack: RunningStack) -> None:
    address = stack.env["LBAAS_ORCHESTRATOR_ADDR"]
    outcomes = {}
    for caller in t.IDENTITIES:
        with t.blocking_channel(address, t.ORCHESTRATOR, t.InternalTLS(_pki(stack), caller)) as ch:
            outcomes[caller] = _code(_list_lbs(True), ch)
    assert outcomes[t.GATEWAY] == grpc.StatusCode.OK, outcomes
    assert all(
        code == grpc.StatusCode.PERMISSION_DENIED for c, code in outcomes.items() if c != t.GATEWAY
    ), outcomes
    # The operator may call the orchestrator, within a project.
    operator = t.InternalTLS(_pki(stack), t.OPERATOR)
    with t.blocking_channel(address, t.ORCHESTRATOR, operator) as ch:
        assert _code(_list_lbs(False), ch) == grpc.StatusCode.OK


@pytest.mark.parametrize("name", sorted(PROBED))
def test_reflection_lists_and_calls_as_grpcurl_does(stack: RunningStack, name: str) -> None:
    """grpcurl -cacert ca.crt -cert operator.crt -key operator.key -servername <identity>
    <address> list, then a call: the same through reflection, from this process."""
    identity, variable = PROBED[name]
    operator = t.InternalTLS(_pki(stack), t.OPERATOR)
    with t.blocking_channel(stack.env[variable], identity, operator) as ch:
        database = ProtoReflectionDescriptorDatabase(ch)
        services = set(database.get_services())
        assert "grpc.health.v1.Health" in services
        assert "grpc.reflection.v1alpha.ServerReflection" in services
        if name in SERVICES:
            assert API_OF[identity] in services
        # A call built from the reflected descriptors alone (no generated code), as grpcurl.
        pool = descriptor_pool.DescriptorPool(database)
        method = pool.FindServiceByName("grpc.health.v1.Health").FindMethodByName("Check")
        request_class = message_factory.GetMessageClass(method.input_type)
        response_class = message_factory.GetMessageClass(method.output_type)
        rpc = ch.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString,
        )
        response = rpc(request_class(), timeout=10)
        assert response.status == 1  # SERVING
