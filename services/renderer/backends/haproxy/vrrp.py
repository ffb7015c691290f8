"""ACTIVE_STANDBY: one half of a keepalived pair (VRRPv3, unicast to the peer) and haproxy peers.

When the target carries `vrrp`, the rendering gains `keepalived.conf` and `check_haproxy.sh`,
and haproxy.cfg gains `localpeer`, a `peers` section naming both halves and `peers` on every
stick table, so SOURCE_IP / APP_COOKIE persistence survives a takeover. Without `vrrp` nothing
of this is rendered and haproxy.cfg is byte-identical to a SINGLE rendering.

Preemption. The orchestrator gives the MASTER the higher priority and moves the VIP by
re-rendering both halves with the roles (and so the priorities) swapped. keepalived therefore
preempts (no `nopreempt`, which only works when both halves start as BACKUP and would keep the
VIP on the old MASTER after a swap): the higher priority holds the VIP whenever its haproxy is
alive. A freshly built BACKUP hears the MASTER's higher-priority adverts and never takes the VIP.
While one half of a swap has been re-rendered and the other not yet, both priorities are equal,
and a BACKUP only preempts a strictly lower priority, so a half-applied swap does not move the
VIP either. `state` follows the role: a MASTER claims the VIP at once instead of after three
missed adverts, which only matters when it has the higher priority anyway. A half only hears
adverts from the address in its unicast_peer (`check_unicast_src`), so when one half is
replaced, the survivor must get its config naming the new peer before the new half starts.

Health. `vrrp_script` runs check_haproxy.sh every second (keepalived 2.2 takes whole seconds
only); two failures put the instance in FAULT (no weight: a dead haproxy never holds the VIP),
which sends a priority-0 advert so the BACKUP takes over at once; two successes bring it back.
The script is run as `/bin/sh <runtime_dir>/conf/check_haproxy.sh`: keepalived resolves a
script's own path through symlinks when it loads its config, which would pin it to one config
version (later pruned by the agent), while sh opens conf/ afresh on every run. It also lets
`keepalived -t` check a staged config before conf/ points at it.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from lbaas.common.v1 import graph_pb2
from lbaas.renderer.v1 import renderer_service_pb2

from services.common.errors import InvalidInput
from services.renderer.domain import filters

KEEPALIVED_PATH = "keepalived.conf"
KEEPALIVED_MODE = 0o644
CHECK_SCRIPT_PATH = "check_haproxy.sh"
CHECK_SCRIPT_MODE = 0o755
PEERS_SECTION = "lbaas_peers"
ROLES = frozenset({"MASTER", "BACKUP"})
# VRRPv3 carries the advert interval in 12 bits of centiseconds.
MIN_ADVERT_MS, MAX_ADVERT_MS, ADVERT_STEP_MS = 10, 4095 * 10, 10
# keepalived's vrrp_script interval and timeout are whole seconds; 1 is the least.
CHECK = {"interval": 1, "timeout": 1, "fall": 2, "rise": 2}


def transform(
    lb_id: str, lb: graph_pb2.LoadBalancer, target: renderer_service_pb2.Target
) -> dict[str, Any] | None:
    """The validated half of the pair, or None when the target is not part of one."""
    if not target.HasField("vrrp"):
        return None
    vip = vip_address(lb, target)  # keepalived holds it even when there is no listener yet
    v = target.vrrp
    field = "target.vrrp"
    amphora_id = filters.uuid_id(target.amphora_id, "target.amphora_id")
    peer_id = filters.uuid_id(v.peer_amphora_id, f"{field}.peer_amphora_id")
    if peer_id.lower() == amphora_id.lower():
        raise InvalidInput(
            f"{field}.peer_amphora_id must name the other half, not this amphora",
            field=f"{field}.peer_amphora_id",
        )
    own = filters.ip_address(v.own_address, f"{field}.own_address")
    peer = filters.ip_address(v.peer_address, f"{field}.peer_address")
    for name, address in (("own_address", own), ("peer_address", peer)):
        if address.version != vip.version:
            raise InvalidInput(
                f"{field}.{name} must be an IPv{vip.version} address like the VIP",
                field=f"{field}.{name}",
            )
        if address == vip:
            raise InvalidInput(f"{field}.{name} must not be the VIP", field=f"{field}.{name}")
    if own == peer:
        raise InvalidInput(
            f"{field}.peer_address must differ from {field}.own_address",
            field=f"{field}.peer_address",
        )
    advert = filters.int_range(
        v.advert_interval_ms, f"{field}.advert_interval_ms", MIN_ADVERT_MS, MAX_ADVERT_MS
    )
    if advert % ADVERT_STEP_MS:
        raise InvalidInput(
            f"{field}.advert_interval_ms must be a multiple of {ADVERT_STEP_MS} "
            "(VRRPv3 counts in centiseconds)",
            field=f"{field}.advert_interval_ms",
        )
    peers_port = filters.int_range(v.peers_port, f"{field}.peers_port", 1, 65535)
    return {
        "amphora_id": amphora_id,
        "instance": lb_id,
        "state": filters.one_of(v.role, f"{field}.role", ROLES),
        "priority": filters.int_range(v.priority, f"{field}.priority", 1, 254),
        "interface": filters.interface_name(v.interface, f"{field}.interface"),
        "own_address": own,
        "peer_address": peer,
        "router_id": filters.int_range(v.router_id, f"{field}.router_id", 1, 255),
        "advert_interval_ms": advert,
        "vip": vip,
        "vip_prefix_length": filters.int_range(
            v.vip_prefix_length, f"{field}.vip_prefix_length", 1, vip.max_prefixlen
        ),
        "peers_section": PEERS_SECTION,
        "local_peer": peer_name(own),
        # Both halves list the peers in the same order, so their peers sections are identical.
        "peers": [
            {"name": peer_name(a), "address": a, "port": peers_port} for a in sorted((own, peer))
        ],
        "check": CHECK,
    }


def peer_name(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """A half's name in the peers section: from its address, not its amphora id. A half that
    replaces a dead one at the same address then leaves the survivor's haproxy.cfg as it was,
    so the survivor is not reloaded and keeps the stick-table entries it learned from the dead
    half (haproxy does not hand remote-learned entries to its new process on a reload)."""
    return "amp-" + address.exploded.replace(".", "-").replace(":", "-")


def vip_address(
    lb: graph_pb2.LoadBalancer, target: renderer_service_pb2.Target
) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if target.vip_address:
        return filters.ip_address(target.vip_address, "target.vip_address")
    return filters.ip_address(lb.vip.address, "loadbalancer.vip.address")


def advert_seconds(milliseconds: int) -> str:
    """keepalived's advert_int: seconds with two decimals (100 -> "0.10")."""
    return f"{milliseconds // 1000}.{milliseconds % 1000 // 10:02d}"
