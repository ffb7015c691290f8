"""Contract messages -> Octavia v2 JSON objects (field names and defaults as Octavia shows them)."""

from __future__ import annotations

from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from lbaas.common.v1 import graph_pb2 as g
from lbaas.common.v1 import status_pb2 as st
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb


def timestamp(ts: Timestamp) -> str | None:
    if ts.seconds == 0 and ts.nanos == 0:
        return None
    return ts.ToDatetime().strftime("%Y-%m-%dT%H:%M:%S")


def provisioning(value: int) -> str:
    name = st.ProvisioningStatus.Name(value)
    return "" if value == 0 else name.removeprefix("PROVISIONING_STATUS_")


def operating(value: int) -> str:
    name = st.OperatingStatus.Name(value)
    return "OFFLINE" if value == 0 else name.removeprefix("OPERATING_STATUS_")


def _or_none(value: str) -> str | None:
    return value or None


def _ids(ids: Any) -> list[dict[str, str]]:
    return [{"id": i} for i in ids if i]


def _meta(meta: g.ResourceMeta, *, description: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": meta.id,
        "name": meta.name,
        "project_id": meta.project_id,
        "provisioning_status": provisioning(meta.provisioning_status),
        "operating_status": operating(meta.operating_status),
        "admin_state_up": meta.admin_state_up,
        "created_at": timestamp(meta.created_at),
        "updated_at": timestamp(meta.updated_at),
        "tags": list(meta.tags),
    }
    if description:
        out["description"] = meta.description
    return out


def loadbalancer(lb: g.LoadBalancer) -> dict[str, Any]:
    return {
        **_meta(lb.meta),
        "tenant_id": lb.meta.project_id,
        "vip_address": _or_none(lb.vip.address),
        "vip_port_id": _or_none(lb.vip.port_id),
        "vip_subnet_id": _or_none(lb.vip.subnet_id),
        "vip_network_id": _or_none(lb.vip.network_id),
        "vip_qos_policy_id": _or_none(lb.vip.qos_policy_id),
        "vip_vnic_type": "normal",
        "additional_vips": [],
        "listeners": _ids(x.meta.id for x in lb.listeners),
        "pools": _ids(x.meta.id for x in lb.pools),
        "provider": lb.provider or "amphora",
        "flavor_id": lb.flavor_id,
        "availability_zone": _or_none(lb.availability_zone),
    }


def listener(li: g.Listener) -> dict[str, Any]:
    return {
        **_meta(li.meta),
        "protocol": li.protocol,
        "protocol_port": li.protocol_port,
        "connection_limit": li.connection_limit,
        "default_tls_container_ref": None,
        "sni_container_refs": [],
        "default_pool_id": _or_none(li.default_pool_id),
        "l7policies": [],
        "insert_headers": dict(li.insert_headers),
        "loadbalancers": _ids([li.loadbalancer_id]),
        "timeout_client_data": li.timeout_client_data,
        "timeout_member_connect": li.timeout_member_connect,
        "timeout_member_data": li.timeout_member_data,
        "timeout_tcp_inspect": li.timeout_tcp_inspect,
        "client_ca_tls_container_ref": None,
        "client_authentication": "NONE",
        "client_crl_container_ref": None,
        "allowed_cidrs": list(li.allowed_cidrs) or None,
        "tls_ciphers": None,
        "tls_versions": None,
        "alpn_protocols": None,
        "hsts_max_age": None,
        "hsts_include_subdomains": False,
        "hsts_preload": False,
    }


def _persistence(sp: g.SessionPersistence) -> dict[str, Any] | None:
    if not sp.type:
        return None
    return {
        "type": sp.type,
        "cookie_name": _or_none(sp.cookie_name),
        "persistence_timeout": sp.persistence_timeout
        if sp.HasField("persistence_timeout")
        else None,
        "persistence_granularity": _or_none(sp.persistence_granularity),
    }


def pool(p: g.Pool) -> dict[str, Any]:
    hm_id = p.healthmonitor.meta.id if p.HasField("healthmonitor") else ""
    return {
        **_meta(p.meta),
        "protocol": p.protocol,
        "lb_algorithm": p.lb_algorithm,
        "session_persistence": _persistence(p.session_persistence),
        "loadbalancers": _ids([p.loadbalancer_id]),
        "listeners": _ids(p.listener_ids),
        "members": _ids(m.meta.id for m in p.members),
        "healthmonitor_id": _or_none(hm_id),
        "tls_enabled": False,
        "tls_container_ref": None,
        "ca_tls_container_ref": None,
        "crl_container_ref": None,
        "tls_ciphers": None,
        "tls_versions": None,
        "alpn_protocols": None,
    }


def member(m: g.Member) -> dict[str, Any]:
    out = _meta(m.meta, description=False)
    out.update(
        {
            "address": m.address,
            "protocol_port": m.protocol_port,
            "weight": m.weight,
            "backup": m.backup,
            "subnet_id": _or_none(m.subnet_id),
            "monitor_address": _or_none(m.monitor_address),
            "monitor_port": m.monitor_port if m.HasField("monitor_port") else None,
            "vnic_type": "normal",
        }
    )
    return out


def healthmonitor(hm: g.HealthMonitor) -> dict[str, Any]:
    out = _meta(hm.meta, description=False)
    out.update(
        {
            "type": hm.type,
            "delay": hm.delay,
            "timeout": hm.timeout,
            "max_retries": hm.max_retries,
            "max_retries_down": hm.max_retries_down,
            "http_method": _or_none(hm.http_method),
            "url_path": _or_none(hm.url_path),
            "expected_codes": _or_none(hm.expected_codes),
            "http_version": float(hm.http_version) if hm.http_version else None,
            "domain_name": _or_none(hm.domain_name),
            "pools": _ids([hm.pool_id]),
        }
    )
    return out


def _status_node(node: pb.StatusNode, *extra: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": node.id,
        "name": node.name,
        "provisioning_status": provisioning(node.provisioning_status),
        "operating_status": operating(node.operating_status),
    }
    for key in extra:
        if key in node.attributes:
            value = node.attributes[key]
            out[key] = int(value) if key == "protocol_port" and value.isdigit() else value
    return out


def _pool_status(ps: pb.PoolStatus) -> dict[str, Any]:
    out = _status_node(ps.pool)
    out["healthmonitor"] = _status_node(ps.healthmonitor, "type") if ps.healthmonitor.id else {}
    out["members"] = [_status_node(m, "address", "protocol_port") for m in ps.members]
    return out


def status_tree(tree: pb.StatusTree) -> dict[str, Any]:
    lb = _status_node(tree.loadbalancer)
    lb["listeners"] = []
    pools: dict[str, dict[str, Any]] = {}
    for ls in tree.listeners:
        node = _status_node(ls.listener)
        node["pools"] = [_pool_status(p) for p in ls.pools]
        node["l7policies"] = []
        for p in node["pools"]:
            pools.setdefault(p["id"], p)
        lb["listeners"].append(node)
    lb["pools"] = list(pools.values())
    return {"statuses": {"loadbalancer": lb}}
