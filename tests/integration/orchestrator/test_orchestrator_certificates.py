"""Certificates end to end on a real orchestrator and PostgreSQL: CRUD with project isolation,
reference checks on listener/pool writes, delete refused while in use, resolve() for the
reconcile pass, and the key stored encrypted."""

from __future__ import annotations

import asyncio
import time

import grpc
import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from lbaas.common.v1 import graph_pb2 as g
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from orch_fakes import make_settings
from orch_harness import ADMIN, ALICE, BOB, create_lb, lb_status, orchestrator, wait_for

from services.common.errors import InvalidInput, from_rpc_error
from services.orchestrator.adapters import key_decryption
from services.orchestrator.adapters.certificates_local import LocalCertificateStore
from tests.support import der
from tests.support.certs import make_ca, make_crl, make_leaf, make_pkcs12


async def _error(call):
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value.code(), from_rpc_error(info.value)


def test_certificates_crud_isolation_refs_in_use_and_resolve(database_url, run_dir):
    ca = make_ca("Tenant CA")
    leaf = make_leaf(ca, "www.example.com", ["www.example.com", "alt.example.com"])
    sni = make_leaf(ca, "sni.example.com")

    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir)) as st:
            s = st.stub

            async def create(scope=ALICE, **fields):
                req = pb.CreateCertificateRequest(scope=scope, **fields)
                return (await s.CreateCertificate(req)).certificate

            tls = await create(
                name="web", certificate_pem=leaf.cert_pem, private_key_pem=leaf.key_pem
            )
            assert tls.type == "TLS" and tls.ref == f"local:{tls.id}"
            assert list(tls.hostnames) == ["www.example.com", "alt.example.com"]
            assert tls.project_id == "alice" and tls.expires_at.seconds > 0
            p12 = await create(name="sni", pkcs12=make_pkcs12(sni, b"pw"), passphrase="pw")
            ca_cert = await create(name="ca", certificate_pem=ca.cert_pem)
            crl = await create(name="crl", crl_pem=make_crl(ca, [sni]))
            assert (p12.type, ca_cert.type, crl.type) == ("TLS", "CA", "CRL")
            bob_tls = await create(
                BOB, name="bob", certificate_pem=leaf.cert_pem, private_key_pem=leaf.key_pem
            )

            # Bad material: 400 naming the field; nothing stored.
            other = make_leaf(ca, "other")
            code, err = await _error(
                s.CreateCertificate(
                    pb.CreateCertificateRequest(
                        scope=ALICE, certificate_pem=leaf.cert_pem, private_key_pem=other.key_pem
                    )
                )
            )
            assert code == grpc.StatusCode.INVALID_ARGUMENT and err.field == "private_key_pem"

            # Scoping: alice sees her four, not bob's; admin sees all five.
            mine = (await s.ListCertificates(pb.ListCertificatesRequest(scope=ALICE))).certificates
            assert {c.id for c in mine} == {tls.id, p12.id, ca_cert.id, crl.id}
            every = (await s.ListCertificates(pb.ListCertificatesRequest(scope=ADMIN))).certificates
            assert bob_tls.id in {c.id for c in every}
            code, _ = await _error(
                s.GetCertificate(pb.GetCertificateRequest(scope=ALICE, id=bob_tls.id))
            )
            assert code == grpc.StatusCode.NOT_FOUND
            code, _ = await _error(
                s.DeleteCertificate(pb.DeleteCertificateRequest(scope=ALICE, id=bob_tls.id))
            )
            assert code == grpc.StatusCode.NOT_FOUND

            lb = await create_lb(s)
            lb_id = lb.meta.id

            def listener(**refs):
                msg = g.Listener(
                    meta=g.ResourceMeta(name="https", admin_state_up=True),
                    loadbalancer_id=lb_id,
                    protocol="TERMINATED_HTTPS",
                    protocol_port=443,
                    connection_limit=-1,
                    **refs,
                )
                return s.CreateListener(pb.CreateListenerRequest(scope=ALICE, listener=msg))

            # Reference checks: unknown, another project's, and wrong type are 400s.
            for refs, field in (
                ({"default_tls_container_ref": "local:nope"}, "default_tls_container_ref"),
                ({"default_tls_container_ref": bob_tls.ref}, "default_tls_container_ref"),
                ({"default_tls_container_ref": ca_cert.ref}, "default_tls_container_ref"),
                (
                    {"default_tls_container_ref": tls.ref, "sni_container_refs": [crl.ref]},
                    "sni_container_refs[0]",
                ),
                (
                    {
                        "default_tls_container_ref": tls.ref,
                        "client_authentication": "MANDATORY",
                        "client_ca_tls_container_ref": crl.ref,
                    },
                    "client_ca_tls_container_ref",
                ),
            ):
                code, err = await _error(listener(**refs))
                assert code == grpc.StatusCode.INVALID_ARGUMENT, refs
                assert err.field == field, (refs, err.field)

            created = await listener(
                default_tls_container_ref=tls.ref,
                sni_container_refs=[p12.ref],
                client_authentication="MANDATORY",
                client_ca_tls_container_ref=ca_cert.ref,
                client_crl_container_ref=crl.ref,
            )
            assert created.listener.meta.id
            pool_msg = g.Pool(
                meta=g.ResourceMeta(name="p", admin_state_up=True),
                loadbalancer_id=lb_id,
                protocol="HTTP",
                lb_algorithm="ROUND_ROBIN",
                tls_enabled=True,
                ca_tls_container_ref="local:missing",
            )
            code, err = await _error(s.CreatePool(pb.CreatePoolRequest(scope=ALICE, pool=pool_msg)))
            assert (code, err.field) == (grpc.StatusCode.INVALID_ARGUMENT, "ca_tls_container_ref")
            pool_msg.ca_tls_container_ref = tls.ref  # a TLS bundle as a CA: accepted
            await s.CreatePool(pb.CreatePoolRequest(scope=ALICE, pool=pool_msg))

            # The reconcile pass resolves every ref (FakeRenderer accepts the materials).
            await wait_for(lambda: _active(s, lb_id), what="load balancer ACTIVE with certificates")

            # In use: 409-style FAILED_PRECONDITION, for the listener's and the pool's refs.
            for cert in (tls, p12, ca_cert, crl):
                code, err = await _error(
                    s.DeleteCertificate(pb.DeleteCertificateRequest(scope=ALICE, id=cert.id))
                )
                assert code == grpc.StatusCode.FAILED_PRECONDITION, cert.name
                assert "in use" in err.user_message
            await s.DeleteCertificate(pb.DeleteCertificateRequest(scope=BOB, id=bob_tls.id))
            return tls, p12, ca_cert, crl

    tls, p12, ca_cert, crl = asyncio.run(scenario())

    # resolve(): material for every ref, key decrypted; another project's graph cannot use them.
    from services.orchestrator.adapters.db.engine import UnitOfWork, make_engine

    settings = make_settings(database_url, run_dir)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        store = LocalCertificateStore(UnitOfWork(engine), run_dir / "cert-encryption.key")
        graph = g.LoadBalancer(
            meta=g.ResourceMeta(project_id="alice"),
            listeners=[
                g.Listener(
                    default_tls_container_ref=tls.ref,
                    sni_container_refs=[p12.ref, tls.ref],
                    client_ca_tls_container_ref=ca_cert.ref,
                    client_crl_container_ref=crl.ref,
                )
            ],
            pools=[g.Pool(ca_tls_container_ref=ca_cert.ref)],
        )
        materials = {m.ref: m for m in store.resolve(graph)}
        assert set(materials) == {tls.ref, p12.ref, ca_cert.ref, crl.ref}
        assert materials[tls.ref].private_key_pem == leaf.key_pem
        assert materials[p12.ref].private_key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
        assert materials[ca_cert.ref].certificate_pem == ca.cert_pem
        assert materials[ca_cert.ref].private_key_pem == b""
        assert b"X509 CRL" in materials[crl.ref].crl_pem
        graph.meta.project_id = "bob"
        with pytest.raises(InvalidInput) as info:
            store.resolve(graph)
        assert info.value.field == "listeners[0].default_tls_container_ref"
    finally:
        engine.dispose()

    # At rest: the key column holds no PEM.
    with psycopg.connect(database_url) as conn:
        stored = conn.execute(
            "SELECT private_key_encrypted FROM certificate WHERE id = %s", (tls.id,)
        ).fetchone()[0]
    assert b"PRIVATE KEY" not in bytes(stored) and leaf.key_pem not in bytes(stored)


async def _active(stub, lb_id):
    return await lb_status(stub, lb_id) == "PROVISIONING_STATUS_ACTIVE"


def test_costly_key_derivation_is_refused_and_other_calls_go_on(database_url, run_dir, monkeypatch):
    """An upload asking for 2**31 iterations in plain sight is refused at once; one that hides
    them in its encrypted content is stopped at the decryption deadline, and while it runs the
    orchestrator answers other calls as usual."""
    # Long enough that a blocked event loop would show in every call made meanwhile.
    monkeypatch.setattr(key_decryption, "DECRYPT_DEADLINE", 8.0)
    leaf = make_leaf(make_ca("Tenant CA"), "www.example.com")
    encrypted = leaf.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    huge = der.pem("ENCRYPTED PRIVATE KEY", der.with_iterations(encrypted, 2**31 - 1))

    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir)) as st:
            s = st.stub
            started = time.monotonic()
            code, err = await _error(
                s.CreateCertificate(
                    pb.CreateCertificateRequest(
                        scope=ALICE,
                        certificate_pem=leaf.cert_pem,
                        private_key_pem=huge,
                        passphrase="pw",
                    )
                )
            )
            assert time.monotonic() - started < 5.0  # refused before any derivation
            assert (code, err.field) == (grpc.StatusCode.INVALID_ARGUMENT, "private_key_pem")
            assert "2147483647 key-derivation iterations" in err.user_message

            hidden = asyncio.ensure_future(
                s.CreateCertificate(
                    pb.CreateCertificateRequest(
                        scope=ALICE, pkcs12=der.pkcs12_with_hidden_key_bag(2**31 - 1)
                    )
                )
            )
            await asyncio.sleep(0.3)  # the child is deriving by now
            slowest = 0.0
            for _ in range(5):
                started = time.monotonic()
                await s.ListCertificates(pb.ListCertificatesRequest(scope=ALICE))
                slowest = max(slowest, time.monotonic() - started)
            assert not hidden.done()
            assert slowest < 4.0  # the child derives for 8 s: the loop was free
            code, err = await _error(hidden)
            assert (code, err.field) == (grpc.StatusCode.INVALID_ARGUMENT, "pkcs12")
            assert "takes longer than 8 s to decrypt" in err.user_message

            # A passphrase-protected key as tools write it is still stored.
            stored = await s.CreateCertificate(
                pb.CreateCertificateRequest(
                    scope=ALICE,
                    certificate_pem=leaf.cert_pem,
                    private_key_pem=leaf.encrypted_key_pem(b"pw"),
                    passphrase="pw",
                )
            )
            assert stored.certificate.type == "TLS"
            listed = await s.ListCertificates(pb.ListCertificatesRequest(scope=ALICE))
            assert [c.id for c in listed.certificates] == [stored.certificate.id]

    asyncio.run(scenario())
