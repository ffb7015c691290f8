"""Certificate parsing (PEM, PKCS#12, CA bundles, CRLs), hostnames, and key encryption at rest."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization

from services.common.errors import InvalidInput, Precondition
from services.orchestrator.adapters.certificate_bundle import BundleInput, hostnames, parse
from services.orchestrator.adapters.certificates_local import KeyBox, LocalCertificateStore
from services.orchestrator.adapters.db.certificate_models import CertificateRow
from tests.support.certs import make_ca, make_crl, make_leaf, make_pkcs12, pem_of


@pytest.fixture(scope="module")
def pki():
    root = make_ca("Root")
    inter = make_ca("Intermediate", issuer=root)
    leaf = make_leaf(inter, "www.example.com", ["www.example.com", "API.example.com", "127.0.0.1"])
    return root, inter, leaf


def _field(given: BundleInput) -> str:
    with pytest.raises(InvalidInput) as info:
        parse(given)
    return info.value.field


def test_pem_bundle_gives_leaf_chain_pkcs8_key_and_hostnames(pki):
    root, inter, leaf = pki
    b = parse(
        BundleInput(
            certificate_pem=leaf.cert_pem,
            private_key_pem=leaf.key_pem,
            intermediates_pem=leaf.chain_pem,
        )
    )
    assert b.type == "TLS"
    assert b.certificate_pem == leaf.cert_pem
    assert b.intermediates_pem == inter.cert_pem
    assert b.private_key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert b.hostnames == ("www.example.com", "api.example.com")
    assert b.subject == "CN=www.example.com"
    assert b.expires_at == leaf.cert.not_valid_after_utc
    # A fullchain certificate part: the chain after the leaf becomes intermediates.
    full = parse(BundleInput(certificate_pem=leaf.fullchain_pem, private_key_pem=leaf.key_pem))
    assert full.intermediates_pem == inter.cert_pem


def test_encrypted_pem_key_and_pkcs12_with_passphrase(pki):
    _, inter, leaf = pki
    b = parse(
        BundleInput(
            certificate_pem=leaf.cert_pem,
            private_key_pem=leaf.encrypted_key_pem(b"pw"),
            passphrase="pw",
        )
    )
    assert b.private_key_pem == leaf.key_pem
    p12 = parse(BundleInput(pkcs12=make_pkcs12(leaf, b"s3cret"), passphrase="s3cret"))
    assert p12.type == "TLS"
    assert p12.certificate_pem == leaf.cert_pem
    assert p12.intermediates_pem == inter.cert_pem
    assert p12.private_key_pem == leaf.key_pem
    assert _field(BundleInput(pkcs12=make_pkcs12(leaf, b"s3cret"), passphrase="wrong")) == "pkcs12"
    assert _field(BundleInput(pkcs12=b"not a p12")) == "pkcs12"


def test_rejections_name_the_part(pki):
    root, _, leaf = pki
    other = make_leaf(root, "other.example.com")
    # Key of another certificate.
    assert (
        _field(BundleInput(certificate_pem=leaf.cert_pem, private_key_pem=other.key_pem))
        == "private_key_pem"
    )
    assert _field(BundleInput(certificate_pem=b"junk", private_key_pem=leaf.key_pem)) == (
        "certificate_pem"
    )
    assert _field(BundleInput(type="TLS", certificate_pem=leaf.cert_pem)) == "private_key_pem"
    assert (
        _field(
            BundleInput(
                certificate_pem=leaf.cert_pem,
                private_key_pem=leaf.key_pem,
                intermediates_pem=b"-----BEGIN CERTIFICATE-----\nxx\n-----END CERTIFICATE-----\n",
            )
        )
        == "intermediates_pem"
    )
    assert _field(BundleInput(type="CA", certificate_pem=root.cert_pem, private_key_pem=b"k")) == (
        "private_key_pem"
    )
    assert _field(BundleInput(type="CRL", crl_pem=b"-----BEGIN X509 CRL-----\n")) == "crl_pem"
    assert _field(BundleInput(type="BOGUS")) == "type"
    assert _field(BundleInput()) == "type"
    assert _field(BundleInput(certificate_pem=b"x" * (512 * 1024 + 1))) == "certificate_pem"


def test_the_parts_together_are_capped_too(pki):
    _, _, leaf = pki
    part = 500 * 1024  # each within the 512 KiB of a part
    given = BundleInput(
        certificate_pem=leaf.cert_pem + b"\n" * part,
        private_key_pem=leaf.key_pem + b"\n" * (part // 10),
        intermediates_pem=b"\n" * part,
    )
    with pytest.raises(InvalidInput) as info:
        parse(given)
    assert info.value.field == "certificate_pem"  # the largest part
    assert "larger than 1048576 bytes in all" in info.value.user_message
    # Each part alone is within its own cap: without the chain, the bundle is read.
    assert parse(BundleInput(certificate_pem=given.certificate_pem, private_key_pem=leaf.key_pem))


def test_ca_bundle_and_crl(pki):
    root, inter, leaf = pki
    ca = parse(BundleInput(certificate_pem=pem_of(root, inter)))
    assert ca.type == "CA"
    assert ca.certificate_pem == pem_of(root, inter)
    assert ca.subject == "CN=Root"
    assert ca.private_key_pem == b""
    crl = parse(BundleInput(crl_pem=make_crl(root, [leaf])))
    assert crl.type == "CRL"
    assert crl.subject == "CN=Root"
    assert crl.expires_at is not None
    assert b"BEGIN X509 CRL" in crl.crl_pem


def test_hostnames_without_san_is_the_cn(pki):
    root, _, _ = pki
    assert hostnames(make_leaf(root, "Only.CN.example").cert) == ("only.cn.example",)


def test_key_is_encrypted_at_rest_and_another_key_file_cannot_decrypt(pki, tmp_path):
    _, _, leaf = pki
    key_file = tmp_path / "run" / "cert-encryption.key"
    store = LocalCertificateStore(uow=None, key_file=key_file)  # type: ignore[arg-type]
    bundle = parse(BundleInput(certificate_pem=leaf.cert_pem, private_key_pem=leaf.key_pem))
    row = CertificateRow(id="00000000-0000-0000-0000-000000000001", project_id="p", type="TLS")
    store.store(row, bundle)
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert row.ref == "local:00000000-0000-0000-0000-000000000001"
    secret_der = leaf.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    stored = row.private_key_encrypted or b""
    assert leaf.key_pem not in stored and b"PRIVATE KEY" not in stored
    assert secret_der not in stored
    material = store.material(row)
    assert material.private_key_pem == leaf.key_pem
    assert material.certificate_pem == leaf.cert_pem
    # The same rows under another key file: refused, not garbage.
    other = KeyBox(tmp_path / "other.key")
    with pytest.raises(Precondition):
        other.decrypt(stored)
    # Rotation: a new key first in the file still reads rows written under the old one.
    old = key_file.read_bytes()
    rotated = tmp_path / "rotated.key"
    rotated.write_bytes((tmp_path / "other.key").read_bytes() + old)
    assert KeyBox(rotated).decrypt(stored) == leaf.key_pem


def test_settings_from_environment(tmp_path):
    from services.orchestrator.certificates_config import CertificateSettings

    default = CertificateSettings.from_env(tmp_path, {})
    assert default.driver == "local" and default.key_file == tmp_path / "cert-encryption.key"
    env = {"LBAAS_CERT_DRIVER": "barbican", "LBAAS_BARBICAN_ENDPOINT": "http://127.0.0.1:1/v1"}
    assert CertificateSettings.from_env(tmp_path, env).barbican.endpoint.endswith("/v1")
    with pytest.raises(ValueError):
        CertificateSettings.from_env(tmp_path, {"LBAAS_CERT_DRIVER": "barbican"})
    with pytest.raises(ValueError):
        CertificateSettings.from_env(tmp_path, {"LBAAS_CERT_DRIVER": "vault"})
