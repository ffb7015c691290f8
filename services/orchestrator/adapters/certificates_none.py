"""Placeholder certificate store: a graph with no certificate references needs no material."""

from __future__ import annotations

from services.common.errors import InvalidInput

LISTENER_REFS = (
    "default_tls_container_ref",
    "client_ca_tls_container_ref",
    "client_crl_container_ref",
)
POOL_REFS = ("tls_container_ref", "ca_tls_container_ref", "crl_container_ref")


class NoCertificateStore:
    def resolve(self, loadbalancer: object) -> list[object]:
        for listener in loadbalancer.listeners:  # type: ignore[attr-defined]
            if (
                any(getattr(listener, name) for name in LISTENER_REFS)
                or listener.sni_container_refs
            ):
                raise InvalidInput("no certificate driver is configured", field="listener")
        for pool in loadbalancer.pools:  # type: ignore[attr-defined]
            if any(getattr(pool, name) for name in POOL_REFS):
                raise InvalidInput("no certificate driver is configured", field="pool")
        return []
