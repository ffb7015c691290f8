"""Certificate types and which graph fields refer to certificates of which types: shared by the
API-time reference checks, the reconcile-time lookup and the bundle parser."""

from __future__ import annotations

from typing import Any

TLS, CA, CRL = "TLS", "CA", "CRL"
TYPES = (TLS, CA, CRL)

# Which certificate types each reference field accepts. A CA reference may name a TLS bundle:
# its certificate is then the trust anchor (Octavia accepts either).
LISTENER_REFS: dict[str, tuple[str, ...]] = {
    "default_tls_container_ref": (TLS,),
    "sni_container_refs": (TLS,),
    "client_ca_tls_container_ref": (CA, TLS),
    "client_crl_container_ref": (CRL,),
}
POOL_REFS: dict[str, tuple[str, ...]] = {
    "tls_container_ref": (TLS,),
    "ca_tls_container_ref": (CA, TLS),
    "crl_container_ref": (CRL,),
}


def graph_refs(loadbalancer: Any) -> list[tuple[str, str]]:
    """(field, ref) for every certificate reference in a lbaas.common.v1.LoadBalancer graph, in
    graph order, each ref once."""
    found: dict[str, str] = {}
    for i, listener in enumerate(loadbalancer.listeners):
        for name in LISTENER_REFS:
            value = getattr(listener, name)
            for ref in [value] if isinstance(value, str) else list(value):
                if ref:
                    found.setdefault(ref, f"listeners[{i}].{name}")
    for i, pool in enumerate(loadbalancer.pools):
        for name in POOL_REFS:
            ref = getattr(pool, name)
            if ref:
                found.setdefault(ref, f"pools[{i}].{name}")
    return [(field_name, ref) for ref, field_name in found.items()]
