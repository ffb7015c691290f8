"""The `barbican` certificate driver: material in Barbican (OpenStack Key Manager) through
openstacksdk; the orchestrator's database keeps only the catalogue row (project, type,
hostnames) whose ref is the Barbican container href.

Layout, as Octavia expects of a TLS container: a "certificate" container whose secret refs are
named certificate, private_key and (optionally) intermediates. CA bundles and CRLs go in
"generic" containers with one secret named certificate or crl. Every secret is text/plain PEM.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lbaas.renderer.v1 import renderer_service_pb2 as render_pb

from services.common.errors import DomainError, Unavailable
from services.orchestrator.adapters.certificate_bundle import Bundle
from services.orchestrator.adapters.db import certificate_lookup
from services.orchestrator.adapters.db.certificate_models import CertificateRow
from services.orchestrator.adapters.db.engine import UnitOfWork
from services.orchestrator.certificates_config import BarbicanSettings
from services.orchestrator.domain.certificates import TLS


def connect(settings: BarbicanSettings) -> Any:
    """An openstacksdk Connection for the key manager (imported here: only this driver needs
    openstacksdk)."""
    import openstack.connection

    common: dict[str, Any] = {
        "interface": settings.interface,
        "api_timeout": settings.timeout,
        "verify": settings.verify,
    }
    if settings.region_name:
        common["region_name"] = settings.region_name
    if settings.endpoint:
        common["key_manager_endpoint_override"] = settings.endpoint
    if settings.auth_url:
        return openstack.connection.Connection(
            auth_type="password",
            auth={
                "auth_url": settings.auth_url,
                "username": settings.username,
                "password": settings.password,
                "project_name": settings.project_name,
                "user_domain_name": settings.user_domain_name,
                "project_domain_name": settings.project_domain_name,
            },
            **common,
        )
    return openstack.connection.Connection(
        auth_type="none", auth={"endpoint": settings.endpoint}, **common
    )


def _id_of(href: str) -> str:
    """Barbican refs are hrefs (.../v1/containers/<uuid>); openstacksdk takes the uuid."""
    return href.rstrip("/").rsplit("/", 1)[-1]


class BarbicanCertificateStore:
    """CertificateStore (reconcile) and CertificateDriver (API) of the `barbican` driver."""

    name = "barbican"

    def __init__(
        self,
        uow: UnitOfWork,
        settings: BarbicanSettings,
        connection_factory: Callable[[BarbicanSettings], Any] = connect,
    ):
        self._uow = uow
        self._settings = settings
        self._factory = connection_factory
        self._conn: Any = None

    @property
    def _km(self) -> Any:
        if self._conn is None:
            self._conn = self._factory(self._settings)
        return self._conn.key_manager

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except DomainError:
            raise
        except Exception as err:  # noqa: BLE001 - openstacksdk/keystoneauth/requests errors
            raise Unavailable(
                "The key manager is unavailable; retry later.",
                operator_detail=f"barbican {what}: {type(err).__name__}: {err}",
            ) from None

    def _secret(self, name: str, pem: bytes) -> str:
        secret = self._call(
            "create_secret",
            lambda: self._km.create_secret(
                name=name,
                payload=pem.decode(),
                payload_content_type="text/plain",
                secret_type="opaque",
            ),
        )
        return secret.secret_ref

    def store(self, row: CertificateRow, bundle: Bundle) -> None:
        parts: list[tuple[str, bytes]] = []
        if bundle.type == TLS:
            parts = [
                ("certificate", bundle.certificate_pem),
                ("private_key", bundle.private_key_pem),
            ]
            if bundle.intermediates_pem:
                parts.append(("intermediates", bundle.intermediates_pem))
        elif bundle.crl_pem:
            parts = [("crl", bundle.crl_pem)]
        else:
            parts = [("certificate", bundle.certificate_pem)]
        refs: list[str] = []
        try:
            for name, pem in parts:
                refs.append(self._secret(f"{row.name or row.id}:{name}", pem))
            container = self._call(
                "create_container",
                lambda: self._km.create_container(
                    name=row.name or row.id,
                    type="certificate" if bundle.type == TLS else "generic",
                    secret_refs=[
                        {"name": name, "secret_ref": ref}
                        for (name, _), ref in zip(parts, refs, strict=True)
                    ],
                ),
            )
        except Unavailable:
            self._forget(refs)
            raise
        row.ref = container.container_ref

    def _forget(self, secret_refs: list[str]) -> None:
        for ref in secret_refs:
            try:
                self._km.delete_secret(_id_of(ref), ignore_missing=True)
            except Exception:  # noqa: BLE001, S110 - best effort cleanup of a failed create
                pass

    def discard(self, row: CertificateRow) -> None:
        container = self._call(
            "get_container", lambda: self._km.find_container(_id_of(row.ref), ignore_missing=True)
        )
        if container is None:
            return
        self._call(
            "delete_container",
            lambda: self._km.delete_container(_id_of(row.ref), ignore_missing=True),
        )
        for entry in container.secret_refs or ():
            self._call(
                "delete_secret",
                lambda e=entry: self._km.delete_secret(
                    _id_of(e["secret_ref"]), ignore_missing=True
                ),
            )

    def material(self, row: CertificateRow) -> render_pb.TlsMaterial:
        container = self._call("get_container", lambda: self._km.get_container(_id_of(row.ref)))
        payloads: dict[str, bytes] = {}
        for entry in container.secret_refs or ():
            secret = self._call(
                "get_secret", lambda e=entry: self._km.get_secret(_id_of(e["secret_ref"]))
            )
            payload = secret.payload
            payloads[entry["name"]] = payload.encode() if isinstance(payload, str) else payload
        return render_pb.TlsMaterial(
            ref=row.ref,
            certificate_pem=payloads.get("certificate", b""),
            private_key_pem=payloads.get("private_key", b""),
            intermediates_pem=payloads.get("intermediates", b""),
            crl_pem=payloads.get("crl", b""),
        )

    def resolve(self, loadbalancer: object) -> list[object]:
        with self._uow.transaction() as session:
            return list(certificate_lookup.resolve(session, loadbalancer, self.material))
