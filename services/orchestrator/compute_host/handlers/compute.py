"""ComputeService handlers: decode, call the local compute driver, encode."""

from __future__ import annotations

import asyncio
import hashlib

import grpc
from lbaas.compute.v1 import compute_service_pb2 as pb
from lbaas.compute.v1 import compute_service_pb2_grpc

from services.common.errors import InvalidInput
from services.orchestrator.adapters.compute_codec import decode_create, encode_instance
from services.orchestrator.adapters.compute_local import LocalComputeDriver


def _required(value: str, field: str) -> str:
    if not value:
        raise InvalidInput(f"{field} is required", field=field)
    return value


class ComputeServicer(compute_service_pb2_grpc.ComputeServiceServicer):
    def __init__(self, driver: LocalComputeDriver) -> None:
        self._driver = driver

    async def CreateAmphora(
        self, request: pb.CreateAmphoraRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateAmphoraResponse:
        spec, heartbeat = decode_create(request)
        instance = await self._driver.create_amphora(spec, heartbeat)
        return pb.CreateAmphoraResponse(instance=encode_instance(instance))

    async def IsAlive(
        self, request: pb.IsAliveRequest, context: grpc.aio.ServicerContext
    ) -> pb.IsAliveResponse:
        return pb.IsAliveResponse(alive=await self._driver.is_alive(request.compute_id))

    async def DeleteAmphora(
        self, request: pb.DeleteAmphoraRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteAmphoraResponse:
        amphora_id = _required(request.amphora_id, "amphora_id")
        await self._driver.delete_amphora(amphora_id, request.compute_id)
        return pb.DeleteAmphoraResponse()

    async def TakeVip(
        self, request: pb.TakeVipRequest, context: grpc.aio.ServicerContext
    ) -> pb.TakeVipResponse:
        await self._driver.take_vip(
            _required(request.amphora_id, "amphora_id"),
            _required(request.vip_address, "vip_address"),
            request.prefix_length,
            list(request.previous),
        )
        return pb.TakeVipResponse()

    async def ListAmphorae(
        self, request: pb.ListAmphoraeRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAmphoraeResponse:
        key_files = await asyncio.to_thread(self._driver.heartbeat_key_files)
        return pb.ListAmphoraeResponse(
            amphorae=[
                pb.HostedAmphora(
                    amphora_id=amphora_id, heartbeat_key_sha256=hashlib.sha256(data).digest()
                )
                for amphora_id, data in key_files.items()
            ]
        )

    async def UpdateHeartbeatKeys(
        self, request: pb.UpdateHeartbeatKeysRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateHeartbeatKeysResponse:
        for index, entry in enumerate(request.key_files):
            _required(entry.amphora_id, f"key_files[{index}].amphora_id")
            if not entry.key_file:
                field = f"key_files[{index}].key_file"
                raise InvalidInput(f"{field} is required", field=field)

        def update() -> int:
            update_one = self._driver.update_heartbeat_key
            return sum(update_one(e.amphora_id, e.key_file) for e in request.key_files)

        return pb.UpdateHeartbeatKeysResponse(rewritten=await asyncio.to_thread(update))
