"""The `loopback` network driver: one network and subnet on 127.0.0.0/8, VIPs as port rows."""

from __future__ import annotations

import ipaddress
import uuid

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.common.errors import Conflict, InvalidInput
from services.orchestrator.adapters.db.models import VipPortRow
from services.orchestrator.domain.netns_layout import AddressRange, NetnsLayout
from services.orchestrator.domain.ports import NetworkView, SubnetView, VipAllocation

_NAMESPACE = uuid.UUID("6f1c9a51-0d4e-4f53-9a43-6b1f0c2d7e10")
NETWORK_ID = str(uuid.uuid5(_NAMESPACE, "lbaas-loopback-network"))
SUBNET_ID = str(uuid.uuid5(_NAMESPACE, "lbaas-loopback-subnet"))
_CIDR = ipaddress.ip_network("127.0.0.0/8")
# 127.0.0.0/24 holds 127.0.0.1 and the control plane's own listeners; VIPs never come from it:
# they are .1-.254 of the /24 blocks 127.0.1.0 to 127.255.255.0.
LOOPBACK_RANGE = AddressRange(int(_CIDR.network_address), 1, 65535)
# Serializes VIP allocations so two concurrent creates cannot pick the same address.
_ALLOCATION_LOCK = 7355609
DEVICE_OWNER = "Octavia"
# Migration 0005's sequence of candidate addresses (see AddressRange.at).
_VIP_SEQUENCE = "vip_address_seq"
_SEQUENCE_ATTEMPTS = 32


def _insert_next_address(pool: AddressRange):
    """nextval and the insert in one round trip: the address is pool.at(nextval), in SQL."""
    before_first = ipaddress.IPv4Address(pool.base + pool.first_block * 256)
    return text(
        f"""
    INSERT INTO vip_port
        (id, name, project_id, network_id, subnet_id, ip_address, device_id, device_owner,
         created_at)
    SELECT :id, :name, :project_id, :network_id, :subnet_id,
           host(inet '{before_first}' + ((n.k / 254) * 256 + n.k % 254 + 1)),
           :device_id, :device_owner, now()
    FROM (SELECT nextval('{_VIP_SEQUENCE}') % {pool.size} AS k) AS n
    ON CONFLICT DO NOTHING
    RETURNING ip_address
    """
    )


class LoopbackNetworkDriver:
    """One network and subnet whose VIPs are port rows. By default the host's loopback (Linux
    answers on all of 127.0.0.0/8); netns_network_driver() gives the `netns` drivers' bridge
    subnet, whose VIPs the amphorae in the namespaces hold."""

    def __init__(
        self,
        *,
        name: str = "lbaas-loopback",
        network_id: str = NETWORK_ID,
        subnet_id: str = SUBNET_ID,
        cidr: str = str(_CIDR),
        gateway_ip: str = "",
        pool: AddressRange = LOOPBACK_RANGE,
    ):
        self.network = NetworkView(id=network_id, name=name, subnet_ids=(subnet_id,))
        self.subnet = SubnetView(
            id=subnet_id,
            name=f"{name}-subnet",
            network_id=network_id,
            cidr=cidr,
            ip_version=4,
            gateway_ip=gateway_ip,
        )
        self.pool = pool
        self.prefix_length = ipaddress.ip_network(cidr).prefixlen
        self._insert_next = _insert_next_address(pool)

    def list_networks(self, id: str = "", name: str = "") -> list[NetworkView]:
        net = self.network
        if (id and id != net.id) or (name and name != net.name):
            return []
        return [net]

    def list_subnets(self, id: str = "", name: str = "", network_id: str = "") -> list[SubnetView]:
        sub = self.subnet
        if (id and id != sub.id) or (name and name != sub.name):
            return []
        if network_id and network_id != sub.network_id:
            return []
        return [sub]

    def list_ports(
        self, session: Session, id: str = "", name: str = "", network_id: str = ""
    ) -> list[VipPortRow]:
        query = select(VipPortRow).order_by(VipPortRow.created_at)
        if id:
            query = query.where(VipPortRow.id == id)
        if name:
            query = query.where(VipPortRow.name == name)
        if network_id:
            query = query.where(VipPortRow.network_id == network_id)
        return list(session.scalars(query))

    def resolve(self, subnet_id: str, network_id: str) -> tuple[str, str]:
        """(subnet_id, network_id) for a VIP request; unknown ids are the caller's error."""
        if subnet_id and subnet_id != self.subnet.id:
            raise InvalidInput(f"Subnet {subnet_id} not found.", field="vip_subnet_id")
        if network_id and network_id != self.network.id:
            raise InvalidInput(f"Network {network_id} not found.", field="vip_network_id")
        if not subnet_id and not network_id:
            raise InvalidInput(
                "One of vip_subnet_id or vip_network_id is required.", field="vip_subnet_id"
            )
        return self.subnet.id, self.network.id

    def allocate_vip(
        self,
        session: Session,
        *,
        loadbalancer_id: str,
        project_id: str,
        subnet_id: str,
        network_id: str,
        requested_address: str = "",
    ) -> VipAllocation:
        # Called once per load balancer, by its create, in the transaction that inserts it: a
        # failed create rolls its port back with it, so there is never one to reuse.
        subnet_id, network_id = self.resolve(subnet_id, network_id)
        port_id = str(uuid.uuid4())
        values = {
            "id": port_id,
            "name": f"octavia-lb-{loadbalancer_id}",
            "project_id": project_id,
            "network_id": network_id,
            "subnet_id": subnet_id,
            "device_id": loadbalancer_id,
            "device_owner": DEVICE_OWNER,
        }
        if requested_address:
            address = self._check_requested(requested_address)
            # The unique (network_id, ip_address) constraint decides; a concurrent create of the
            # same address waits for the other transaction and then finds it taken.
            if not _insert_port(session, {**values, "ip_address": address}):
                raise Conflict(
                    f"IP address {address} is already allocated on subnet {subnet_id}.",
                    field="vip_address",
                )
            return VipAllocation(port_id, address, subnet_id, network_id)
        # Candidates come from a sequence: no lock and no scan of the ports, and concurrent
        # creates never try the same address. An address already taken (requested explicitly,
        # or still in use after the sequence wrapped) is skipped.
        for _ in range(_SEQUENCE_ATTEMPTS):
            address = session.execute(self._insert_next, values).scalar_one_or_none()
            if address is not None:
                return VipAllocation(port_id, address, subnet_id, network_id)
        # Nearly full: serialize and take the first free address, as a last resort.
        session.execute(select(func.pg_advisory_xact_lock(_ALLOCATION_LOCK)))
        used = set(session.scalars(select(VipPortRow.ip_address)))
        address = self._first_free(used)
        if not _insert_port(session, {**values, "ip_address": address}):
            raise Conflict(
                f"No free VIP address left on subnet {self.subnet.id}.", field="vip_address"
            )
        return VipAllocation(port_id, address, subnet_id, network_id)

    def release_vip(self, session: Session, loadbalancer_id: str) -> None:
        session.execute(delete(VipPortRow).where(VipPortRow.device_id == loadbalancer_id))

    def _check_requested(self, text: str) -> str:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            raise InvalidInput(f"Invalid VIP address {text!r}.", field="vip_address") from None
        if str(address) not in self.pool:
            raise InvalidInput(
                f"VIP address {text} is not in the allocation range of the subnet "
                f"({self.subnet.cidr}: {self.pool.first} to {self.pool.last}, "
                "no .0 or .255).",
                field="vip_address",
            )
        return str(address)

    def _first_free(self, used: set[str]) -> str:
        for index in range(self.pool.size):
            candidate = self.pool.at(index)
            if candidate not in used:
                return candidate
        raise Conflict(f"No free VIP address left on subnet {self.subnet.id}.", field="vip_address")


def netns_network_driver(layout: NetnsLayout) -> LoopbackNetworkDriver:
    """The `netns` network: the bridge subnet, VIPs from its VIP range (domain/netns_layout)."""
    return LoopbackNetworkDriver(
        name="lbaas-netns",
        network_id=str(uuid.uuid5(_NAMESPACE, f"lbaas-netns-network {layout.cidr}")),
        subnet_id=str(uuid.uuid5(_NAMESPACE, f"lbaas-netns-subnet {layout.cidr}")),
        cidr=layout.cidr,
        gateway_ip=layout.host_address,
        pool=layout.vips,
    )


def _address_at(index: int) -> str:
    """The index-th allocatable loopback address: 127.0.1.1, ..., 127.0.1.254, 127.0.2.1, ...
    (no .0 or .255), wrapping around after 127.255.255.254."""
    return LOOPBACK_RANGE.at(index)


def _insert_port(session: Session, values: dict) -> bool:
    """Inserts the port row unless its address is taken; True when inserted."""
    inserted = session.execute(
        pg_insert(VipPortRow).values(**values).on_conflict_do_nothing().returning(VipPortRow.id)
    ).first()
    return inserted is not None
