"""GrpcAgentClient against a real grpc.aio AmphoraAgentService served with real mutual TLS."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from lbaas.amphora.v1 import amphora_service_pb2 as pb
from lbaas.amphora.v1 import amphora_service_pb2_grpc

from services.common.errors import InvalidInput, Unavailable
from services.common.server import ServiceBinding, start_server
from services.orchestrator.adapters.agent_client import GrpcAgentClient
from services.orchestrator.adapters.pki import CONTROLLER_CN, FileCertificateAuthority

AMPHORA_X = "5d6c0a3e-0d4b-4c1e-9a55-1f0c2b7f0a01"
AMPHORA_Y = "9b1e7f2a-6c0d-4d8e-8f11-2a3b4c5d6e7f"


class FakeAgent(amphora_service_pb2_grpc.AmphoraAgentServiceServicer):
    """Answers like an agent, and checks the caller is the controller like the real one does."""

    def __init__(self, amphora_id: str):
        self.amphora_id = amphora_id
        self.applied: list[pb.ApplyConfigRequest] = []

    def _check_peer(self, context) -> None:
        names = context.auth_context().get("x509_common_name", [])
        assert names == [CONTROLLER_CN.encode()], names

    async def GetInfo(self, request, context):
        self._check_peer(context)
        return pb.GetInfoResponse(
            amphora_id=self.amphora_id,
            api_version="1.0",
            haproxy_version="2.6.12",
            openssl_version="OpenSSL 3.0.2",
            keepalived_version="",
            runtime_dir="/run/x",
            backend_type="haproxy",
            applied_config_hash="h0",
            capabilities=["apply.v1"],
        )

    async def ApplyConfig(self, request, context):
        self._check_peer(context)
        self.applied.append(request)
        by_hash = {
            "h0": (pb.APPLY_RESULT_UNCHANGED, "h0", ""),
            "h-invalid": (pb.APPLY_RESULT_INVALID, "h0", "haproxy -c: line 3: unknown keyword"),
            "h-rollback": (pb.APPLY_RESULT_ROLLED_BACK, "h0", "reload failed; restored h0"),
            "h-broken": (pb.APPLY_RESULT_BROKEN, "", "restore failed"),
            "h-weird": (pb.APPLY_RESULT_UNSPECIFIED, "h0", ""),
        }
        if request.config_hash == "h-mismatch":
            raise InvalidInput("config hash does not match the files", field="config_hash")
        if request.config_hash == "h-slow":
            await asyncio.sleep(5)
        result, applied, detail = by_hash.get(
            request.config_hash, (pb.APPLY_RESULT_APPLIED, request.config_hash, "")
        )
        return pb.ApplyConfigResponse(result=result, applied_config_hash=applied, detail=detail)


async def _serve_agent(
    ca: FileCertificateAuthority, amphora_id: str, agent: FakeAgent, address: str = "127.0.0.1:0"
):
    issued = ca.issue_amphora_certificate(amphora_id)
    credentials = grpc.ssl_server_credentials(
        [(issued.key_pem, issued.cert_pem)],
        root_certificates=issued.ca_pem,
        require_client_auth=True,
    )
    return await start_server(
        [
            ServiceBinding(
                agent,
                amphora_service_pb2_grpc.add_AmphoraAgentServiceServicer_to_server,
                "lbaas.amphora.v1.AmphoraAgentService",
            )
        ],
        address,
        credentials=credentials,
    )


def test_get_info_and_apply_config_over_mtls(ca):
    async def scenario():
        agent = FakeAgent(AMPHORA_X)
        server, port = await _serve_agent(ca, AMPHORA_X, agent)
        client = GrpcAgentClient(ca, timeout=2)
        address = f"127.0.0.1:{port}"
        try:
            info = await client.get_info(address, AMPHORA_X)
            assert (info.amphora_id, info.api_version, info.backend_type) == (
                AMPHORA_X,
                "1.0",
                "haproxy",
            )
            assert (info.haproxy_version, info.runtime_dir, info.applied_config_hash) == (
                "2.6.12",
                "/run/x",
                "h0",
            )

            files = [("haproxy.cfg", b"global\n", 0o640), ("certs/a.pem", b"pem", 0o600)]
            outcome = await client.apply_config(address, AMPHORA_X, files, "h1", "7.1")
            assert (outcome.result, outcome.applied_config_hash, outcome.ok) == (
                "APPLIED",
                "h1",
                True,
            )
            sent = agent.applied[-1]
            assert [(f.path, f.content, f.mode) for f in sent.files] == files
            assert (sent.config_hash, sent.renderer_version) == ("h1", "7.1")

            expected = {
                "h0": ("UNCHANGED", True),
                "h-invalid": ("INVALID", False),
                "h-rollback": ("ROLLED_BACK", False),
                "h-broken": ("BROKEN", False),
                "h-weird": ("UNKNOWN", False),
            }
            for config_hash, (result, ok) in expected.items():
                outcome = await client.apply_config(address, AMPHORA_X, files, config_hash, "7.1")
                assert (outcome.result, outcome.ok) == (result, ok), config_hash
            outcome = await client.apply_config(address, AMPHORA_X, files, "h-invalid", "7.1")
            assert "unknown keyword" in outcome.detail

            with pytest.raises(InvalidInput) as err:
                await client.apply_config(address, AMPHORA_X, files, "h-mismatch", "7.1")
            assert err.value.field == "config_hash"
        finally:
            await client.close()
            await server.stop(None)

    asyncio.run(scenario())


def test_agent_whose_certificate_names_another_amphora_is_unavailable(ca):
    async def scenario():
        server, port = await _serve_agent(ca, AMPHORA_X, FakeAgent(AMPHORA_X))
        client = GrpcAgentClient(ca, timeout=2)
        address = f"127.0.0.1:{port}"
        try:
            with pytest.raises(Unavailable) as err:
                await client.get_info(address, AMPHORA_Y)
            assert AMPHORA_Y in err.value.operator_detail
            # The same client, asking for the right name on the same address, gets through.
            assert (await client.get_info(address, AMPHORA_X)).amphora_id == AMPHORA_X
        finally:
            await client.close()
            await server.stop(None)

    asyncio.run(scenario())


def test_controller_of_another_ca_is_refused(ca, work_dir):
    other_ca = FileCertificateAuthority(work_dir / "other-ca")

    async def scenario():
        server, port = await _serve_agent(ca, AMPHORA_X, FakeAgent(AMPHORA_X))
        client = GrpcAgentClient(other_ca, timeout=2)
        try:
            with pytest.raises(Unavailable):
                await client.get_info(f"127.0.0.1:{port}", AMPHORA_X)
        finally:
            await client.close()
            await server.stop(None)

    asyncio.run(scenario())


def test_slow_or_absent_agent_is_unavailable(ca):
    async def scenario():
        server, port = await _serve_agent(ca, AMPHORA_X, FakeAgent(AMPHORA_X))
        client = GrpcAgentClient(ca, timeout=0.5)
        address = f"127.0.0.1:{port}"
        try:
            with pytest.raises(Unavailable):  # deadline exceeded
                await client.apply_config(address, AMPHORA_X, [], "h-slow", "7.1")
            await server.stop(None)
            with pytest.raises(Unavailable):  # nothing listens any more
                await client.get_info(address, AMPHORA_X)
        finally:
            await client.close()
            await server.stop(None)

    asyncio.run(scenario())
