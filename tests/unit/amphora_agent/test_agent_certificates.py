"""The agent's certificate rotation: what it accepts, what it writes, what new handshakes get."""

from __future__ import annotations

import datetime as dt
import stat

import pytest

from amphora_agent.certificates import CertificateError, ServerCertificate, check
from tests.support.certs import make_ca, make_leaf

AMPHORA = "3f1e2d3c-0000-4000-8000-00000000a001"


@pytest.fixture(scope="module")
def ca():
    return make_ca("controller CA")


@pytest.fixture
def files(tmp_path, ca):
    """The agent's --tls-cert, --tls-key and --client-ca files, with a first certificate."""
    first = make_leaf(ca, AMPHORA, [AMPHORA])
    paths = {name: tmp_path / name for name in ("agent.crt", "agent.key", "ca.crt")}
    paths["agent.crt"].write_bytes(first.cert_pem)
    paths["agent.key"].write_bytes(first.key_pem)
    paths["ca.crt"].write_bytes(ca.cert_pem)
    return paths


def _store(files) -> ServerCertificate:
    return ServerCertificate(
        AMPHORA, str(files["agent.crt"]), str(files["agent.key"]), str(files["ca.crt"])
    )


def test_accepts_a_certificate_naming_the_amphora_by_cn_or_dns_san(ca):
    by_both = make_leaf(ca, AMPHORA, [AMPHORA])
    assert check(by_both.cert_pem, by_both.key_pem, AMPHORA, ca.cert_pem).not_after == (
        by_both.cert.not_valid_after_utc
    )
    by_san = make_leaf(ca, "something else", [AMPHORA])
    check(by_san.cert_pem, by_san.key_pem, AMPHORA, ca.cert_pem)
    by_cn = make_leaf(ca, AMPHORA)
    check(by_cn.cert_pem, by_cn.key_pem, AMPHORA, ca.cert_pem)


def _refusal(cert_pem: bytes, key_pem: bytes, ca_pem: bytes) -> str:
    with pytest.raises(CertificateError) as err:
        check(cert_pem, key_pem, AMPHORA, ca_pem)
    return str(err.value)


def test_refuses_what_cannot_serve_this_amphora(ca):
    good = make_leaf(ca, AMPHORA, [AMPHORA])
    other_amphora = make_leaf(ca, "another-amphora", ["another-amphora"])
    assert "not amphora" in _refusal(other_amphora.cert_pem, other_amphora.key_pem, ca.cert_pem)

    other_ca = make_leaf(make_ca("some other CA"), AMPHORA, [AMPHORA])
    assert "not issued by" in _refusal(other_ca.cert_pem, other_ca.key_pem, ca.cert_pem)
    # Same issuer name, other key: the signature decides, not the name.
    impostor = make_leaf(make_ca("controller CA"), AMPHORA, [AMPHORA])
    assert "not issued by" in _refusal(impostor.cert_pem, impostor.key_pem, ca.cert_pem)

    assert "does not match" in _refusal(good.cert_pem, other_amphora.key_pem, ca.cert_pem)

    now = dt.datetime.now(dt.UTC)
    expired = make_leaf(
        ca, AMPHORA, [AMPHORA], not_before=now - dt.timedelta(days=2), not_after=now
    )
    assert "not valid now" in _refusal(expired.cert_pem, expired.key_pem, ca.cert_pem)
    future = make_leaf(ca, AMPHORA, [AMPHORA], not_before=now + dt.timedelta(hours=1))
    assert "not valid now" in _refusal(future.cert_pem, future.key_pem, ca.cert_pem)

    client = make_leaf(ca, AMPHORA, [AMPHORA], client=True)
    assert "serverAuth" in _refusal(client.cert_pem, client.key_pem, ca.cert_pem)

    assert "not a PEM certificate" in _refusal(b"junk", good.key_pem, ca.cert_pem)
    assert "private key" in _refusal(good.cert_pem, b"junk", ca.cert_pem)
    assert "private key" in _refusal(good.cert_pem, good.encrypted_key_pem(b"pw"), ca.cert_pem)


def test_update_writes_the_files_and_hands_new_handshakes_the_new_certificate_once(files, ca):
    store = _store(files)
    store.credentials()  # builds the server credentials from the first certificate
    assert store.fetch() is None  # nothing new: gRPC keeps what it has

    new = make_leaf(ca, AMPHORA, [AMPHORA], days=60)
    assert store.update(new.cert_pem, new.key_pem) == new.cert.not_valid_after_utc
    assert files["agent.crt"].read_bytes() == new.cert_pem
    assert files["agent.key"].read_bytes() == new.key_pem
    assert stat.S_IMODE(files["agent.key"].stat().st_mode) == 0o600
    assert sorted(p.name for p in files["agent.crt"].parent.iterdir()) == [
        "agent.crt",
        "agent.key",
        "ca.crt",
    ]  # no temp file left
    assert store.fetch() is not None  # the next handshake takes the new configuration ...
    assert store.fetch() is None  # ... and the ones after it keep it


def test_a_refused_update_writes_nothing_and_changes_no_handshake(files, ca):
    store = _store(files)
    before = {name: path.read_bytes() for name, path in files.items()}
    wrong = make_leaf(ca, "another-amphora", ["another-amphora"])
    with pytest.raises(CertificateError):
        store.update(wrong.cert_pem, wrong.key_pem)
    assert {name: path.read_bytes() for name, path in files.items()} == before
    assert store.fetch() is None
