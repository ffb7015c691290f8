"""Turns the protobuf graph into an AS3 declaration, as plain dicts.

One declaration per load balancer: an ADC document holding the project's Tenant with one
Application for this load balancer. Every AS3 name comes from names.py (ids only); every value
that reaches it passed a domain filter; user text reaches only `remark` and `label`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from lbaas.common.v1 import graph_pb2
from lbaas.renderer.v1 import renderer_service_pb2

from services.common.errors import InvalidInput
from services.renderer.backends.f5_as3 import features as f
from services.renderer.backends.f5_as3 import l7, names, pools
from services.renderer.domain import filters
from services.renderer.domain.tls import Material, Materials

MAX_CONNECTION_LIMIT = 1_000_000
# Characters an OpenSSL-style cipher string needs; BIG-IP cipher strings use the same words.
_CIPHER_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+:!.,@=-")
MAX_CIPHERS = 2048
# X-Forwarded-Port and -Proto: a fixed iRule (no user text), one per scheme.
_FORWARDED_IRULE = """when HTTP_REQUEST {{
{lines}}}
"""


def declaration(
    lb: graph_pb2.LoadBalancer,
    target: renderer_service_pb2.Target,
    materials: Sequence[renderer_service_pb2.TlsMaterial] = (),
) -> dict[str, Any]:
    lb_id = filters.uuid_id(lb.meta.id, "loadbalancer.id")
    if not lb.meta.project_id:
        raise InvalidInput("the load balancer has no project", field="loadbalancer.project_id")
    app_name = names.of("lb", lb_id, "loadbalancer.id")
    tls = Materials(materials)
    by_id: dict[str, graph_pb2.Pool] = {}
    for p in lb.pools:
        if p.meta.id in by_id:
            raise InvalidInput(f"pool {p.meta.id} appears twice", field="loadbalancer.pools")
        by_id[p.meta.id] = p
    listeners = sorted(lb.listeners, key=lambda li: li.meta.id)
    vip = _vip(lb, target) if listeners else None

    app: dict[str, Any] = {"class": "Application", "template": "generic"}
    names.described(app, lb.meta.name, lb.meta.description)
    used: dict[str, bool] = {}  # pool id -> fronted by an HTTP listener
    for listener in listeners:
        objects, fronted = _service(listener, vip, lb.meta.admin_state_up, by_id, tls)
        app.update(objects)
        for pool_id, http in fronted.items():
            if used.setdefault(pool_id, http) != http:
                raise InvalidInput(
                    f"pool {pool_id} is used by both HTTP and TCP listeners",
                    field=f"pool.{pool_id}.listener_ids",
                )
    for pool_id in sorted(used):
        app.update(pools.pool(by_id[pool_id]))
    tenant = {"class": "Tenant", app_name: app}
    return {
        "class": "ADC",
        "schemaVersion": f.SCHEMA_VERSION,
        "id": f"lbaas-{lb_id}",
        names.tenant(lb.meta.project_id): tenant,
    }


def _vip(lb: graph_pb2.LoadBalancer, target: renderer_service_pb2.Target) -> str:
    if target.vip_address:
        return str(filters.ip_address(target.vip_address, "target.vip_address"))
    return str(filters.ip_address(lb.vip.address, "loadbalancer.vip.address"))


def _service(
    listener: graph_pb2.Listener,
    vip: str | None,
    lb_up: bool,
    by_id: dict[str, graph_pb2.Pool],
    tls: Materials,
) -> tuple[dict[str, dict[str, Any]], dict[str, bool]]:
    """The listener's service and the objects only it uses; the pools it fronts (id -> HTTP)."""
    lid = filters.uuid_id(listener.meta.id, "listener.id")
    field = f"listener.{lid}"
    protocol = filters.one_of(listener.protocol, f"{field}.protocol", f.OCTAVIA_LISTENER_PROTOCOLS)
    if protocol not in f.LISTENER_CLASSES:
        raise f.unsupported(f"listener.protocol.{protocol}", f"{field}.protocol")
    if (
        listener.HasField("hsts_max_age")
        or listener.hsts_include_subdomains
        or listener.hsts_preload
    ):
        raise f.unsupported("listener.hsts", f"{field}.hsts_max_age")
    if listener.alpn_protocols:
        # ALPN on a BIG-IP comes with an HTTP/2 profile, which this renderer does not build.
        raise f.unsupported("listener.alpn_protocols", f"{field}.alpn_protocols")
    http = protocol in f.HTTP_LISTENERS
    name = names.of("listener", lid, "listener.id")
    limit = filters.int_range(
        listener.connection_limit, f"{field}.connection_limit", -1, MAX_CONNECTION_LIMIT
    )
    service: dict[str, Any] = {
        "class": f.LISTENER_CLASSES[protocol],
        "virtualAddresses": [vip],
        "virtualPort": filters.int_range(
            listener.protocol_port, f"{field}.protocol_port", 1, 65535
        ),
        "enable": bool(lb_up and listener.meta.admin_state_up),
        "maxConnections": 0 if limit == -1 else limit,
        "snat": "auto",
        # Without this AS3 adds its default persistence (cookie on HTTP, source on TCP).
        "persistenceMethods": [],
    }
    names.described(service, listener.meta.name, listener.meta.description)
    objects: dict[str, dict[str, Any]] = {}
    fronted: dict[str, bool] = {}
    if listener.default_pool_id:
        pool_id = filters.uuid_id(listener.default_pool_id, f"{field}.default_pool_id")
        if pool_id not in by_id:
            raise InvalidInput(
                f"listener {lid} names default pool {pool_id}, which is not in the graph",
                field=f"{field}.default_pool_id",
            )
        pool = by_id[pool_id]
        if http and pool.protocol not in f.HTTP_POOL_PROTOCOLS:
            raise InvalidInput(
                f"pool {pool_id} (protocol {pool.protocol}) cannot be the default pool of "
                f"{protocol} listener {lid}",
                field=f"pool.{pool_id}.protocol",
            )
        service["pool"] = names.of("pool", pool_id, f"{field}.default_pool_id")
        fronted[pool_id] = http
        persist = pools.persistence(pool, http)
        if persist is not None:
            objects[persist[0]] = persist[1]
            service["persistenceMethods"] = [{"use": persist[0]}]
    if protocol == "TERMINATED_HTTPS":
        service["redirect80"] = False  # AS3 would add a port-80 redirect service otherwise
        tls_name = names.of("tls", lid, "listener.id")
        service["serverTLS"] = tls_name
        objects.update(_tls_server(listener, field, tls_name, tls))
    elif listener.client_authentication not in ("", "NONE"):
        raise InvalidInput(
            f"{field}.client_authentication needs a TERMINATED_HTTPS listener",
            field=f"{field}.client_authentication",
        )
    objects.update(_cidrs(listener, field, vip, service))
    objects.update(_headers(listener, field, protocol, service))
    if listener.l7policies:
        if not http:
            raise InvalidInput(
                f"L7 policies need an HTTP listener, not {protocol}", field=f"{field}.l7policies"
            )
        policy, targets = l7.endpoint_policy(listener, field, by_id)
        for pool_id in targets:
            if by_id[pool_id].session_persistence.type and fronted.get(pool_id) is None:
                # BIG-IP persistence belongs to the virtual server, not to a pool.
                raise f.unsupported(
                    f"pool.session_persistence.{by_id[pool_id].session_persistence.type}",
                    f"pool.{pool_id}.session_persistence",
                    "only on a listener's default pool",
                )
            fronted.setdefault(pool_id, True)
        if policy is not None:
            policy_name = names.of("policy", lid, "listener.id")
            objects[policy_name] = policy
            service["policyEndpoint"] = policy_name
    objects[name] = service
    return objects, fronted


def _tls_server(
    listener: graph_pb2.Listener, field: str, tls_name: str, tls: Materials
) -> dict[str, dict[str, Any]]:
    if not listener.default_tls_container_ref:
        raise InvalidInput(
            f"{field}.default_tls_container_ref is required for TERMINATED_HTTPS",
            field=f"{field}.default_tls_container_ref",
        )
    refs = [listener.default_tls_container_ref]
    refs += [r for r in listener.sni_container_refs if r not in refs]
    objects: dict[str, dict[str, Any]] = {}
    entries = []
    for i, ref in enumerate(refs):
        which = "default_tls_container_ref" if i == 0 else "sni_container_refs"
        material = tls.get(ref, f"{field}.{which}", key=True)
        cert_name = f"cert_{material.name}"
        objects[cert_name] = _certificate(material)
        entry: dict[str, Any] = {"certificate": cert_name}
        if len(refs) > 1 and i == 0:
            entry["sniDefault"] = True
        entries.append(entry)
    server: dict[str, Any] = {"class": "TLS_Server", "certificates": entries}
    if listener.tls_versions:
        wanted = set()
        for version in listener.tls_versions:
            wanted.add(filters.one_of(version, f"{field}.tls_versions", f.TLS_VERSIONS))
        for version, key in f.TLS_VERSIONS.items():
            server[key] = version in wanted
    if listener.tls_ciphers:
        ciphers = listener.tls_ciphers
        if len(ciphers) > MAX_CIPHERS or not set(ciphers) <= _CIPHER_CHARS:
            raise InvalidInput(
                f"{field}.tls_ciphers must be a cipher string of letters, digits and _+:!.,@=-",
                field=f"{field}.tls_ciphers",
            )
        server["ciphers"] = ciphers
    mode = listener.client_authentication or "NONE"
    mode = filters.one_of(mode, f"{field}.client_authentication", {"NONE", "OPTIONAL", "MANDATORY"})
    if mode != "NONE":
        if listener.client_crl_container_ref:
            raise f.unsupported(
                "listener.client_crl", f"{field}.client_crl_container_ref",
                "AS3 only points at a CRL file already on the BIG-IP",
            )  # fmt: skip
        if not listener.client_ca_tls_container_ref:
            raise InvalidInput(
                f"{field}.client_ca_tls_container_ref is required for client authentication",
                field=f"{field}.client_ca_tls_container_ref",
            )
        ca = tls.get(listener.client_ca_tls_container_ref, f"{field}.client_ca_tls_container_ref")
        ca_name = f"ca_{ca.name}"
        objects[ca_name] = {"class": "CA_Bundle", "bundle": _pem(ca.certificate_pem)}
        server["authenticationMode"] = "request" if mode == "OPTIONAL" else "require"
        server["authenticationTrustCA"] = ca_name
    objects[tls_name] = server
    return objects


def _pem(data: bytes) -> str:
    # PEM is ASCII by definition; anything else is not a certificate.
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise InvalidInput("certificate material must be PEM", field="tls_materials") from None
    if "-----BEGIN " not in text:
        raise InvalidInput("certificate material must be PEM", field="tls_materials")
    return text


def _certificate(material: Material) -> dict[str, Any]:
    cert: dict[str, Any] = {
        "class": "Certificate",
        "certificate": _pem(material.certificate_pem),
        "privateKey": _pem(material.private_key_pem),
    }
    if material.intermediates_pem:
        cert["chainCA"] = _pem(material.intermediates_pem)
    return cert


def _cidrs(
    listener: graph_pb2.Listener, field: str, vip: str | None, service: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """allowed_cidrs as the service's source address (one network) or an address list."""
    if not listener.allowed_cidrs:
        return {}
    networks = {filters.cidr(text, f"{field}.allowed_cidrs") for text in listener.allowed_cidrs}
    family = ipaddress.ip_address(vip).version if vip else None
    if any(n.version != family for n in networks):
        raise InvalidInput(
            f"{field}.allowed_cidrs must be of the VIP's address family",
            field=f"{field}.allowed_cidrs",
        )
    ordered = [str(n) for n in sorted(networks)]
    if len(ordered) == 1:
        service["sourceAddress"] = ordered[0]
        return {}
    list_name = names.of("cidrs", listener.meta.id, "listener.id")
    service["sourceAddress"] = {"use": list_name}
    return {list_name: {"class": "Net_Address_List", "addresses": ordered}}


def _headers(
    listener: graph_pb2.Listener, field: str, protocol: str, service: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    hfield = f"{field}.insert_headers"
    wanted = set()
    for key, value in sorted(listener.insert_headers.items()):
        if key not in f.HTTP_INSERT_HEADERS:
            raise f.unsupported(f"listener.insert_headers.{key}", hfield)
        if value.lower() not in ("true", "false"):
            raise InvalidInput(f"{hfield}: the value of {key} must be true or false", field=hfield)
        if protocol not in f.HTTP_LISTENERS:
            raise InvalidInput(
                f"{hfield}: headers cannot be inserted by {protocol} listeners", field=hfield
            )
        if value.lower() == "true":
            wanted.add(key)
    objects: dict[str, dict[str, Any]] = {}
    if protocol in f.HTTP_LISTENERS:
        # An explicit profile: BIG-IP's default http profile and AS3's HTTP_Profile disagree on
        # X-Forwarded-For, so it is always stated.
        profile = names.of("http", listener.meta.id, "listener.id")
        objects[profile] = {"class": "HTTP_Profile", "xForwardedFor": "X-Forwarded-For" in wanted}
        service["profileHTTP"] = {"use": profile}
    lines = []
    if "X-Forwarded-Port" in wanted:
        lines.append("  HTTP::header replace X-Forwarded-Port [TCP::local_port]\n")
    if "X-Forwarded-Proto" in wanted:
        scheme = "https" if protocol == "TERMINATED_HTTPS" else "http"
        lines.append(f"  HTTP::header replace X-Forwarded-Proto {scheme}\n")
    if lines:
        rule = names.of("headers", listener.meta.id, "listener.id")
        objects[rule] = {
            "class": "iRule",
            "expand": False,
            "iRule": _FORWARDED_IRULE.format(lines="".join(lines)),
        }
        service["iRules"] = [rule]
    return objects
