"""Small builders of graphs and heartbeats shared by the health unit tests."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp
from lbaas.common.v1 import graph_pb2
from lbaas.health.v1 import heartbeat_pb2


def meta(object_id: str, admin_state_up: bool = True) -> graph_pb2.ResourceMeta:
    return graph_pb2.ResourceMeta(id=object_id, admin_state_up=admin_state_up)


def member(member_id: str, *, up: bool = True, backup: bool = False) -> graph_pb2.Member:
    return graph_pb2.Member(meta=meta(member_id, up), backup=backup)


def pool(
    pool_id: str,
    members: list[graph_pb2.Member],
    *,
    up: bool = True,
    hm: str = "",
    hm_up: bool = True,
) -> graph_pb2.Pool:
    result = graph_pb2.Pool(meta=meta(pool_id, up), members=members)
    if hm:
        result.healthmonitor.CopyFrom(
            graph_pb2.HealthMonitor(meta=meta(hm, hm_up), pool_id=pool_id)
        )
    return result


def listener(listener_id: str, default_pool_id: str = "", *, up: bool = True) -> graph_pb2.Listener:
    return graph_pb2.Listener(meta=meta(listener_id, up), default_pool_id=default_pool_id)


def loadbalancer(
    lb_id: str = "lb", listeners: tuple = (), pools: tuple = (), *, up: bool = True
) -> graph_pb2.LoadBalancer:
    return graph_pb2.LoadBalancer(
        meta=meta(lb_id, up), listeners=list(listeners), pools=list(pools)
    )


def heartbeat(
    *,
    amphora_id: str = "amp-1",
    sequence: int = 1,
    sent_at: float = 1_000_000.0,
    boot_id: str = "boot-a",
    listeners: dict[str, str] | None = None,
    pools: dict[str, tuple[str, dict[str, str]]] | None = None,
    config_hash: str = "hash-1",
) -> heartbeat_pb2.Heartbeat:
    stamp = Timestamp()
    stamp.FromNanoseconds(int(sent_at * 1e9))
    return heartbeat_pb2.Heartbeat(
        amphora_id=amphora_id,
        sequence=sequence,
        sent_at=stamp,
        boot_id=boot_id,
        applied_config_hash=config_hash,
        listeners=[
            heartbeat_pb2.ListenerReport(listener_id=i, status=s)
            for i, s in (listeners or {}).items()
        ],
        pools=[
            heartbeat_pb2.PoolReport(
                pool_id=pid,
                status=status,
                members=[
                    heartbeat_pb2.MemberReport(member_id=m, status=ms) for m, ms in members.items()
                ],
            )
            for pid, (status, members) in (pools or {}).items()
        ],
    )
