"""How the `netns` drivers share one bridge subnet: host address, VIP range, amphora range.

The subnet (LBAAS_NETNS_CIDR, at most a /22 so that it holds at least four /24 blocks) is cut in
/24 blocks, and no address ending in .0 or .255 is ever handed out:
- block 0: the host's address on the bridge (.1), the gateway clients and members use;
- the lower half of the blocks after block 0: VIPs (the network driver allocates them);
- the upper half: the amphorae's own addresses (the compute driver allocates them), which carry
  the agent's gRPC endpoint, VRRP adverts and haproxy peers.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

DEFAULT_CIDR = "10.240.0.0/16"
HOSTS_PER_BLOCK = 254


@dataclass(frozen=True)
class AddressRange:
    """Addresses in /24 blocks [first_block, last_block] of a subnet, .1 to .254 of each."""

    base: int  # the subnet's network address, as an int
    first_block: int
    last_block: int

    @property
    def size(self) -> int:
        return (self.last_block - self.first_block + 1) * HOSTS_PER_BLOCK

    def at(self, index: int) -> str:
        """The index-th address of the range (wrapping around)."""
        block, host = divmod(index % self.size, HOSTS_PER_BLOCK)
        return str(ipaddress.IPv4Address(self.base + (self.first_block + block) * 256 + host + 1))

    def index_of(self, address: str) -> int | None:
        """The index of address in the range, None when it is not one of its addresses."""
        try:
            value = int(ipaddress.IPv4Address(address)) - self.base
        except ValueError:
            return None
        block, host = divmod(value, 256)
        if not (self.first_block <= block <= self.last_block) or host in (0, 255):
            return None
        return (block - self.first_block) * HOSTS_PER_BLOCK + host - 1

    def __contains__(self, address: object) -> bool:
        return isinstance(address, str) and self.index_of(address) is not None

    @property
    def first(self) -> str:
        return self.at(0)

    @property
    def last(self) -> str:
        return self.at(self.size - 1)


@dataclass(frozen=True)
class NetnsLayout:
    cidr: str = DEFAULT_CIDR

    def __post_init__(self) -> None:
        network = ipaddress.ip_network(self.cidr, strict=True)
        if network.version != 4 or network.prefixlen > 22:
            raise ValueError(
                f"LBAAS_NETNS_CIDR must be an IPv4 subnet of /22 or larger, not {self.cidr}"
            )
        if network.is_loopback or network.is_link_local or network.is_multicast:
            raise ValueError(f"LBAAS_NETNS_CIDR {self.cidr} is not usable for a bridge")

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.cidr)

    @property
    def prefix_length(self) -> int:
        return self.network.prefixlen

    @property
    def _blocks(self) -> int:
        return self.network.num_addresses // 256

    @property
    def host_address(self) -> str:
        return str(self.network.network_address + 1)

    @property
    def vips(self) -> AddressRange:
        base = int(self.network.network_address)
        return AddressRange(base, 1, self._blocks // 2 - 1)

    @property
    def amphorae(self) -> AddressRange:
        base = int(self.network.network_address)
        return AddressRange(base, self._blocks // 2, self._blocks - 1)
