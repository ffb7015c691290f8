"""Contract network messages -> Neutron v2.0 JSON objects."""

from __future__ import annotations

from typing import Any

from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb


def _common(obj: Any) -> dict[str, Any]:
    return {
        "id": obj.id,
        "name": obj.name,
        "project_id": obj.project_id,
        "tenant_id": obj.project_id,
        "description": "",
        "tags": [],
        "revision_number": 0,
        "created_at": None,
        "updated_at": None,
    }


def network(n: pb.Network) -> dict[str, Any]:
    return {
        **_common(n),
        "admin_state_up": n.admin_state_up,
        "status": n.status or "ACTIVE",
        "subnets": list(n.subnet_ids),
        "shared": n.shared,
        "router:external": False,
        "port_security_enabled": True,
        "availability_zone_hints": [],
        "availability_zones": [],
        "ipv4_address_scope": None,
        "ipv6_address_scope": None,
        "is_default": False,
        "mtu": 1500,
    }


def subnet(s: pb.Subnet) -> dict[str, Any]:
    return {
        **_common(s),
        "network_id": s.network_id,
        "cidr": s.cidr,
        "ip_version": s.ip_version or (6 if ":" in s.cidr else 4),
        "gateway_ip": s.gateway_ip or None,
        "enable_dhcp": False,
        "allocation_pools": [],
        "dns_nameservers": [],
        "host_routes": [],
        "ipv6_address_mode": None,
        "ipv6_ra_mode": None,
        "subnetpool_id": None,
        "service_types": [],
        "segment_id": None,
    }


def port(p: pb.Port) -> dict[str, Any]:
    return {
        **_common(p),
        "network_id": p.network_id,
        "fixed_ips": [{"subnet_id": f.subnet_id, "ip_address": f.ip_address} for f in p.fixed_ips],
        "device_owner": p.device_owner,
        "device_id": p.device_id,
        "admin_state_up": p.admin_state_up,
        "status": p.status or "ACTIVE",
        "mac_address": "",
        "security_groups": [],
        "allowed_address_pairs": [],
        "port_security_enabled": True,
        "binding:vnic_type": "normal",
    }
