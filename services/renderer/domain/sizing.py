"""The appliance's compute size (Target.size), checked once for every renderer.

proto3 cannot tell an unset number from 0, and the contract gives 0 the meaning "the engine's
default", so 0 and an unset `size` both come out as None: nothing is rendered for them and the
config stays byte-identical to one rendered without a size.
"""

from __future__ import annotations

from dataclasses import dataclass

from lbaas.renderer.v1 import renderer_service_pb2

from services.renderer.domain import filters

FIELD = "target.size"
# haproxy refuses nbthread above its build's MAX_THREADS, 64 on 64-bit builds.
MAX_THREADS = 64
MAX_CONNECTIONS = 10_000_000


@dataclass(frozen=True)
class Size:
    threads: int | None  # None: the engine's default
    max_connections: int | None  # None: the engine's default


def size(target: renderer_service_pb2.Target) -> Size:
    if not target.HasField("size"):
        return Size(None, None)
    return Size(
        threads=_count(target.size.threads, f"{FIELD}.threads", MAX_THREADS),
        max_connections=_count(
            target.size.max_connections, f"{FIELD}.max_connections", MAX_CONNECTIONS
        ),
    )


def _count(value: int, field: str, high: int) -> int | None:
    if value == 0:
        return None
    return filters.int_range(value, field, 1, high)
