"""Certificate rotation over real mTLS: the real amphora agent (a process, with haproxy) takes a
new server certificate through GrpcAgentClient.update_certificate without a restart and refuses
bad ones; GrpcAgentClient moves to a renewed controller certificate by itself."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import socket
import ssl
import stat
import time
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lbaas.amphora.v1 import amphora_service_pb2 as pb
from lbaas.amphora.v1 import amphora_service_pb2_grpc

from services.common.errors import InvalidInput, Unavailable
from services.common.server import ServiceBinding, start_server
from services.orchestrator.adapters.agent_client import GrpcAgentClient
from services.orchestrator.adapters.compute_local import LocalComputeDriver
from services.orchestrator.adapters.pki import FileCertificateAuthority
from services.orchestrator.domain.ports import AmphoraSpec, IssuedCertificate

pytestmark = pytest.mark.skipif(not shutil.which("haproxy"), reason="haproxy is not installed")

AMPHORA_ID = "7e0d1c2b-3a49-4f5e-8d6c-0b1a2f3e4d5c"
# Lifetime of the agent's first certificate: long enough for the agent to start on a busy
# machine, short enough for the test to wait for its expiry.
FIRST_VALIDITY = 12.0


def _not_after(cert_pem: bytes) -> dt.datetime:
    return x509.load_pem_x509_certificate(cert_pem).not_valid_after_utc


def _der(cert_pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)


def served_certificate(port: int, ca: FileCertificateAuthority, work_dir: Path) -> bytes:
    """The certificate a new TLS handshake with the agent gets (DER), whatever its validity."""
    controller = ca.controller_credentials()
    cert_file, key_file = work_dir / "probe.crt", work_dir / "probe.key"
    cert_file.write_bytes(controller.cert_pem)
    key_file.write_bytes(controller.key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # to see what is served, even an expired certificate
    context.set_alpn_protocols(["h2"])
    context.load_cert_chain(cert_file, key_file)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        with context.wrap_socket(sock, server_hostname=AMPHORA_ID) as tls:
            served = tls.getpeercert(binary_form=True)
    assert served is not None
    return served


async def _wait_for_agent(client: GrpcAgentClient, driver, instance, run_dir: Path):
    deadline = time.monotonic() + 30
    while True:
        try:
            return await client.get_info(instance.agent_address, AMPHORA_ID)
        except Unavailable:
            if time.monotonic() > deadline or not await driver.is_alive(instance.compute_id):
                log = (run_dir / "amphorae" / AMPHORA_ID / "agent.log").read_text()
                pytest.fail(f"agent never answered GetInfo; its log:\n{log}")
            await asyncio.sleep(0.2)


def test_real_agent_rotates_its_certificate_without_restart_and_refuses_bad_ones(
    ca, work_dir, janitor, udp_port
):
    run_dir = work_dir / "run"
    run_dir.mkdir()
    key_file = run_dir / "heartbeat.keys"
    key_file.write_text("k1 " + os.urandom(32).hex() + "\n")
    driver = LocalComputeDriver(run_dir, f"127.0.0.1:{udp_port}", key_file, 0.5)
    # Same CA directory (same CA key) as `ca`, shorter leaf lifetimes.
    first = FileCertificateAuthority(
        work_dir / "ca", validity=FIRST_VALIDITY
    ).issue_amphora_certificate(AMPHORA_ID)
    expired = FileCertificateAuthority(work_dir / "ca", validity=0.5).issue_amphora_certificate(
        AMPHORA_ID
    )
    other_key = ca.issue_amphora_certificate(AMPHORA_ID).key_pem
    bad = {
        "wrong name": (ca.issue_amphora_certificate("not-this-amphora"), "not amphora"),
        "other CA": (
            FileCertificateAuthority(work_dir / "other-ca").issue_amphora_certificate(AMPHORA_ID),
            "not issued by",
        ),
        "mismatched key": (
            IssuedCertificate(first.cert_pem, other_key, first.ca_pem),
            "does not match",
        ),
        "expired": (expired, "not valid now"),
    }
    amphora_dir = run_dir / "amphorae" / AMPHORA_ID

    def on_disk() -> tuple[bytes, bytes]:
        return (amphora_dir / "agent.crt").read_bytes(), (amphora_dir / "agent.key").read_bytes()

    async def scenario():
        client = GrpcAgentClient(ca, timeout=5)
        spec = AmphoraSpec(
            amphora_id=AMPHORA_ID,
            loadbalancer_id="lb-1",
            backend_type="haproxy",
            vip_address="127.30.2.1",
            certificate=first,
        )
        try:
            instance = await driver.create_amphora(spec)
            janitor.track_compute_id(instance.compute_id)
            await _wait_for_agent(client, driver, instance, run_dir)
            address = instance.agent_address
            port = int(address.rpartition(":")[2])
            assert served_certificate(port, ca, work_dir) == _der(first.cert_pem)

            # Bad certificates: INVALID_ARGUMENT, nothing written, the old one still served.
            time.sleep(max(0.0, (_not_after(expired.cert_pem) - _utcnow()).total_seconds()))
            for what, (certificate, reason) in bad.items():
                with pytest.raises(InvalidInput) as err:
                    await client.update_certificate(address, AMPHORA_ID, certificate)
                assert reason in err.value.user_message, (what, err.value.user_message)
                assert on_disk() == (first.cert_pem, first.key_pem), what
            assert served_certificate(port, ca, work_dir) == _der(first.cert_pem)

            # A good one: written over the files, served to new handshakes at once.
            second = ca.issue_amphora_certificate(AMPHORA_ID)
            not_after = await client.update_certificate(address, AMPHORA_ID, second)
            assert not_after == _not_after(second.cert_pem)
            assert on_disk() == (second.cert_pem, second.key_pem)
            assert stat.S_IMODE((amphora_dir / "agent.key").stat().st_mode) == 0o600
            assert served_certificate(port, ca, work_dir) == _der(second.cert_pem)

            # Once the first certificate has expired, a new client (a new channel, a new
            # handshake, which checks the served certificate's dates) still gets in, and the
            # agent is the process it was.
            wait = (_not_after(first.cert_pem) - _utcnow()).total_seconds() + 1.0
            assert wait > 0, "the first certificate expired before the rotation was tested"
            await asyncio.sleep(wait)
            fresh = GrpcAgentClient(ca, timeout=5)
            try:
                info = await fresh.get_info(address, AMPHORA_ID)
            finally:
                await fresh.close()
            assert info.amphora_id == AMPHORA_ID
            assert await driver.is_alive(instance.compute_id)
            await driver.delete_amphora(AMPHORA_ID, instance.compute_id)
        finally:
            await client.close()

    asyncio.run(scenario())


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class PeerRecorder(amphora_service_pb2_grpc.AmphoraAgentServiceServicer):
    """Answers GetInfo and records the client certificate each call came with."""

    def __init__(self) -> None:
        self.peers: list[bytes] = []

    async def GetInfo(self, request, context):
        self.peers.append(context.auth_context()["x509_pem_cert"][0])
        return pb.GetInfoResponse(amphora_id=AMPHORA_ID, api_version="1.0")


def test_client_moves_to_the_renewed_controller_certificate(work_dir):
    # Controller certificates live 8 s and are renewed in their last 3 s.
    ca = FileCertificateAuthority(work_dir / "ca", validity=8, renew_before=3)
    server_cert = FileCertificateAuthority(work_dir / "ca").issue_amphora_certificate(AMPHORA_ID)
    recorder = PeerRecorder()

    async def scenario():
        credentials = grpc.ssl_server_credentials(
            [(server_cert.key_pem, server_cert.cert_pem)],
            root_certificates=server_cert.ca_pem,
            require_client_auth=True,
        )
        binding = ServiceBinding(
            recorder,
            amphora_service_pb2_grpc.add_AmphoraAgentServiceServicer_to_server,
            "lbaas.amphora.v1.AmphoraAgentService",
        )
        server, port = await start_server([binding], "127.0.0.1:0", credentials=credentials)
        client = GrpcAgentClient(ca, timeout=2, renewal_check_interval=0.2)
        address = f"127.0.0.1:{port}"
        try:
            await client.get_info(address, AMPHORA_ID)
            first = (work_dir / "ca" / "controller.crt").read_bytes()
            assert _der(recorder.peers[-1]) == _der(first)
            await client.get_info(address, AMPHORA_ID)  # not due: same certificate
            assert _der(recorder.peers[-1]) == _der(first)

            await asyncio.sleep((_not_after(first) - _utcnow()).total_seconds() - 2.5)
            await client.get_info(address, AMPHORA_ID)  # due: the client renews, reconnects
            renewed = (work_dir / "ca" / "controller.crt").read_bytes()
            assert _der(renewed) != _der(first)
            assert _der(recorder.peers[-1]) == _der(renewed)

            await asyncio.sleep(max(0.0, (_not_after(first) - _utcnow()).total_seconds() + 0.5))
            await client.get_info(address, AMPHORA_ID)  # past the first one's expiry
            assert _der(recorder.peers[-1]) == _der(renewed)
        finally:
            await client.close()
            await server.stop(None)

    asyncio.run(scenario())
