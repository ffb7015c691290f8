"""ACTIVE_STANDBY pairs: which half is MASTER, and what each half's renderer target says.

The MASTER holds the VIP (keepalived, higher priority); the BACKUP takes it when the MASTER's
adverts stop. Roles follow what serves: when a half is replaced (failover, resize), the half that
survives is made MASTER (it already holds the VIP, or takes it when the other dies) and the new
one BACKUP, so building the replacement never moves the VIP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lbaas.renderer.v1 import renderer_service_pb2

SINGLE = "SINGLE"
ACTIVE_STANDBY = "ACTIVE_STANDBY"
MASTER = "MASTER"
BACKUP = "BACKUP"
STANDALONE = "STANDALONE"
PRIORITY = {MASTER: 100, BACKUP: 90}
# The netns compute driver's interface in every amphora namespace.
VRRP_INTERFACE = "eth0"
# haproxy `peers` listen here, on the amphora's own address (Octavia uses the same port).
PEERS_PORT = 1025
# Unicast adverts go only to the peer: one router id serves every pair.
ROUTER_ID = 1
# What an agent that runs keepalived for a pair config reports (GetInfo capabilities); an older
# agent would write keepalived.conf and run nothing.
CAPABILITY = "vrrp-keepalived"


def size(topology: str) -> int:
    """How many serving amphorae a load balancer of this topology has."""
    return 2 if topology == ACTIVE_STANDBY else 1


@dataclass(frozen=True)
class Member:
    """A live (not replaced) amphora of a load balancer, as roles are decided."""

    id: str
    role: str
    serving: bool  # its config was applied (ALLOCATED); a new one is not serving yet


def assign_roles(topology: str, members: Sequence[Member]) -> dict[str, str]:
    """amphora id -> role. SINGLE: STANDALONE. ACTIVE_STANDBY: a serving half before a new one,
    and among equals the current MASTER first, then the order given (oldest first)."""
    if topology != ACTIVE_STANDBY:
        return {m.id: STANDALONE for m in members}
    ranked = sorted(
        enumerate(members), key=lambda im: (not im[1].serving, im[1].role != MASTER, im[0])
    )
    roles = {}
    for rank, (_, member) in enumerate(ranked):
        roles[member.id] = MASTER if rank == 0 else BACKUP
    return roles


@dataclass(frozen=True)
class Half:
    id: str
    role: str
    address: str  # the amphora's own address on the VRRP interface


def vrrp_target(
    half: Half, peer: Half, advert_interval: float, vip_prefix_length: int
) -> renderer_service_pb2.Vrrp:
    """What the renderer needs to render this half's keepalived and haproxy peers."""
    return renderer_service_pb2.Vrrp(
        role=half.role,
        priority=PRIORITY[half.role],
        interface=VRRP_INTERFACE,
        own_address=half.address,
        peer_amphora_id=peer.id,
        peer_address=peer.address,
        router_id=ROUTER_ID,
        advert_interval_ms=round(advert_interval * 1000),
        vip_prefix_length=vip_prefix_length,
        peers_port=PEERS_PORT,
    )


def vrrp_targets(
    halves: Sequence[Half], advert_interval: float, vip_prefix_length: int
) -> dict[str, renderer_service_pb2.Vrrp | None]:
    """amphora id -> its Vrrp (two halves) or None (a SINGLE load balancer's one amphora)."""
    if len(halves) != 2:
        return {h.id: None for h in halves}
    first, second = halves
    return {
        first.id: vrrp_target(first, second, advert_interval, vip_prefix_length),
        second.id: vrrp_target(second, first, advert_interval, vip_prefix_length),
    }
