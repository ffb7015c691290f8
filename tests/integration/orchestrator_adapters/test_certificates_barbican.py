"""The barbican certificate driver through real openstacksdk against a small fake Barbican on
127.0.0.1 (only the endpoints openstacksdk calls: secrets, secret payloads, containers). No real
Barbican was run; this proves the request shapes and the container layout."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.common.errors import Unavailable
from services.orchestrator.adapters.certificate_bundle import BundleInput, parse
from services.orchestrator.adapters.certificates_barbican import BarbicanCertificateStore
from services.orchestrator.adapters.db.certificate_models import CertificateRow
from services.orchestrator.certificates_config import BarbicanSettings
from tests.support.certs import make_ca, make_crl, make_leaf


class FakeBarbican:
    def __init__(self) -> None:
        self.secrets: dict[str, dict] = {}
        self.containers: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: object = None, ctype: str = "application/json"):
                data = (
                    b""
                    if body is None
                    else body
                    if isinstance(body, bytes)
                    else (json.dumps(body).encode())
                )
                self.send_response(status)
                if body is not None:
                    self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _parts(self) -> list[str]:
                fake.requests.append((self.command, self.path))
                return [p for p in self.path.split("?")[0].split("/") if p]

            def do_GET(self) -> None:
                parts = self._parts()
                if parts in ([], ["v1"]):
                    return self._send(200, {"versions": {"values": [{"id": "v1", "status": "stable",
                        "links": [{"rel": "self", "href": f"{fake.url}/v1/"}]}]}})  # fmt: skip
                if parts in (
                    ["v1", "secrets"],
                    ["v1", "containers"],
                ):  # find_* falls back to a list
                    return self._send(200, {parts[1]: [], "total": 0})
                if parts[:2] == ["v1", "secrets"] and parts[2] in fake.secrets:
                    secret = fake.secrets[parts[2]]
                    if len(parts) == 4 and parts[3] == "payload":
                        return self._send(200, secret["payload"].encode(), "text/plain")
                    meta = {k: v for k, v in secret.items() if k != "payload"}
                    return self._send(200, {**meta, "content_types": {"default": "text/plain"}})
                if parts[:2] == ["v1", "containers"] and parts[2] in fake.containers:
                    return self._send(200, fake.containers[parts[2]])
                return self._send(404, {"code": 404, "title": "Not Found"})

            def do_POST(self) -> None:
                parts = self._parts()
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                new = str(uuid.uuid4())
                if parts == ["v1", "secrets"]:
                    assert body["payload_content_type"] == "text/plain"
                    ref = f"{fake.url}/v1/secrets/{new}"
                    fake.secrets[new] = {**body, "secret_ref": ref, "status": "ACTIVE"}
                    return self._send(201, {"secret_ref": ref})
                if parts == ["v1", "containers"]:
                    for entry in body["secret_refs"]:
                        assert entry["secret_ref"].rsplit("/", 1)[-1] in fake.secrets
                    ref = f"{fake.url}/v1/containers/{new}"
                    fake.containers[new] = {**body, "container_ref": ref, "status": "ACTIVE"}
                    return self._send(201, {"container_ref": ref})
                return self._send(404, {"code": 404})

            def do_DELETE(self) -> None:
                parts = self._parts()
                table = {"secrets": fake.secrets, "containers": fake.containers}.get(parts[1])
                if table is None or table.pop(parts[2], None) is None:
                    return self._send(404, {"code": 404})
                return self._send(204)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeBarbican:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def barbican() -> Iterator[FakeBarbican]:
    with FakeBarbican() as fake:
        yield fake


def _store(url: str) -> BarbicanCertificateStore:
    settings = BarbicanSettings(endpoint=f"{url}/v1/", timeout=5)
    return BarbicanCertificateStore(uow=None, settings=settings)  # type: ignore[arg-type]


def test_tls_ca_and_crl_round_trip_through_openstacksdk(barbican):
    ca = make_ca()
    leaf = make_leaf(make_ca("Inter", issuer=ca), "www.example.com")
    store = _store(barbican.url)
    cases = {
        "TLS": BundleInput(
            certificate_pem=leaf.cert_pem,
            private_key_pem=leaf.key_pem,
            intermediates_pem=leaf.chain_pem,
        ),
        "CA": BundleInput(certificate_pem=ca.cert_pem),
        "CRL": BundleInput(crl_pem=make_crl(ca, [leaf])),
    }
    for kind, given in cases.items():
        bundle = parse(given)
        row = CertificateRow(id=str(uuid.uuid4()), name=f"c-{kind}", project_id="p", type=kind)
        store.store(row, bundle)
        assert row.ref.startswith(f"{barbican.url}/v1/containers/")
        assert row.private_key_encrypted is None and not row.certificate_pem  # nothing local
        container = barbican.containers[row.ref.rsplit("/", 1)[-1]]
        names = [e["name"] for e in container["secret_refs"]]
        if kind == "TLS":
            assert container["type"] == "certificate"
            assert names == ["certificate", "private_key", "intermediates"]
        else:
            assert container["type"] == "generic"
            assert names == ["crl" if kind == "CRL" else "certificate"]
        material = store.material(row)
        assert material.ref == row.ref
        assert material.certificate_pem == bundle.certificate_pem
        assert material.private_key_pem == bundle.private_key_pem
        assert material.intermediates_pem == bundle.intermediates_pem
        assert material.crl_pem == bundle.crl_pem
        store.discard(row)
        assert row.ref.rsplit("/", 1)[-1] not in barbican.containers
    assert barbican.secrets == {} and barbican.containers == {}
    # Discarding what is already gone is not an error.
    store.discard(row)


def test_unreachable_barbican_is_unavailable(barbican):
    url = barbican.url
    barbican.server.shutdown()
    barbican.server.server_close()
    ca = make_ca()
    row = CertificateRow(id=str(uuid.uuid4()), name="x", project_id="p", type="CA")
    with pytest.raises(Unavailable) as info:
        _store(url).store(row, parse(BundleInput(certificate_pem=ca.cert_pem)))
    assert "barbican create_secret" in info.value.operator_detail
