"""Database rows -> lbaas.common.v1 / lbaas.orchestrator.v1 messages."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from lbaas.common.v1 import graph_pb2, status_pb2
from lbaas.orchestrator.v1 import admin_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.orchestrator.adapters.db.admin_models import (
    AvailabilityZoneProfileRow,
    AvailabilityZoneRow,
    FlavorProfileRow,
    FlavorRow,
)
from services.orchestrator.adapters.db.certificate_models import CertificateRow
from services.orchestrator.adapters.db.models import (
    AmphoraRow,
    HealthMonitorRow,
    L7PolicyRow,
    L7RuleRow,
    ListenerRow,
    LoadBalancerRow,
    MemberRow,
    PoolRow,
)

RowFilter = Callable[[Any], bool]


def _everything(_: Any) -> bool:
    return True


def provisioning_status(name: str) -> int:
    return status_pb2.ProvisioningStatus.Value(f"PROVISIONING_STATUS_{name}")


def operating_status(name: str) -> int:
    return status_pb2.OperatingStatus.Value(f"OPERATING_STATUS_{name}")


def operating_status_name(value: int) -> str:
    return status_pb2.OperatingStatus.Name(value).removeprefix("OPERATING_STATUS_")


def meta(row: Any) -> graph_pb2.ResourceMeta:
    m = graph_pb2.ResourceMeta(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        description=row.description,
        admin_state_up=row.admin_state_up,
        provisioning_status=provisioning_status(row.provisioning_status),
        operating_status=operating_status(row.operating_status),
        tags=list(row.tags or ()),
    )
    m.created_at.FromDatetime(row.created_at)
    if row.updated_at is not None:
        m.updated_at.FromDatetime(row.updated_at)
    return m


def health_monitor(row: HealthMonitorRow) -> graph_pb2.HealthMonitor:
    return graph_pb2.HealthMonitor(
        meta=meta(row),
        pool_id=row.pool_id,
        type=row.type,
        delay=row.delay,
        timeout=row.timeout,
        max_retries=row.max_retries,
        max_retries_down=row.max_retries_down,
        http_method=row.http_method,
        url_path=row.url_path,
        expected_codes=row.expected_codes,
        http_version=row.http_version,
        domain_name=row.domain_name,
    )


def member(row: MemberRow) -> graph_pb2.Member:
    msg = graph_pb2.Member(
        meta=meta(row),
        pool_id=row.pool_id,
        address=row.address,
        protocol_port=row.protocol_port,
        weight=row.weight,
        backup=row.backup,
        subnet_id=row.subnet_id,
        monitor_address=row.monitor_address,
        vnic_type=row.vnic_type,
    )
    if row.monitor_port is not None:
        msg.monitor_port = row.monitor_port
    return msg


def pool(row: PoolRow, include: RowFilter = _everything, *, nested: bool = True) -> graph_pb2.Pool:
    """A pool; with nested, its members and health monitor (those `include` accepts)."""
    msg = graph_pb2.Pool(
        meta=meta(row),
        loadbalancer_id=row.load_balancer_id,
        protocol=row.protocol,
        lb_algorithm=row.lb_algorithm,
        listener_ids=[
            listener.id
            for listener in row.loadbalancer.listeners
            if listener.default_pool_id == row.id and include(listener)
        ],
        tls_enabled=row.tls_enabled,
        tls_container_ref=row.tls_container_ref,
        ca_tls_container_ref=row.ca_tls_container_ref,
        crl_container_ref=row.crl_container_ref,
        tls_versions=list(row.tls_versions or ()),
        tls_ciphers=row.tls_ciphers,
        alpn_protocols=list(row.alpn_protocols or ()),
    )
    sp = row.session_persistence
    if sp:
        msg.session_persistence.type = sp.get("type", "")
        msg.session_persistence.cookie_name = sp.get("cookie_name") or ""
        if sp.get("persistence_timeout") is not None:
            msg.session_persistence.persistence_timeout = sp["persistence_timeout"]
        msg.session_persistence.persistence_granularity = sp.get("persistence_granularity") or ""
    if nested:
        msg.members.extend(member(m) for m in row.members if include(m))
        monitors = [hm for hm in row.health_monitors if include(hm)]
        if monitors:
            msg.healthmonitor.CopyFrom(health_monitor(monitors[0]))
    return msg


def listener(row: ListenerRow, include: RowFilter = _everything) -> graph_pb2.Listener:
    default_pool = row.default_pool_id or ""
    if default_pool:
        pools = {p.id: p for p in row.loadbalancer.pools}
        if default_pool in pools and not include(pools[default_pool]):
            default_pool = ""
    msg = graph_pb2.Listener(
        meta=meta(row),
        loadbalancer_id=row.load_balancer_id,
        protocol=row.protocol,
        protocol_port=row.protocol_port,
        connection_limit=row.connection_limit,
        default_pool_id=default_pool,
        timeout_client_data=row.timeout_client_data,
        timeout_member_connect=row.timeout_member_connect,
        timeout_member_data=row.timeout_member_data,
        timeout_tcp_inspect=row.timeout_tcp_inspect,
        insert_headers=dict(row.insert_headers or {}),
        allowed_cidrs=list(row.allowed_cidrs or ()),
        default_tls_container_ref=row.default_tls_container_ref,
        sni_container_refs=list(row.sni_container_refs or ()),
        client_authentication=row.client_authentication,
        client_ca_tls_container_ref=row.client_ca_tls_container_ref,
        client_crl_container_ref=row.client_crl_container_ref,
        tls_versions=list(row.tls_versions or ()),
        tls_ciphers=row.tls_ciphers,
        alpn_protocols=list(row.alpn_protocols or ()),
        hsts_include_subdomains=row.hsts_include_subdomains,
        hsts_preload=row.hsts_preload,
        l7policies=[l7policy(p, include) for p in row.l7policies if include(p)],
    )
    if row.hsts_max_age is not None:
        msg.hsts_max_age = row.hsts_max_age
    return msg


def l7rule(row: L7RuleRow) -> graph_pb2.L7Rule:
    return graph_pb2.L7Rule(
        meta=meta(row),
        l7policy_id=row.l7policy_id,
        type=row.type,
        compare_type=row.compare_type,
        key=row.key,
        value=row.value,
        invert=row.invert,
    )


def l7policy(row: L7PolicyRow, include: RowFilter = _everything) -> graph_pb2.L7Policy:
    """An L7 policy with its rules (those `include` accepts)."""
    msg = graph_pb2.L7Policy(
        meta=meta(row),
        listener_id=row.listener_id,
        action=row.action,
        position=row.position,
        redirect_pool_id=row.redirect_pool_id or "",
        redirect_url=row.redirect_url,
        redirect_prefix=row.redirect_prefix,
        rules=[l7rule(r) for r in row.rules if include(r)],
    )
    if row.redirect_http_code is not None:
        msg.redirect_http_code = row.redirect_http_code
    return msg


def loadbalancer(
    row: LoadBalancerRow, include: RowFilter = _everything, *, nested: bool = True
) -> graph_pb2.LoadBalancer:
    """A load balancer; with nested, its listeners and pools (with members and monitor).
    `include` drops rows, e.g. those being deleted when building the graph to render."""
    msg = graph_pb2.LoadBalancer(
        meta=meta(row),
        vip=graph_pb2.Vip(
            address=row.vip_address,
            port_id=row.vip_port_id,
            subnet_id=row.vip_subnet_id,
            network_id=row.vip_network_id,
            qos_policy_id=row.vip_qos_policy_id,
        ),
        provider=row.provider,
        flavor_id=row.flavor_id,
        availability_zone=row.availability_zone,
        topology=row.topology,
        desired_version=row.desired_version,
        vip_vnic_type=row.vip_vnic_type,
        vip_sg_ids=list(row.vip_sg_ids or ()),
        additional_vips=[
            graph_pb2.AdditionalVip(subnet_id=v["subnet_id"], ip_address=v["ip_address"])
            for v in row.additional_vips or ()
        ],
        status_reason=row.status_reason or "",
    )
    if nested:
        msg.listeners.extend(listener(li, include) for li in row.listeners if include(li))
        msg.pools.extend(pool(p, include) for p in row.pools if include(p))
    return msg


# -- lists: plain rows (service_layer.loadbalancers.list_summaries), no ORM objects -------------

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_PROVISIONING = {
    name.removeprefix("PROVISIONING_STATUS_"): value
    for name, value in status_pb2.ProvisioningStatus.items()
}
_OPERATING = {
    name.removeprefix("OPERATING_STATUS_"): value
    for name, value in status_pb2.OperatingStatus.items()
}


def _timestamp(value: dt.datetime | None) -> Timestamp | None:
    """What Timestamp.FromDatetime gives, without its per-call overhead (aware or naive UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    delta = value - _EPOCH
    return Timestamp(seconds=delta.days * 86400 + delta.seconds, nanos=delta.microseconds * 1000)


def loadbalancer_summary(
    row: Any, listener_ids: list[str] | None = None, pool_ids: list[str] | None = None
) -> graph_pb2.LoadBalancer:
    """A load balancer for a list: what loadbalancer(row, nested=False) gives, from a plain row
    of service_layer.loadbalancers.SUMMARY_COLUMNS, plus its listeners and pools as ids only
    (meta.id and loadbalancer_id), as a show lists them."""
    meta = graph_pb2.ResourceMeta(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        description=row.description,
        admin_state_up=row.admin_state_up,
        provisioning_status=_PROVISIONING[row.provisioning_status],
        operating_status=_OPERATING[row.operating_status],
        tags=row.tags or (),
        created_at=_timestamp(row.created_at),
        updated_at=_timestamp(row.updated_at),
    )
    msg = graph_pb2.LoadBalancer(
        meta=meta,
        vip=graph_pb2.Vip(
            address=row.vip_address,
            port_id=row.vip_port_id,
            subnet_id=row.vip_subnet_id,
            network_id=row.vip_network_id,
            qos_policy_id=row.vip_qos_policy_id,
        ),
        provider=row.provider,
        flavor_id=row.flavor_id,
        availability_zone=row.availability_zone,
        topology=row.topology,
        desired_version=row.desired_version,
        vip_vnic_type=row.vip_vnic_type,
        vip_sg_ids=row.vip_sg_ids or (),
        additional_vips=[
            graph_pb2.AdditionalVip(subnet_id=v["subnet_id"], ip_address=v["ip_address"])
            for v in row.additional_vips or ()
        ],
        status_reason=row.status_reason or "",
    )
    if listener_ids:
        msg.listeners.extend(
            graph_pb2.Listener(meta=graph_pb2.ResourceMeta(id=i), loadbalancer_id=row.id)
            for i in listener_ids
        )
    if pool_ids:
        msg.pools.extend(
            graph_pb2.Pool(meta=graph_pb2.ResourceMeta(id=i), loadbalancer_id=row.id)
            for i in pool_ids
        )
    return msg


def amphora(row: AmphoraRow) -> pb.Amphora:
    return pb.Amphora(
        id=row.id,
        loadbalancer_id=row.load_balancer_id or "",
        status=row.status,
        agent_address=row.agent_address,
        compute_id=row.compute_id,
        vip_address=row.vip_address,
        role=row.role,
        applied_config_hash=row.applied_config_hash,
        backend_type=row.backend_type,
    )


def _node(row: Any, **attributes: str) -> pb.StatusNode:
    return pb.StatusNode(
        id=row.id,
        name=row.name,
        provisioning_status=provisioning_status(row.provisioning_status),
        operating_status=operating_status(row.operating_status),
        attributes=attributes,
    )


def _listener_pools(li: ListenerRow, pools: dict[str, PoolRow]) -> list[PoolRow]:
    """Octavia's listener.pools: the default pool, then the pools its L7 policies redirect to."""
    ids = [li.default_pool_id or ""] + [p.redirect_pool_id or "" for p in li.l7policies]
    out: list[PoolRow] = []
    for pool_id in ids:
        if pool_id in pools and pools[pool_id] not in out:
            out.append(pools[pool_id])
    return out


def status_tree(lb: LoadBalancerRow) -> pb.StatusTree:
    """Octavia's status tree: load balancer -> listeners -> (default) pools -> monitor, members."""
    pools = {p.id: p for p in lb.pools}
    tree = pb.StatusTree(loadbalancer=_node(lb))
    for li in lb.listeners:
        entry = pb.ListenerStatus(listener=_node(li))
        for p in _listener_pools(li, pools):
            ps = pb.PoolStatus(pool=_node(p))
            if p.health_monitors:
                hm = p.health_monitors[0]
                ps.healthmonitor.CopyFrom(_node(hm, type=hm.type))
            ps.members.extend(
                _node(m, address=m.address, protocol_port=str(m.protocol_port)) for m in p.members
            )
            entry.pools.append(ps)
        tree.listeners.append(entry)
    return tree


# -- operator catalogue and certificates ------------------------------------------------------


def flavor_profile(row: FlavorProfileRow) -> admin_pb2.FlavorProfile:
    return admin_pb2.FlavorProfile(
        id=row.id, name=row.name, provider_name=row.provider_name, flavor_data=row.flavor_data
    )


def flavor(row: FlavorRow) -> admin_pb2.Flavor:
    return admin_pb2.Flavor(
        id=row.id,
        name=row.name,
        description=row.description,
        enabled=row.enabled,
        flavor_profile_id=row.flavor_profile_id,
    )


def availability_zone_profile(row: AvailabilityZoneProfileRow) -> admin_pb2.AvailabilityZoneProfile:
    return admin_pb2.AvailabilityZoneProfile(
        id=row.id,
        name=row.name,
        provider_name=row.provider_name,
        availability_zone_data=row.availability_zone_data,
    )


def availability_zone(row: AvailabilityZoneRow) -> admin_pb2.AvailabilityZone:
    return admin_pb2.AvailabilityZone(
        name=row.name,
        description=row.description,
        enabled=row.enabled,
        availability_zone_profile_id=row.availability_zone_profile_id,
    )


def certificate(row: CertificateRow) -> pb.Certificate:
    """The catalogue columns; never any key material."""
    out = pb.Certificate(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        ref=row.ref,
        type=row.type,
        hostnames=json.loads(row.hostnames or "[]"),
        subject=row.subject,
    )
    if row.expires_at is not None:
        out.expires_at.FromDatetime(row.expires_at)
    if row.created_at is not None:
        out.created_at.FromDatetime(row.created_at)
    return out
