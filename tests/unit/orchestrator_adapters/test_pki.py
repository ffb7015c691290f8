"""The internal CA: leaf lifetime from the constructor, controller certificate renewal on disk."""

from __future__ import annotations

import datetime as dt
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from services.orchestrator.adapters import pki
from services.orchestrator.adapters.pki import FileCertificateAuthority

T0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def clock(monkeypatch):
    """The CA's clock, moved by the test: clock.now = ..."""

    class Clock:
        now = T0

    monkeypatch.setattr(pki, "_now", lambda: Clock.now)
    return Clock


def _cert(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


def _matches(cert_pem: bytes, key_pem: bytes) -> bool:
    public = serialization.load_pem_private_key(key_pem, password=None).public_key()
    der = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return _cert(cert_pem).public_key().public_bytes(*der) == public.public_bytes(*der)


def test_leaf_certificates_live_the_configured_validity(tmp_path, clock):
    ca = FileCertificateAuthority(tmp_path / "ca", validity=90, renew_before=30)
    amphora = _cert(ca.issue_amphora_certificate("amp-1").cert_pem)
    controller = _cert(ca.controller_credentials().cert_pem)
    for cert in (amphora, controller):
        assert cert.not_valid_after_utc == T0 + dt.timedelta(seconds=90)
    # The CA itself keeps its own, long lifetime.
    ca_cert = _cert(ca.ca_certificate_pem())
    assert ca_cert.not_valid_after_utc - T0 > dt.timedelta(days=3000)
    # The default is a year.
    default = FileCertificateAuthority(tmp_path / "other")
    leaf = _cert(default.issue_amphora_certificate("amp-1").cert_pem)
    assert leaf.not_valid_after_utc == T0 + dt.timedelta(days=365)


def test_controller_certificate_is_reused_until_due_then_renewed_on_disk(tmp_path, clock):
    ca_dir = tmp_path / "ca"
    ca = FileCertificateAuthority(ca_dir, validity=60, renew_before=40)
    first = ca.controller_credentials()
    assert ca.controller_not_after() == T0 + dt.timedelta(seconds=60)

    clock.now = T0 + dt.timedelta(seconds=19)  # expires in 41 s: not due yet
    assert ca.controller_credentials() == first

    clock.now = T0 + dt.timedelta(seconds=21)  # expires in 39 s: due
    renewed = ca.controller_credentials()
    assert renewed.cert_pem != first.cert_pem and renewed.key_pem != first.key_pem
    assert _cert(renewed.cert_pem).not_valid_after_utc == clock.now + dt.timedelta(seconds=60)
    assert _cert(renewed.cert_pem).subject.rfc4514_string() == "CN=lbaas-controller"
    assert _matches(renewed.cert_pem, renewed.key_pem)
    assert (ca_dir / "controller.crt").read_bytes() == renewed.cert_pem
    assert (ca_dir / "controller.key").read_bytes() == renewed.key_pem
    assert stat.S_IMODE((ca_dir / "controller.key").stat().st_mode) == 0o600
    assert ca.controller_not_after() == clock.now + dt.timedelta(seconds=60)
    assert not list(ca_dir.glob("*.tmp")), "temp files left behind"
    assert ca.controller_credentials() == renewed  # and kept


def test_a_second_process_reads_the_renewed_certificate_instead_of_issuing_one(tmp_path, clock):
    """The API and worker processes share the CA directory: one renews, the other reads it."""
    api = FileCertificateAuthority(tmp_path / "ca", validity=60, renew_before=40)
    worker = FileCertificateAuthority(tmp_path / "ca", validity=60, renew_before=40)
    first = api.controller_credentials()
    assert worker.controller_credentials() == first
    clock.now = T0 + dt.timedelta(seconds=30)
    renewed = worker.controller_credentials()
    assert renewed != first
    assert api.controller_credentials() == renewed


def test_a_certificate_whose_key_does_not_match_is_renewed(tmp_path, clock):
    """A crash between writing the key and the certificate leaves a pair that does not match."""
    ca = FileCertificateAuthority(tmp_path / "ca", validity=60, renew_before=40)
    first = ca.controller_credentials()
    other = ca.issue_client_certificate("lbaas-controller")
    (tmp_path / "ca" / "controller.key").write_bytes(other.key_pem)
    fixed = ca.controller_credentials()
    assert fixed.cert_pem != first.cert_pem
    assert _matches(fixed.cert_pem, fixed.key_pem)


def test_a_renewal_margin_not_shorter_than_the_validity_becomes_half_of_it(tmp_path, clock):
    """Such a margin would make every certificate due as soon as it is issued."""
    ca = FileCertificateAuthority(tmp_path / "ca", validity=60, renew_before=600)
    assert ca.renew_before == 30
    assert (
        FileCertificateAuthority(tmp_path / "ca", validity=60, renew_before=59).renew_before == 59
    )
    first = ca.controller_credentials()
    clock.now = T0 + dt.timedelta(seconds=29)
    assert ca.controller_credentials() == first
    clock.now = T0 + dt.timedelta(seconds=31)
    assert ca.controller_credentials() != first
