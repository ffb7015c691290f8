"""The `remote` compute driver: amphorae run on a compute host (services/orchestrator/compute_host/), a
service of its own that every worker calls, as Nova is to Octavia's workers.

The compute host runs the `local` driver, so its amphorae are agent processes there and outlive
any worker (in containers: the worker's container). It shares no file with the workers, and
holds none of their secrets: each create carries everything the amphora starts with, the
certificate and key the CA issued for it, the heartbeat key file derived for it from the master
keys (which stay with the worker) and the health receivers and interval. After a rotation of
the master keys, housekeeping's sync_heartbeat_keys asks the host for the digest of each
amphora's key file and sends the new file where it differs.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc
from lbaas.compute.v1 import compute_service_pb2 as pb
from lbaas.compute.v1 import compute_service_pb2_grpc

from services.common.errors import DomainError, from_rpc_error
from services.common.internal_tls import COMPUTE, InternalTLS, aio_channel
from services.orchestrator.adapters.compute_codec import decode_instance, encode_create
from services.orchestrator.adapters.heartbeat_keys import AgentHeartbeat, AgentHeartbeatKeys
from services.orchestrator.domain.ports import AmphoraSpec, ComputeInstance

DEFAULT_ADDRESS = "127.0.0.1:9897"
# A compute host that restarts must be reachable again within seconds: gRPC's default
# reconnect backoff (up to 120 s of failing fast) would outlast it by far.
_CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2000),
]


def map_compute_error(err: grpc.RpcError, address: str) -> DomainError:
    """The domain error the compute host raised (its class, message and field), or Unavailable
    when it could not be reached; the operator detail names the host."""
    error = from_rpc_error(err)
    error.operator_detail = f"compute host at {address}: {error.operator_detail}"
    return error


class RemoteComputeDriver:
    """ComputeDriver over ComputeService (grpc.aio). create and delete wait up to `timeout`
    seconds (the host may first stop a leftover agent, SIGTERM then SIGKILL), the other calls
    up to `query_timeout`; every call waits for the host within its deadline (a host that
    restarts is waited for, not failed at once)."""

    def __init__(
        self,
        address: str,
        health_udp_addr: str | Sequence[str],
        heartbeat_key_file: Path,
        heartbeat_interval: float,
        *,
        timeout: float = 30.0,
        query_timeout: float = 10.0,
        tls: InternalTLS | None = None,
    ):
        """health_udp_addr: every health receiver, as the compute host's agents reach them.
        tls: the worker's identity on the internal mutual-TLS network (None: plaintext, tests)."""
        self._address = address
        self._targets = (
            (health_udp_addr,) if isinstance(health_udp_addr, str) else tuple(health_udp_addr)
        )
        self._heartbeat_keys = AgentHeartbeatKeys(Path(heartbeat_key_file))
        self._heartbeat_interval = heartbeat_interval
        self._timeout = timeout
        self._query_timeout = query_timeout
        self._tls = tls
        self._open: grpc.aio.Channel | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def address(self) -> str:
        return self._address

    def _channel(self) -> grpc.aio.Channel:
        """The channel to the compute host: the one place one is made."""
        loop = asyncio.get_running_loop()
        if self._open is None or self._loop is not loop:
            # aio channels belong to the loop that made them.
            self._open = aio_channel(self._address, COMPUTE, self._tls, _CHANNEL_OPTIONS)
            self._loop = loop
        return self._open

    def _stub(self) -> compute_service_pb2_grpc.ComputeServiceStub:
        return compute_service_pb2_grpc.ComputeServiceStub(self._channel())

    async def _call(self, method: str, request: object, timeout: float) -> Any:
        try:
            return await getattr(self._stub(), method)(
                request, timeout=timeout, wait_for_ready=True
            )
        except grpc.RpcError as err:
            raise map_compute_error(err, self._address) from err

    async def create_amphora(self, spec: AmphoraSpec) -> ComputeInstance:
        """Raises Unavailable before calling the host when the master keys cannot be read."""
        heartbeat = AgentHeartbeat(
            targets=self._targets,
            interval=self._heartbeat_interval,
            key_file=self._heartbeat_keys.agent_file(spec.amphora_id),
        )
        resp = await self._call("CreateAmphora", encode_create(spec, heartbeat), self._timeout)
        return decode_instance(resp.instance)

    async def is_alive(self, compute_id: str) -> bool:
        """Raises Unavailable when the host cannot say (never False for "unknown")."""
        request = pb.IsAliveRequest(compute_id=compute_id)
        resp = await self._call("IsAlive", request, self._query_timeout)
        return bool(resp.alive)

    async def delete_amphora(self, amphora_id: str, compute_id: str) -> None:
        request = pb.DeleteAmphoraRequest(amphora_id=amphora_id, compute_id=compute_id)
        await self._call("DeleteAmphora", request, self._timeout)

    async def take_vip(
        self, amphora_id: str, vip_address: str, prefix_length: int, previous: Sequence[str]
    ) -> None:
        request = pb.TakeVipRequest(
            amphora_id=amphora_id,
            vip_address=vip_address,
            prefix_length=prefix_length,
            previous=list(previous),
        )
        await self._call("TakeVip", request, self._query_timeout)

    async def sync_heartbeat_keys(self) -> int:
        """Sends each amphora on the host whose key file differs from what the master file
        gives now its new one (housekeeping, after a rotation); how many the host rewrote."""
        listing = await self._call("ListAmphorae", pb.ListAmphoraeRequest(), self._query_timeout)
        held = {a.amphora_id: a.heartbeat_key_sha256 for a in listing.amphorae}
        wanted = await asyncio.to_thread(self._heartbeat_keys.agent_files, held)
        changed = [
            pb.HeartbeatKeyFile(amphora_id=amphora_id, key_file=key_file)
            for amphora_id, key_file in wanted.items()
            if hashlib.sha256(key_file).digest() != held[amphora_id]
        ]
        if not changed:
            return 0
        request = pb.UpdateHeartbeatKeysRequest(key_files=changed)
        resp = await self._call("UpdateHeartbeatKeys", request, self._query_timeout)
        return int(resp.rewritten)

    async def close(self) -> None:
        if self._open is not None:
            channel, self._open = self._open, None
            await channel.close()
