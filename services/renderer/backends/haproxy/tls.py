"""The TLS part of the haproxy transform: certificate files, bind and server TLS options, and the
client-certificate headers and rules of TERMINATED_HTTPS listeners.

Files are named after the material (`domain.tls.Material.name`, a hash of the reference), never
after the reference itself; the config reads them as `conf/<path>` because haproxy runs with its
working directory on the amphora's runtime dir, where `conf` links to the applied version.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from lbaas.common.v1 import graph_pb2

from services.common.errors import InvalidInput
from services.renderer.backends.haproxy import features as f
from services.renderer.domain import filters
from services.renderer.domain.tls import KEY_FILE_MODE, PUBLIC_FILE_MODE, Material, Materials

CERT_DIR = "certs"
MAX_HSTS_AGE = 2**31 - 1


class FileSet:
    """The companion files of one rendering, by path. A material used twice is written once."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, int]] = {}

    def add(self, path: str, content: bytes, mode: int) -> str:
        path = filters.relative_file(path, "rendered file path")
        known = self.files.get(path)
        if known is not None and known != (content, mode):
            raise InvalidInput(f"two different files would be written to {path}", field="files")
        self.files[path] = (content, mode)
        return path

    def certificate(self, material: Material) -> str:
        """Leaf, intermediates and key in one file (haproxy `crt`), readable by its owner only."""
        return self.add(f"{CERT_DIR}/{material.name}.pem", material.bundle_pem, KEY_FILE_MODE)

    def ca(self, material: Material) -> str:
        return self.add(f"{CERT_DIR}/{material.name}.ca.pem", material.chain_pem, PUBLIC_FILE_MODE)

    def crl(self, material: Material) -> str:
        crl = material.crl_pem if material.crl_pem.endswith(b"\n") else material.crl_pem + b"\n"
        return self.add(f"{CERT_DIR}/{material.name}.crl.pem", crl, PUBLIC_FILE_MODE)


def _versions(
    versions: Sequence[str], field: str, kind: str, openssl: str
) -> tuple[str | None, str | None]:
    """Octavia's version list as haproxy's (ssl-min-ver, ssl-max-ver)."""
    if not versions:
        return None, None
    order = list(f.OCTAVIA_TLS_VERSIONS)
    indexes = sorted({order.index(filters.one_of(v, field, order)) for v in versions})
    if "SSLv3" in versions:
        raise f.unsupported(f"{kind}.tls_versions_sslv3", field)
    if indexes != list(range(indexes[0], indexes[-1] + 1)):
        # haproxy enables one range; no-tlsv1x flags beside ssl-min-ver are ignored, and on
        # their own a hole disables every version above it.
        raise f.unsupported(f"{kind}.tls_versions_noncontiguous", field)
    if "TLSv1.3" in versions:
        f.openssl_require("tls.TLSv1.3", openssl)
    return f.OCTAVIA_TLS_VERSIONS[order[indexes[0]]], f.OCTAVIA_TLS_VERSIONS[order[indexes[-1]]]


def _ciphers(value: str, field: str, openssl: str) -> tuple[str | None, str | None]:
    """An Octavia cipher string split into haproxy's `ciphers` (TLS <= 1.2) and `ciphersuites`
    (TLS 1.3): OpenSSL configures the two apart, and ignores TLS 1.3 names in the former."""
    if not value:
        return None, None
    names = filters.openssl_ciphers(value, field).split(":")
    suites = [n for n in names if n in f.TLS13_CIPHERSUITES]
    older = [n for n in names if n not in f.TLS13_CIPHERSUITES]
    if suites:
        f.openssl_require("tls.ciphersuites", openssl)
    return (":".join(older) or None), (":".join(suites) or None)


def _alpn(protocols: Iterable[str], field: str) -> list[str]:
    out: list[str] = []
    for name in protocols:
        name = filters.alpn_protocol(name, field)
        if name not in out:
            out.append(name)
    return out


def listener_tls(
    listener: graph_pb2.Listener,
    field: str,
    protocol: str,
    materials: Materials,
    files: FileSet,
    openssl: str,
) -> dict[str, Any] | None:
    """Bind options of a TERMINATED_HTTPS listener (None for other listeners), writing its
    certificates, CA and CRL to `files` and its crt-list entries into the result."""
    auth = listener.client_authentication or "NONE"
    filters.one_of(auth, f"{field}.client_authentication", f.OCTAVIA_CLIENT_AUTH)
    if protocol != "TERMINATED_HTTPS":
        for name, used in (
            ("default_tls_container_ref", listener.default_tls_container_ref),
            ("sni_container_refs", len(listener.sni_container_refs)),
            ("client_ca_tls_container_ref", listener.client_ca_tls_container_ref),
            ("client_crl_container_ref", listener.client_crl_container_ref),
            ("client_authentication", auth != "NONE"),
            ("tls_versions", len(listener.tls_versions)),
            ("tls_ciphers", listener.tls_ciphers),
            ("alpn_protocols", len(listener.alpn_protocols)),
            ("hsts_max_age", listener.HasField("hsts_max_age")),
        ):
            if used:
                raise InvalidInput(
                    f"{field}.{name} needs a TERMINATED_HTTPS listener", field=f"{field}.{name}"
                )
        return None
    # Without a default certificate the first SNI certificate is the default (Octavia's rule).
    default_ref, default_field = listener.default_tls_container_ref, "default_tls_container_ref"
    if not default_ref and listener.sni_container_refs:
        default_ref, default_field = listener.sni_container_refs[0], "sni_container_refs"
    if not default_ref:
        raise InvalidInput(
            "a TERMINATED_HTTPS listener needs a default or an SNI certificate",
            field=f"{field}.default_tls_container_ref",
        )
    default = materials.get(default_ref, f"{field}.{default_field}", key=True)
    # The first crt-list entry is haproxy's default certificate: it answers a client without
    # SNI or with a name no entry has. It carries no filter, so its own names match as well.
    entries = [{"path": files.certificate(default), "snis": []}]
    for ref in dict.fromkeys(listener.sni_container_refs):
        if ref == default_ref:
            continue
        material = materials.get(ref, f"{field}.sni_container_refs", key=True)
        snis = [filters.sni_name(n, f"{field}.sni_container_refs") for n in material.hostnames]
        entries.append({"path": files.certificate(material), "snis": snis})
    ca_file = crl_file = None
    if listener.client_ca_tls_container_ref:
        ca = materials.get(
            listener.client_ca_tls_container_ref, f"{field}.client_ca_tls_container_ref"
        )
        ca_file = files.ca(ca)
    elif auth != "NONE":
        raise InvalidInput(
            f"client authentication {auth} needs a client CA certificate",
            field=f"{field}.client_ca_tls_container_ref",
        )
    if listener.client_crl_container_ref:
        if ca_file is None:
            raise InvalidInput(
                "a client CRL needs a client CA certificate",
                field=f"{field}.client_crl_container_ref",
            )
        crl = materials.get(
            listener.client_crl_container_ref, f"{field}.client_crl_container_ref", crl=True
        )
        crl_file = files.crl(crl)
    min_ver, max_ver = _versions(
        listener.tls_versions, f"{field}.tls_versions", "listener", openssl
    )
    ciphers, suites = _ciphers(listener.tls_ciphers, f"{field}.tls_ciphers", openssl)
    return {
        "crt_list": f"{CERT_DIR}/{filters.uuid_id(listener.meta.id, f'{field}.id')}.crt-list",
        "entries": entries,
        "verify": f.OCTAVIA_CLIENT_AUTH[auth],
        "ca_file": ca_file,
        "crl_file": crl_file,
        "min_ver": min_ver,
        "max_ver": max_ver,
        "ciphers": ciphers,
        "ciphersuites": suites,
        "alpn": _alpn(listener.alpn_protocols, f"{field}.alpn_protocols"),
    }


def hsts(listener: graph_pb2.Listener, field: str, protocol: str) -> dict[str, Any] | None:
    """Octavia's Strict-Transport-Security response header (TERMINATED_HTTPS only)."""
    if not listener.HasField("hsts_max_age"):
        if listener.hsts_include_subdomains or listener.hsts_preload:
            raise InvalidInput(
                "hsts_max_age is required to enable HSTS options", field=f"{field}.hsts_max_age"
            )
        return None
    if protocol != "TERMINATED_HTTPS":
        raise InvalidInput(
            f"{field}.hsts_max_age needs a TERMINATED_HTTPS listener", field=f"{field}.hsts_max_age"
        )
    return {
        "max_age": filters.int_range(
            listener.hsts_max_age, f"{field}.hsts_max_age", 0, MAX_HSTS_AGE
        ),
        "include_subdomains": listener.hsts_include_subdomains,
        "preload": listener.hsts_preload,
    }


def pool_tls(
    pool: graph_pb2.Pool, field: str, materials: Materials, files: FileSet, openssl: str
) -> dict[str, Any] | None:
    """Server TLS options of a re-encrypting pool (None when the pool does not re-encrypt;
    its certificate references are then unused, as in Octavia)."""
    if not pool.tls_enabled:
        return None
    crt = ca_file = crl_file = None
    if pool.tls_container_ref:
        crt = files.certificate(
            materials.get(pool.tls_container_ref, f"{field}.tls_container_ref", key=True)
        )
    if pool.ca_tls_container_ref:
        ca_file = files.ca(
            materials.get(pool.ca_tls_container_ref, f"{field}.ca_tls_container_ref")
        )
    if pool.crl_container_ref:
        if ca_file is None:
            raise InvalidInput(
                "a pool CRL needs a CA certificate", field=f"{field}.crl_container_ref"
            )
        crl_file = files.crl(
            materials.get(pool.crl_container_ref, f"{field}.crl_container_ref", crl=True)
        )
    min_ver, max_ver = _versions(pool.tls_versions, f"{field}.tls_versions", "pool", openssl)
    ciphers, suites = _ciphers(pool.tls_ciphers, f"{field}.tls_ciphers", openssl)
    return {
        "crt": crt,
        # Octavia: the member's certificate is verified only when the pool names a CA.
        "verify": "required" if ca_file else "none",
        "ca_file": ca_file,
        "crl_file": crl_file,
        "min_ver": min_ver,
        "max_ver": max_ver,
        "ciphers": ciphers,
        "ciphersuites": suites,
        "alpn": _alpn(pool.alpn_protocols, f"{field}.alpn_protocols"),
    }


def ssl_rule(rule: graph_pb2.L7Rule, field: str, kind: str, compare: str) -> dict[str, Any]:
    """An SSL_* L7 rule as an ACL on the client certificate (Octavia's semantics)."""
    base = {"ignore_case": False, "regex": False, "key": None, "method": None}
    if kind == "SSL_CONN_HAS_CERT":
        if compare != "EQUAL_TO" or rule.value.lower() != "true":
            raise InvalidInput(
                f"{field}: SSL_CONN_HAS_CERT rules compare EQUAL_TO the value True",
                field=f"{field}.value",
            )
        return {**base, "fetch": "ssl_c_used", "value": None}
    if kind == "SSL_VERIFY_RESULT":
        if compare != "EQUAL_TO" or not rule.value.isdigit():
            raise InvalidInput(
                f"{field}: SSL_VERIFY_RESULT rules compare EQUAL_TO a verify result number",
                field=f"{field}.value",
            )
        return {
            **base,
            "fetch": "ssl_c_verify",
            "value": filters.int_range(int(rule.value), f"{field}.value", 0, 2**31 - 1),
        }
    # SSL_DN_FIELD: one attribute of the client certificate's subject.
    key = filters.dn_field(rule.key, f"{field}.key")
    if compare == "REGEX":
        value = filters.regex(rule.value, f"{field}.value")
    else:
        value = filters.match_pattern(rule.value, f"{field}.value")
    return {
        **base,
        "fetch": "ssl_dn",
        "key": key,
        "method": f.L7_COMPARE_TYPES[compare],
        "regex": compare == "REGEX",
        "value": value,
    }
