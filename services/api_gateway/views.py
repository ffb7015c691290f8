"""Contract messages -> Octavia v2 JSON objects (field names and defaults as Octavia shows them)."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from lbaas.common.v1 import graph_pb2 as g
from lbaas.common.v1 import status_pb2 as st
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

_EPOCH = dt.datetime(1970, 1, 1)
_SECOND = dt.timedelta(seconds=1)


def timestamp(ts: Timestamp) -> str | None:
    """Octavia's format (whole seconds, UTC, no zone); what ts.ToDatetime().strftime gives."""
    seconds = ts.seconds
    if seconds == 0 and ts.nanos == 0:
        return None
    return _iso_seconds(seconds)


# Lists render the same few created_at/updated_at values on every request.
@functools.lru_cache(maxsize=4096)
def _iso_seconds(seconds: int) -> str:
    return (_EPOCH + seconds * _SECOND).isoformat(timespec="seconds")


_PROVISIONING = {
    value: ("" if value == 0 else name.removeprefix("PROVISIONING_STATUS_"))
    for name, value in st.ProvisioningStatus.items()
}
_OPERATING = {
    value: ("OFFLINE" if value == 0 else name.removeprefix("OPERATING_STATUS_"))
    for name, value in st.OperatingStatus.items()
}


def provisioning(value: int) -> str:
    try:
        return _PROVISIONING[value]
    except KeyError:
        st.ProvisioningStatus.Name(value)  # raises ValueError as before
        raise


def operating(value: int) -> str:
    try:
        return _OPERATING[value]
    except KeyError:
        st.OperatingStatus.Name(value)
        raise


def _or_none(value: str) -> str | None:
    return value or None


def _ids(ids: Any) -> list[dict[str, str]]:
    return [{"id": i} for i in ids if i]


def _meta(meta: g.ResourceMeta, *, description: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": meta.id,
        "name": meta.name,
        "project_id": meta.project_id,
        # Octavia still returns the deprecated tenant_id beside project_id on every resource.
        "tenant_id": meta.project_id,
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


def _list_or_none(values: Any) -> list[str] | None:
    return list(values) or None


def loadbalancer(lb: g.LoadBalancer) -> dict[str, Any]:
    # One dict literal (no _meta merge): lists build a thousand of these per request.
    meta, vip = lb.meta, lb.vip
    return {
        "id": meta.id,
        "name": meta.name,
        "project_id": meta.project_id,
        "provisioning_status": provisioning(meta.provisioning_status),
        "operating_status": operating(meta.operating_status),
        "admin_state_up": meta.admin_state_up,
        "created_at": timestamp(meta.created_at),
        "updated_at": timestamp(meta.updated_at),
        "tags": list(meta.tags),
        "description": meta.description,
        "tenant_id": meta.project_id,
        "vip_address": vip.address or None,
        "vip_port_id": vip.port_id or None,
        "vip_subnet_id": vip.subnet_id or None,
        "vip_network_id": vip.network_id or None,
        "vip_qos_policy_id": vip.qos_policy_id or None,
        "vip_vnic_type": lb.vip_vnic_type or "normal",
        "vip_sg_ids": list(lb.vip_sg_ids),
        "additional_vips": [
            {"subnet_id": v.subnet_id, "ip_address": v.ip_address or None}
            for v in lb.additional_vips
        ],
        "listeners": [{"id": i} for x in lb.listeners if (i := x.meta.id)],
        "pools": [{"id": i} for x in lb.pools if (i := x.meta.id)],
        "provider": lb.provider or "amphora",
        "flavor_id": lb.flavor_id or None,
        "availability_zone": lb.availability_zone or None,
    }


def loadbalancer_full(lb: g.LoadBalancer) -> dict[str, Any]:
    """Octavia's answer to a fully populated create: every child as a whole object."""
    out = loadbalancer(lb)
    out["listeners"] = [listener_full(x) for x in lb.listeners]
    out["pools"] = [pool_full(x) for x in lb.pools]
    return out


def listener(li: g.Listener) -> dict[str, Any]:
    return {
        **_meta(li.meta),
        "protocol": li.protocol,
        "protocol_port": li.protocol_port,
        "connection_limit": li.connection_limit,
        "default_tls_container_ref": _or_none(li.default_tls_container_ref),
        "sni_container_refs": list(li.sni_container_refs),
        "default_pool_id": _or_none(li.default_pool_id),
        "l7policies": _ids(p.meta.id for p in li.l7policies),
        "insert_headers": dict(li.insert_headers),
        "loadbalancers": _ids([li.loadbalancer_id]),
        "timeout_client_data": li.timeout_client_data,
        "timeout_member_connect": li.timeout_member_connect,
        "timeout_member_data": li.timeout_member_data,
        "timeout_tcp_inspect": li.timeout_tcp_inspect,
        "client_ca_tls_container_ref": _or_none(li.client_ca_tls_container_ref),
        "client_authentication": li.client_authentication or "NONE",
        "client_crl_container_ref": _or_none(li.client_crl_container_ref),
        "allowed_cidrs": _list_or_none(li.allowed_cidrs),
        "tls_ciphers": _or_none(li.tls_ciphers),
        "tls_versions": _list_or_none(li.tls_versions),
        "alpn_protocols": _list_or_none(li.alpn_protocols),
        "hsts_max_age": li.hsts_max_age if li.HasField("hsts_max_age") else None,
        "hsts_include_subdomains": li.hsts_include_subdomains,
        "hsts_preload": li.hsts_preload,
    }


def listener_full(li: g.Listener) -> dict[str, Any]:
    out = listener(li)
    out["l7policies"] = [l7policy_full(p) for p in li.l7policies]
    return out


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
        "tls_enabled": p.tls_enabled,
        "tls_container_ref": _or_none(p.tls_container_ref),
        "ca_tls_container_ref": _or_none(p.ca_tls_container_ref),
        "crl_container_ref": _or_none(p.crl_container_ref),
        "tls_ciphers": _or_none(p.tls_ciphers),
        "tls_versions": _list_or_none(p.tls_versions),
        "alpn_protocols": _list_or_none(p.alpn_protocols),
    }


def pool_full(p: g.Pool) -> dict[str, Any]:
    out = pool(p)
    out["members"] = [member(m) for m in p.members]
    has_hm = p.HasField("healthmonitor") and p.healthmonitor.meta.id
    out["healthmonitor"] = healthmonitor(p.healthmonitor) if has_hm else None
    return out


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
            "vnic_type": m.vnic_type or "normal",
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


def l7policy(p: g.L7Policy) -> dict[str, Any]:
    return {
        **_meta(p.meta),
        "listener_id": p.listener_id,
        "action": p.action,
        "position": p.position,
        "redirect_pool_id": _or_none(p.redirect_pool_id),
        "redirect_url": _or_none(p.redirect_url),
        "redirect_prefix": _or_none(p.redirect_prefix),
        "redirect_http_code": p.redirect_http_code if p.HasField("redirect_http_code") else None,
        "rules": _ids(r.meta.id for r in p.rules),
    }


def l7policy_full(p: g.L7Policy) -> dict[str, Any]:
    out = l7policy(p)
    out["rules"] = [l7rule(r) for r in p.rules]
    return out


def l7rule(r: g.L7Rule) -> dict[str, Any]:
    out = _meta(r.meta, description=False)
    del out["name"]
    out.update(
        {
            "type": r.type,
            "compare_type": r.compare_type,
            "key": _or_none(r.key),
            "value": r.value,
            "invert": r.invert,
        }
    )
    return out


STATS_FIELDS = (
    "active_connections",
    "bytes_in",
    "bytes_out",
    "request_errors",
    "total_connections",
)


def stats(entries: Any) -> dict[str, Any]:
    """Octavia's {"stats": {...}}: the counters of the given entries, summed."""
    total = dict.fromkeys(STATS_FIELDS, 0)
    for entry in entries:
        for field in STATS_FIELDS:
            total[field] += getattr(entry.stats, field)
    return {"stats": total}


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
    # Octavia's PoolStatusResponse: "health_monitor", absent when the pool has none.
    if ps.healthmonitor.id:
        out["health_monitor"] = _status_node(ps.healthmonitor, "type")
    out["members"] = [_status_node(m, "address", "protocol_port") for m in ps.members]
    return out


def status_tree(tree: pb.StatusTree) -> dict[str, Any]:
    """Octavia's status tree: the load balancer node has exactly id, name, the two statuses and
    its listeners (clients count its keys); pools appear under the listeners that reach them."""
    lb = _status_node(tree.loadbalancer)
    lb["listeners"] = []
    for ls in tree.listeners:
        node = _status_node(ls.listener)
        node["pools"] = [_pool_status(p) for p in ls.pools]
        lb["listeners"].append(node)
    return {"statuses": {"loadbalancer": lb}}
