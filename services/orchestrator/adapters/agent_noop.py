"""The `noop` agent client, paired with the noop compute driver: every amphora reports
haproxy 2.6 and accepts every config it is sent (still rendered by the real renderer). It
checks the declared hash as a real agent does, so a renderer/orchestrator hash mismatch shows."""

from __future__ import annotations

import datetime as dt
import hashlib
import struct

from cryptography import x509
from lbaas.amphora.v1 import amphora_service_pb2

from services.orchestrator.domain.ports import (
    AgentInfo,
    ApplyOutcome,
    IssuedCertificate,
    RenderedConfig,
)

HAPROXY_VERSION = "2.6.12"
NGINX_VERSION = "1.22.1"  # so that nginx load balancers render too
OPENSSL_VERSION = "3.0.2"


def files_hash(files: list[tuple[str, bytes, int]]) -> str:
    """The agent's config hash (docs/architecture.md, "Config hash")."""
    digest = hashlib.sha256()
    for path, content, _mode in sorted(files, key=lambda f: f[0].encode("utf-8")):
        digest.update(path.encode("utf-8") + b"\x00" + struct.pack(">Q", len(content)))
        digest.update(content)
    return digest.hexdigest()


class NoopAgentClient:
    def __init__(self) -> None:
        self._applied: dict[str, str] = {}  # amphora id -> config hash (this process only)
        self._configs: dict[str, RenderedConfig] = {}  # amphora id -> what it was sent

    async def get_info(self, agent_address: str, amphora_id: str) -> AgentInfo:
        return AgentInfo(
            amphora_id=amphora_id,
            api_version="1.0",
            backend_type="haproxy",
            haproxy_version=HAPROXY_VERSION,
            openssl_version=OPENSSL_VERSION,
            nginx_version=NGINX_VERSION,
            runtime_dir=f"/var/lib/lbaas/amphorae/{amphora_id}",
            applied_config_hash=self._applied.get(amphora_id, ""),
            keepalived_version="2.2.7",
            capabilities=("vrrp-keepalived", "drain"),
        )

    async def apply_config(
        self,
        agent_address: str,
        amphora_id: str,
        files: list[tuple[str, bytes, int]],
        config_hash: str,
        renderer_version: str,
        force: bool = False,
    ) -> ApplyOutcome:
        actual = files_hash(files)
        if actual != config_hash:
            return ApplyOutcome(
                "INVALID",
                self._applied.get(amphora_id, ""),
                f"declared hash {config_hash} does not match the files ({actual})",
            )
        self._applied[amphora_id] = config_hash
        self._configs[amphora_id] = RenderedConfig(list(files), config_hash, renderer_version)
        return ApplyOutcome("APPLIED", config_hash, "")

    async def update_certificate(
        self, agent_address: str, amphora_id: str, certificate: IssuedCertificate
    ) -> dt.datetime:
        return x509.load_pem_x509_certificate(certificate.cert_pem).not_valid_after_utc

    async def drain(
        self, agent_address: str, amphora_id: str, addresses: list[str], timeout: float
    ) -> int:
        return 0  # nothing carries traffic

    async def get_applied_config(self, agent_address: str, amphora_id: str) -> RenderedConfig:
        return self._configs.get(amphora_id, RenderedConfig([], "", ""))

    async def get_diagnostics(
        self, agent_address: str, amphora_id: str
    ) -> amphora_service_pb2.GetDiagnosticsResponse:
        """No process, no socket, no apply history: there is no appliance."""
        info = await self.get_info(agent_address, amphora_id)
        return amphora_service_pb2.GetDiagnosticsResponse(
            info=amphora_service_pb2.GetInfoResponse(
                amphora_id=amphora_id,
                api_version=info.api_version,
                haproxy_version=info.haproxy_version,
                openssl_version=info.openssl_version,
                keepalived_version=info.keepalived_version,
                runtime_dir=info.runtime_dir,
                backend_type=info.backend_type,
                applied_config_hash=info.applied_config_hash,
                capabilities=info.capabilities,
            )
        )

    async def get_logs(
        self, agent_address: str, amphora_id: str, lines: int
    ) -> list[amphora_service_pb2.LogTail]:
        return []  # no agent, no engine: no log
