"""Mutual TLS between the controller's services, and who may call whom.

Every service has one identity, a certificate from the internal service CA (CN and DNS SAN = the
identity name). Servers require a client certificate from that CA; clients check the server's
certificate against the CA and the name of the service they mean to reach (not the host name, so
the same certificates work on loopback, in compose and in Kubernetes). A server then admits only
the callers the architecture draws (CALLERS), and the orchestrator honours a cross-project scope
(`all_projects`) only from the identities in CROSS_PROJECT.

The service CA is not the amphora CA (services/orchestrator/adapters/pki.py): a certificate an
amphora holds can never authenticate to a controller service, nor a service's to an agent.

Files, in one directory (LBAAS_INTERNAL_TLS_DIR, default $LBAAS_RUN_DIR/internal-tls): `ca.crt`,
`ca.key` (needed only to issue: keep it out of the services' mounts), and `<identity>.crt` /
`<identity>.key` for each identity. `ensure_internal_pki` makes whatever is missing
(`python -m deploy.init` and the launcher call it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from services.common import tracing

log = logging.getLogger(__name__)

GATEWAY = "api-gateway"
ORCHESTRATOR = "orchestrator"  # the API role (and the one-process `all` role)
WORKER = "orchestrator-worker"
RENDERER = "renderer"
HEALTH = "health"
COMPUTE = "compute"
OPERATOR = "operator"  # grpcurl, `python -m services.orchestrator.manage`, tests
IDENTITIES = (GATEWAY, ORCHESTRATOR, WORKER, RENDERER, HEALTH, COMPUTE, OPERATOR)

ORCHESTRATOR_SERVICE = "lbaas.orchestrator.v1.OrchestratorService"
RENDERER_SERVICE = "lbaas.renderer.v1.RendererService"
HEALTH_SERVICE = "lbaas.health.v1.HealthService"
COMPUTE_SERVICE = "lbaas.compute.v1.ComputeService"

ALL = None  # every method of the service
# What the health service asks of the orchestrator (services/health/adapters/orchestrator_client).
_HEALTH_CALLS = frozenset(
    {"GetAmphora", "GetLoadBalancer", "FailoverAmphora", "ConfigureAmphora", "SetOperatingStatuses"}
)
# service -> caller identity -> the methods it may call (ALL: every one). A service not named here
# (grpc.health.v1, reflection) answers every authenticated caller: probes and grpcurl's listing.
CALLERS: Mapping[str, Mapping[str, frozenset[str] | None]] = {
    ORCHESTRATOR_SERVICE: {GATEWAY: ALL, HEALTH: _HEALTH_CALLS, OPERATOR: ALL},
    RENDERER_SERVICE: {ORCHESTRATOR: ALL, WORKER: ALL, OPERATOR: ALL},
    HEALTH_SERVICE: {GATEWAY: ALL, OPERATOR: ALL},
    COMPUTE_SERVICE: {ORCHESTRATOR: ALL, WORKER: ALL, OPERATOR: ALL},
}
# Identity -> the orchestrator methods in which it may use a cross-project scope. The gateway acts
# for administrators (its own RBAC decides who is one); the health service reads the one load
# balancer whose amphora sent a heartbeat, whatever its project.
CROSS_PROJECT: Mapping[str, frozenset[str] | None] = {
    GATEWAY: ALL,
    HEALTH: frozenset({"GetLoadBalancer"}),
}

_CA_DAYS = 3650
_LEAF_DAYS = 825


def default_directory(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    explicit = env.get("LBAAS_INTERNAL_TLS_DIR", "")
    if explicit:
        return Path(explicit)
    return Path(env.get("LBAAS_RUN_DIR") or "./.run").resolve() / "internal-tls"


@dataclass(frozen=True)
class InternalTLS:
    """One process's identity: where its certificate is and what it is called."""

    directory: Path
    identity: str

    @classmethod
    def from_env(cls, identity: str, env: Mapping[str, str] | None = None) -> InternalTLS:
        return cls(default_directory(env), identity)

    def _read(self, name: str) -> bytes:
        path = self.directory / name
        try:
            return path.read_bytes()
        except OSError as err:
            raise RuntimeError(
                f"internal TLS: cannot read {path} ({err.strerror}); create the service "
                "certificates with `python -m deploy.init` (or point LBAAS_INTERNAL_TLS_DIR at them)"
            ) from None

    def server_credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials(
            [(self._read(f"{self.identity}.key"), self._read(f"{self.identity}.crt"))],
            root_certificates=self._read("ca.crt"),
            require_client_auth=True,
        )

    def channel_credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self._read("ca.crt"),
            private_key=self._read(f"{self.identity}.key"),
            certificate_chain=self._read(f"{self.identity}.crt"),
        )

    def interceptor(self) -> CallerPolicy:
        return CallerPolicy()


def channel_options(target: str, options: Sequence[tuple[str, Any]] = ()) -> list[tuple[str, Any]]:
    """Options that make a client check the server's certificate for the service it means."""
    return [*options, ("grpc.ssl_target_name_override", target)]


def aio_channel(
    address: str,
    target: str,
    tls: InternalTLS | None,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.aio.Channel:
    """A channel to the service `target` at address: mutual TLS as tls's identity, or plaintext
    when tls is None (in-process tests only: every service's main passes its identity)."""
    interceptors = tracing.grpc_client_interceptors()
    if tls is None:
        return grpc.aio.insecure_channel(address, options=list(options), interceptors=interceptors)
    return grpc.aio.secure_channel(
        address,
        tls.channel_credentials(),
        options=channel_options(target, options),
        interceptors=interceptors,
    )


def blocking_channel(
    address: str,
    target: str,
    tls: InternalTLS | None,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.Channel:
    if tls is None:
        return grpc.insecure_channel(address, options=list(options))
    return grpc.secure_channel(
        address, tls.channel_credentials(), options=channel_options(target, options)
    )


# --- who may call ----------------------------------------------------------------------------


def peer_identity(context: grpc.aio.ServicerContext) -> str:
    """The caller's identity: the CN of its verified certificate ("" on a plaintext server)."""
    names = context.auth_context().get("x509_common_name") or []
    return names[0].decode("utf-8", "replace") if names else ""


def may_call(service: str, method: str, identity: str) -> bool:
    callers = CALLERS.get(service)
    if callers is None:
        return True
    if identity not in callers:
        return False
    methods = callers[identity]
    return methods is ALL or method in methods


def may_cross_projects(method: str, identity: str) -> bool:
    if identity not in CROSS_PROJECT:
        return False
    methods = CROSS_PROJECT[identity]
    return methods is ALL or method in methods


def _split(full_method: str) -> tuple[str, str]:
    service, _, method = full_method.lstrip("/").rpartition("/")
    return service, method


class CallerPolicy(grpc.aio.ServerInterceptor):
    """Refuses (PERMISSION_DENIED) a caller the architecture does not draw, and a cross-project
    scope from an identity that may not use one. Installed on mutual-TLS servers only."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        service, method = _split(handler_call_details.method)
        if handler is None or service not in CALLERS:
            return handler
        if handler.unary_unary is None:  # no streaming method is guarded: refuse rather than guess
            raise RuntimeError(f"{handler_call_details.method}: only unary methods are guarded")
        inner = handler.unary_unary

        async def guarded(request: Any, context: grpc.aio.ServicerContext) -> Any:
            identity = peer_identity(context)
            if not may_call(service, method, identity):
                log.warning("refused %s to %r", handler_call_details.method, identity)
                await context.abort(
                    grpc.StatusCode.PERMISSION_DENIED,
                    f"{identity or 'an unauthenticated caller'} may not call {service}/{method}",
                )
            scope = getattr(request, "scope", None)
            if getattr(scope, "all_projects", False) and not may_cross_projects(method, identity):
                log.warning("refused a cross-project %s to %r", method, identity)
                await context.abort(
                    grpc.StatusCode.PERMISSION_DENIED,
                    f"{identity} may not act across projects ({method})",
                )
            return await inner(request, context)

        return grpc.unary_unary_rpc_method_handler(
            guarded,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


# --- issuing ---------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    with open(directory / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def new_ca(
    common_name: str, *, days: int, now: dt.datetime | None = None
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A self-signed CA (P-256, may sign leaves only), valid for days from five minutes before
    now (default: the clock's)."""
    now = now or _now()
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _load_or_create_ca(directory: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    cert_path, key_path = directory / "ca.crt", directory / "ca.key"
    if cert_path.exists() and key_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        return key, x509.load_pem_x509_certificate(cert_path.read_bytes())  # type: ignore[return-value]
    key, cert = new_ca("lbaas internal service CA", days=_CA_DAYS)
    _write(key_path, _key_pem(key), 0o600)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return key, cert


def issue(
    ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, identity: str
) -> tuple[bytes, bytes]:
    """A certificate for identity (server and client use), and its key, as PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(identity))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(minutes=5))
        .not_valid_after(_now() + dt.timedelta(days=_LEAF_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(identity)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def ensure_internal_pki(directory: Path, identities: Sequence[str] = IDENTITIES) -> Path:
    """Creates the service CA and each identity's certificate in directory, keeping what exists
    (several processes may call it at once: the first to lock the directory creates)."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _locked(directory):
        ca_key, ca_cert = _load_or_create_ca(directory)
        for identity in identities:
            crt, key = directory / f"{identity}.crt", directory / f"{identity}.key"
            if crt.exists() and key.exists():
                continue
            cert_pem, key_pem = issue(ca_key, ca_cert, identity)
            _write(key, key_pem, 0o600)
            _write(crt, cert_pem, 0o644)
    return directory
