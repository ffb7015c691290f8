"""GrpcAgentClient's management calls against grpc.aio agents served with real mutual TLS: an
agent of this release answers them; one of the release before answers UNIMPLEMENTED, which
becomes AgentLacksRpc (the API's 409 naming the reason), not an internal error."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from lbaas.amphora.v1 import amphora_service_pb2 as pb
from lbaas.amphora.v1 import amphora_service_pb2_grpc

from services.orchestrator.adapters.agent_client import GrpcAgentClient
from services.orchestrator.domain.ports import AgentLacksRpc

AMPHORA = "5d6c0a3e-0d4b-4c1e-9a55-1f0c2b7f0a02"


class PreviousReleaseAgent(amphora_service_pb2_grpc.AmphoraAgentServiceServicer):
    """Serves what agents served before the management API: GetDiagnostics and GetLogs are the
    generated base class's, which answer UNIMPLEMENTED."""

    async def GetAppliedConfig(self, request, context):
        return pb.GetAppliedConfigResponse(
            files=[pb.ConfigFile(path="haproxy.cfg", content=b"global\n", mode=0o640)],
            config_hash="h1",
            renderer_version="r1",
        )


class CurrentAgent(PreviousReleaseAgent):
    def __init__(self) -> None:
        self.asked: list[int] = []

    async def GetDiagnostics(self, request, context):
        return pb.GetDiagnosticsResponse(
            info=pb.GetInfoResponse(amphora_id=AMPHORA, haproxy_version="2.6.12"),
            engine_running=True,
            last_reload=pb.ReloadRecord(action="reload", ok=False, error="cannot bind"),
        )

    async def GetLogs(self, request, context):
        self.asked.append(request.lines)
        return pb.GetLogsResponse(logs=[pb.LogTail(source="agent", lines=["a", "b"], found=True)])


async def _serve(ca, agent):
    """A plain grpc.aio server, as the agent's own (amphora_agent/server.py)."""
    issued = ca.issue_amphora_certificate(AMPHORA)
    credentials = grpc.ssl_server_credentials(
        [(issued.key_pem, issued.cert_pem)],
        root_certificates=issued.ca_pem,
        require_client_auth=True,
    )
    server = grpc.aio.server()
    amphora_service_pb2_grpc.add_AmphoraAgentServiceServicer_to_server(agent, server)
    port = server.add_secure_port("127.0.0.1:0", credentials)
    await server.start()
    return server, port


def test_management_calls_reach_a_current_agent(ca):
    async def scenario():
        agent = CurrentAgent()
        server, port = await _serve(ca, agent)
        client = GrpcAgentClient(ca, timeout=2)
        address = f"127.0.0.1:{port}"
        try:
            found = await client.get_diagnostics(address, AMPHORA)
            assert found.info.haproxy_version == "2.6.12" and found.engine_running
            assert (found.last_reload.ok, found.last_reload.error) == (False, "cannot bind")
            tails = await client.get_logs(address, AMPHORA, 7)
            assert [list(t.lines) for t in tails] == [["a", "b"]] and agent.asked == [7]
            applied = await client.get_applied_config(address, AMPHORA)
            assert applied.files == [("haproxy.cfg", b"global\n", 0o640)]
            assert (applied.config_hash, applied.renderer_version) == ("h1", "r1")
        finally:
            await client.close()
            await server.stop(None)

    asyncio.run(scenario())


def test_an_agent_of_the_release_before_is_said_to_lack_the_call(ca):
    async def scenario():
        server, port = await _serve(ca, PreviousReleaseAgent())
        client = GrpcAgentClient(ca, timeout=2)
        address = f"127.0.0.1:{port}"
        try:
            with pytest.raises(AgentLacksRpc) as err:
                await client.get_diagnostics(address, AMPHORA)
            assert "older than the management API" in err.value.user_message
            assert AMPHORA in err.value.user_message
            assert "GetDiagnostics is UNIMPLEMENTED" in err.value.operator_detail
            with pytest.raises(AgentLacksRpc) as err:
                await client.get_logs(address, AMPHORA, 10)
            assert "cannot report its logs" in err.value.user_message
            # What it always served still works.
            assert (await client.get_applied_config(address, AMPHORA)).config_hash == "h1"
        finally:
            await client.close()
            await server.stop(None)

    asyncio.run(scenario())
