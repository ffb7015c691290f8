"""/v2/lbaas/certificates on the in-memory orchestrator: body validation, views without key
material, scoping, 409 while in use, policy, and the OpenAPI document."""

from __future__ import annotations

import base64

from tests.support.certs import make_ca, make_leaf, make_pkcs12
from tests.unit.api_gateway.conftest import ADMIN, OTHER

CA = make_ca()
LEAF = make_leaf(CA, "www.example.com", ["www.example.com"])
URL = "/v2/lbaas/certificates"


def _tls_body(**extra):
    return {
        "certificate": {
            "name": "web",
            "certificate": LEAF.cert_pem.decode(),
            "private_key": LEAF.key_pem.decode(),
            **extra,
        }
    }


def test_create_show_list_delete_and_no_key_in_any_view(client, orch):
    r = client.post(URL, json=_tls_body(intermediates=CA.cert_pem.decode()))
    assert r.status_code == 201, r.text
    cert = r.json()["certificate"]
    assert set(cert) == {
        "id", "name", "project_id", "ref", "type", "hostnames", "subject", "expires_at",
        "created_at",
    }  # fmt: skip
    assert cert["ref"] == f"local:{cert['id']}" and cert["type"] == "TLS"
    assert cert["project_id"] == "project-a"
    sent = orch.calls[-1][1]
    assert sent.private_key_pem == LEAF.key_pem and sent.scope.project_id == "project-a"
    for body in (
        client.get(f"{URL}/{cert['id']}").text,
        client.get(URL).text,
        client.get(f"/v2.0/lbaas/certificates/{cert['id']}").text,
    ):
        assert "PRIVATE KEY" not in body and "private_key" not in body
    listed = client.get(URL, params={"fields": "id,ref"}).json()
    assert listed["certificates"] == [{"id": cert["id"], "ref": cert["ref"]}]
    assert listed["certificates_links"] == []
    # Another project neither sees nor deletes it; the admin sees it.
    other = {"X-Auth-Token": OTHER}
    assert client.get(f"{URL}/{cert['id']}", headers=other).status_code == 404
    assert client.get(URL, headers=other).json()["certificates"] == []
    assert client.delete(f"{URL}/{cert['id']}", headers=other).status_code == 404
    admin = client.get(URL, headers={"X-Auth-Token": ADMIN}).json()["certificates"]
    assert [c["id"] for c in admin] == [cert["id"]]
    # In use: 409.
    orch.certs.in_use.add(cert["ref"])
    r = client.delete(f"{URL}/{cert['id']}")
    assert r.status_code == 409, r.text
    orch.certs.in_use.clear()
    assert client.delete(f"{URL}/{cert['id']}").status_code == 204
    assert client.get(f"{URL}/{cert['id']}").status_code == 404


def test_pkcs12_is_decoded_and_admin_may_name_the_project(client, orch):
    p12 = make_pkcs12(LEAF, b"pw")
    body = {"certificate": {"pkcs12": base64.b64encode(p12).decode(), "passphrase": "pw"}}
    r = client.post(URL, json=body, headers={"X-Auth-Token": ADMIN})
    assert r.status_code == 201, r.text
    assert orch.calls[-1][1].pkcs12 == p12
    assert r.json()["certificate"]["project_id"] == "admin-project"
    body["certificate"]["project_id"] = "project-b"
    r = client.post(URL, json=body, headers={"X-Auth-Token": ADMIN})
    assert r.json()["certificate"]["project_id"] == "project-b"
    body["certificate"]["project_id"] = "project-b"
    assert client.post(URL, json=body).status_code == 403  # a member names another project


def test_strict_validation(client, orch):
    before = len(orch.calls)
    for body in (
        {"certificate": {"certificate": "x", "bogus": 1}},
        {"certificate": {"certificate": 5}},
        {"certificate": {"pkcs12": "not base64!!"}},
        # A type outside TLS, CA, CRL is the orchestrator's to refuse (its list, domain/
        # certificates.py; tests/unit/orchestrator_adapters/test_certificates_local.py).
        {"certificate": {"certificate": "\x00bad"}},
        {"certificate": {"certificate": "A" * (512 * 1024 + 1)}},
        {"certificate": {}, "extra": {}},
        {"cert": {}},
    ):
        r = client.post(URL, json=body)
        assert r.status_code == 400, (body if len(str(body)) < 200 else "big", r.text)
        assert r.json()["faultcode"] == "Client"
    assert len(orch.calls) == before  # nothing reached the orchestrator


def test_policy_and_openapi(client):
    assert client.get(URL, headers={"X-Auth-Token": "nope"}).status_code == 401
    paths = client.get("/openapi.json").json()["paths"]
    for prefix in ("/v2", "/v2.0"):
        assert {"get", "post"} <= set(paths[f"{prefix}/lbaas/certificates"])
        assert {"get", "delete"} <= set(paths[f"{prefix}/lbaas/certificates/{{certificate_id}}"])
    post = paths["/v2/lbaas/certificates"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    inner = schema["properties"]["certificate"]
    assert inner.get("additionalProperties") is False
    assert "201" in post["responses"]
