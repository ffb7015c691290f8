"""L7 policies and rules, batch member updates and the new TLS/VIP fields, over real gRPC and
PostgreSQL (no worker: objects stay PENDING so every write can be observed)."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from lbaas.common.v1 import graph_pb2 as g
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from orch_fakes import make_settings
from orch_harness import ADMIN, ALICE, create_lb, orchestrator
from sqlalchemy import create_engine, text

from services.common.errors import from_rpc_error
from tests.support.certs import make_ca, make_crl, make_leaf

PENDING_CREATE, PENDING_UPDATE, PENDING_DELETE = 2, 3, 4


async def _error(call):
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value.code(), from_rpc_error(info.value).field


async def _listener(stub, lb_id, port=80, protocol="HTTP", **extra):
    msg = g.Listener(
        meta=g.ResourceMeta(name=f"l{port}", admin_state_up=True),
        loadbalancer_id=lb_id,
        protocol=protocol,
        protocol_port=port,
        connection_limit=-1,
        **extra,
    )
    return (await stub.CreateListener(pb.CreateListenerRequest(scope=ALICE, listener=msg))).listener


async def _pool(stub, lb_id, protocol="HTTP", name="p"):
    msg = g.Pool(
        meta=g.ResourceMeta(name=name, admin_state_up=True),
        loadbalancer_id=lb_id,
        protocol=protocol,
        lb_algorithm="ROUND_ROBIN",
    )
    return (await stub.CreatePool(pb.CreatePoolRequest(scope=ALICE, pool=msg))).pool


async def _policy(stub, listener_id, name, position=0, **fields):
    fields.setdefault("action", "REJECT")
    msg = g.L7Policy(
        meta=g.ResourceMeta(name=name, admin_state_up=True),
        listener_id=listener_id,
        position=position,
        **fields,
    )
    return (await stub.CreateL7Policy(pb.CreateL7PolicyRequest(scope=ALICE, l7policy=msg))).l7policy


async def _order(stub, listener_id):
    got = await stub.ListL7Policies(pb.ListL7PoliciesRequest(scope=ALICE, listener_id=listener_id))
    return [(p.meta.name, p.position) for p in got.l7policies]


async def _version(stub, lb_id):
    got = await stub.GetLoadBalancer(pb.GetLoadBalancerRequest(scope=ADMIN, id=lb_id))
    return got.loadbalancer.desired_version


def _count(database_url, table):
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    finally:
        engine.dispose()


def test_l7_policy_crud_ordering_and_validation(database_url, run_dir):
    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir), worker=False) as st:
            stub = st.stub
            lb = await create_lb(stub, address="127.0.6.1")
            http = await _listener(stub, lb.meta.id)
            tcp = await _listener(stub, lb.meta.id, port=81, protocol="TCP")
            pool = await _pool(stub, lb.meta.id)
            other_lb = await create_lb(stub, name="lb2", address="127.0.6.2")
            foreign = await _pool(stub, other_lb.meta.id)

            a = await _policy(stub, http.meta.id, "a")
            b = await _policy(stub, http.meta.id, "b")
            c = await _policy(stub, http.meta.id, "c", position=1)  # inserting shifts the others
            assert await _order(stub, http.meta.id) == [("c", 1), ("a", 2), ("b", 3)]
            assert c.meta.provisioning_status == PENDING_CREATE
            assert not c.HasField("redirect_http_code")
            far = await _policy(stub, http.meta.id, "d", position=99)  # past the end: last
            assert far.position == 4

            version = await _version(stub, lb.meta.id)
            bad = [
                (dict(listener_id=tcp.meta.id), "listener_id"),
                (dict(action="REDIRECT_TO_POOL"), "redirect_pool_id"),
                (
                    dict(action="REDIRECT_TO_POOL", redirect_pool_id=foreign.meta.id),
                    "redirect_pool_id",
                ),
                (dict(action="REDIRECT_TO_URL"), "redirect_url"),
                (dict(action="REDIRECT_TO_URL", redirect_url="not a url"), "redirect_url"),
                (dict(action="REDIRECT_PREFIX"), "redirect_prefix"),
                (
                    dict(action="REDIRECT_TO_URL", redirect_url="http://x", redirect_http_code=304),
                    "redirect_http_code",
                ),
                (dict(action="DROP"), "action"),
            ]
            for fields, field in bad:
                listener_id = fields.pop("listener_id", http.meta.id)
                code, got_field = await _error(_policy(stub, listener_id, "bad", **fields))
                assert (code, got_field) == (grpc.StatusCode.INVALID_ARGUMENT, field), fields
            assert await _version(stub, lb.meta.id) == version  # nothing written
            assert _count(database_url, "l7policy") == 4

            to_pool = await _policy(
                stub, http.meta.id, "e", action="REDIRECT_TO_POOL", redirect_pool_id=pool.meta.id
            )
            assert not to_pool.HasField("redirect_http_code")
            url = await _policy(
                stub, http.meta.id, "f", action="REDIRECT_TO_URL", redirect_url="https://x/"
            )
            assert url.redirect_http_code == 302

            # Moving a policy keeps positions contiguous; changing the target infers the action.
            moved = g.L7Policy(
                meta=g.ResourceMeta(id=url.meta.id, name="f2"),
                position=1,
                redirect_prefix="https://y",
                redirect_http_code=308,
            )
            req = pb.UpdateL7PolicyRequest(
                scope=ALICE,
                l7policy=moved,
                update_mask=FieldMask(
                    paths=["position", "meta.name", "redirect_prefix", "redirect_http_code"]
                ),
            )
            upd = (await stub.UpdateL7Policy(req)).l7policy
            assert (upd.action, upd.redirect_prefix, upd.redirect_url) == (
                "REDIRECT_PREFIX",
                "https://y",
                "",
            )
            assert upd.redirect_http_code == 308
            assert await _order(stub, http.meta.id) == [
                ("f2", 1),
                ("c", 2),
                ("a", 3),
                ("b", 4),
                ("d", 5),
                ("e", 6),
            ]
            await stub.DeleteL7Policy(pb.DeleteL7PolicyRequest(scope=ALICE, id=a.meta.id))
            alive = [p for p in await _order(stub, http.meta.id) if p[0] != "a"]
            assert [pos for _, pos in alive] == [1, 2, 3, 4, 5]

            # A pool an L7 policy redirects to cannot be deleted.
            code, _ = await _error(
                stub.DeletePool(pb.DeletePoolRequest(scope=ALICE, id=pool.meta.id))
            )
            assert code == grpc.StatusCode.ALREADY_EXISTS or code == grpc.StatusCode.ABORTED

            # The graph carries the listener's policies in position order with their rules.
            rule = g.L7Rule(
                meta=g.ResourceMeta(admin_state_up=True),
                l7policy_id=b.meta.id,
                type="PATH",
                compare_type="STARTS_WITH",
                value="/api",
            )
            await stub.CreateL7Rule(pb.CreateL7RuleRequest(scope=ALICE, l7rule=rule))
            got = await stub.GetLoadBalancer(pb.GetLoadBalancerRequest(scope=ALICE, id=lb.meta.id))
            listener = next(li for li in got.loadbalancer.listeners if li.meta.id == http.meta.id)
            names = [p.meta.name for p in listener.l7policies]
            assert names[:2] == ["f2", "c"] and "a" in names  # PENDING_DELETE still shown here
            assert [
                r.value for p in listener.l7policies if p.meta.id == b.meta.id for r in p.rules
            ] == ["/api"]
            tree = await stub.GetLoadBalancerStatusTree(
                pb.GetLoadBalancerStatusTreeRequest(scope=ALICE, id=lb.meta.id)
            )
            http_status = next(li for li in tree.tree.listeners if li.listener.id == http.meta.id)
            assert [p.pool.id for p in http_status.pools] == [pool.meta.id]  # a redirect pool

    import asyncio

    asyncio.run(scenario())


def test_l7_rule_crud_and_octavia_validation(database_url, run_dir):
    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir), worker=False) as st:
            stub = st.stub
            lb = await create_lb(stub, address="127.0.6.3")
            http = await _listener(stub, lb.meta.id)
            policy = await _policy(stub, http.meta.id, "p")

            async def create(**fields):
                msg = g.L7Rule(
                    meta=g.ResourceMeta(admin_state_up=True), l7policy_id=policy.meta.id, **fields
                )
                return (
                    await stub.CreateL7Rule(pb.CreateL7RuleRequest(scope=ALICE, l7rule=msg))
                ).l7rule

            ok = [
                dict(type="HOST_NAME", compare_type="EQUAL_TO", value="www.example.com"),
                dict(type="HEADER", compare_type="REGEX", key="X-Env", value="^prod.*$"),
                dict(
                    type="COOKIE", compare_type="EQUAL_TO", key="session", value="abc", invert=True
                ),
                dict(type="FILE_TYPE", compare_type="EQUAL_TO", value="jpg"),
                dict(type="SSL_CONN_HAS_CERT", compare_type="EQUAL_TO", value="True"),
                dict(type="SSL_VERIFY_RESULT", compare_type="EQUAL_TO", value="0"),
                dict(type="SSL_DN_FIELD", compare_type="EQUAL_TO", key="CN", value="client"),
            ]
            created = [await create(**fields) for fields in ok]
            assert created[2].invert and created[2].key == "session"
            version = await _version(stub, lb.meta.id)
            bad = [
                (dict(type="HEADER", compare_type="EQUAL_TO", value="v"), "key"),
                (dict(type="COOKIE", compare_type="EQUAL_TO", value="v"), "key"),
                (dict(type="PATH", compare_type="LIKE", value="/a"), "compare_type"),
                (dict(type="QUERY", compare_type="EQUAL_TO", value="/a"), "type"),
                (dict(type="PATH", compare_type="REGEX", value="(unclosed"), "value"),
                (dict(type="FILE_TYPE", compare_type="CONTAINS", value="jpg"), "compare_type"),
                (dict(type="SSL_CONN_HAS_CERT", compare_type="EQUAL_TO", value="False"), "value"),
                (
                    dict(type="SSL_CONN_HAS_CERT", compare_type="EQUAL_TO", key="k", value="True"),
                    "key",
                ),
                (dict(type="SSL_VERIFY_RESULT", compare_type="EQUAL_TO", value="-1"), "value"),
                (dict(type="SSL_DN_FIELD", compare_type="EQUAL_TO", key="1bad", value="x"), "key"),
                (dict(type="PATH", compare_type="EQUAL_TO", value="/a b"), "value"),
            ]
            for fields, field in bad:
                code, got_field = await _error(create(**fields))
                assert (code, got_field) == (grpc.StatusCode.INVALID_ARGUMENT, field), fields
            assert await _version(stub, lb.meta.id) == version

            host = created[0]
            req = pb.UpdateL7RuleRequest(
                scope=ALICE,
                l7rule=g.L7Rule(
                    meta=g.ResourceMeta(id=host.meta.id),
                    l7policy_id=policy.meta.id,
                    compare_type="ENDS_WITH",
                    value=".example.org",
                ),
                update_mask=FieldMask(paths=["compare_type", "value"]),
            )
            upd = (await stub.UpdateL7Rule(req)).l7rule
            assert (upd.type, upd.compare_type, upd.value) == (
                "HOST_NAME",
                "ENDS_WITH",
                ".example.org",
            )
            bad_update = pb.UpdateL7RuleRequest(
                scope=ALICE,
                l7rule=g.L7Rule(meta=g.ResourceMeta(id=host.meta.id), type="HEADER"),
                update_mask=FieldMask(paths=["type"]),
            )
            assert (await _error(stub.UpdateL7Rule(bad_update)))[1] == "key"
            got = await stub.GetL7Rule(
                pb.GetL7RuleRequest(scope=ALICE, l7policy_id=policy.meta.id, id=host.meta.id)
            )
            assert got.l7rule.type == "HOST_NAME"
            await stub.DeleteL7Rule(
                pb.DeleteL7RuleRequest(scope=ALICE, l7policy_id=policy.meta.id, id=host.meta.id)
            )
            listed = await stub.ListL7Rules(
                pb.ListL7RulesRequest(scope=ALICE, l7policy_id=policy.meta.id)
            )
            assert {r.meta.id: r.meta.provisioning_status for r in listed.l7rules}[
                host.meta.id
            ] == PENDING_DELETE
            # Deleting the listener takes its policies and rules with it.
            await stub.DeleteListener(pb.DeleteListenerRequest(scope=ALICE, id=http.meta.id))
            got = await stub.GetL7Policy(pb.GetL7PolicyRequest(scope=ALICE, id=policy.meta.id))
            assert got.l7policy.meta.provisioning_status == PENDING_DELETE
            assert all(r.meta.provisioning_status == PENDING_DELETE for r in got.l7policy.rules)

    import asyncio

    asyncio.run(scenario())


def test_batch_update_members(database_url, run_dir):
    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir), worker=False) as st:
            stub = st.stub
            lb = await create_lb(stub, address="127.0.6.4")
            pool = await _pool(stub, lb.meta.id)

            def member(address, port=80, weight=1, **extra):
                return g.Member(
                    meta=g.ResourceMeta(admin_state_up=True, name=address),
                    address=address,
                    protocol_port=port,
                    weight=weight,
                    **extra,
                )

            async def batch(members, additive_only=False):
                await stub.BatchUpdateMembers(
                    pb.BatchUpdateMembersRequest(
                        scope=ALICE,
                        pool_id=pool.meta.id,
                        members=members,
                        additive_only=additive_only,
                    )
                )

            async def state():
                got = await stub.ListMembers(
                    pb.ListMembersRequest(scope=ALICE, pool_id=pool.meta.id)
                )
                return {
                    (m.address, m.protocol_port): (
                        m.weight,
                        m.meta.provisioning_status,
                        m.vnic_type,
                    )
                    for m in got.members
                }

            await batch([member("10.0.0.1"), member("10.0.0.2", vnic_type="direct")])
            v1 = await _version(stub, lb.meta.id)
            assert await state() == {
                ("10.0.0.1", 80): (1, PENDING_CREATE, "normal"),
                ("10.0.0.2", 80): (1, PENDING_CREATE, "direct"),
            }
            # Replace: .1 updated, .2 deleted, .3 created; one version bump.
            await batch([member("10.0.0.1", weight=5), member("10.0.0.3")])
            assert await _version(stub, lb.meta.id) == v1 + 1
            got = await state()
            assert got[("10.0.0.1", 80)][:2] == (5, PENDING_CREATE)  # not yet created: stays
            assert got[("10.0.0.2", 80)][1] == PENDING_DELETE
            assert got[("10.0.0.3", 80)][1] == PENDING_CREATE
            # additive_only: nothing is deleted.
            await batch([member("10.0.0.4")], additive_only=True)
            got = await state()
            assert got[("10.0.0.1", 80)][1] != PENDING_DELETE
            assert got[("10.0.0.4", 80)][1] == PENDING_CREATE
            # Invalid anywhere: nothing written.
            before, version = await state(), await _version(stub, lb.meta.id)
            for members, field in (
                ([member("10.0.0.9"), member("10.0.0.8", weight=999)], "members[1].weight"),
                ([member("10.0.0.9"), member("10.0.0.9")], "members[1].address"),
                ([member("10.0.0.9", port=0)], "members[0].protocol_port"),
                ([member("10.0.0.9", vnic_type="weird")], "members[0].vnic_type"),
            ):
                code, got_field = await _error(batch(members))
                assert (code, got_field) == (grpc.StatusCode.INVALID_ARGUMENT, field)
            assert await state() == before and await _version(stub, lb.meta.id) == version

    import asyncio

    asyncio.run(scenario())


async def _certificate_refs(stub) -> dict[str, str]:
    ca = make_ca()
    out = {}
    for name in ("ref-default", "ref-a", "ref-b", "p-cert", "ref-ca", "p-ca", "ref-crl", "p-crl"):
        if name.endswith("crl"):
            parts = {"crl_pem": make_crl(ca)}
        elif name.endswith("ca"):
            parts = {"certificate_pem": ca.cert_pem}
        else:
            leaf = make_leaf(ca, f"{name}.example.com")
            parts = {"certificate_pem": leaf.cert_pem, "private_key_pem": leaf.key_pem}
        req = pb.CreateCertificateRequest(scope=ALICE, name=name, **parts)
        out[name] = (await stub.CreateCertificate(req)).certificate.ref
    return out


def test_new_fields_round_trip(database_url, run_dir):
    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir), worker=False) as st:
            stub = st.stub
            lb_msg = g.LoadBalancer(
                meta=g.ResourceMeta(name="tls", admin_state_up=True),
                vip=g.Vip(
                    address="127.0.6.5",
                    subnet_id=(await create_lb(stub, name="x", address="127.0.6.6")).vip.subnet_id,
                ),
                vip_vnic_type="direct",
                vip_sg_ids=["sg-1", "sg-2"],
                additional_vips=[g.AdditionalVip(subnet_id="sub-2", ip_address="10.9.9.9")],
            )
            lb = (
                await stub.CreateLoadBalancer(
                    pb.CreateLoadBalancerRequest(scope=ALICE, loadbalancer=lb_msg)
                )
            ).loadbalancer
            assert lb.vip_vnic_type == "direct" and list(lb.vip_sg_ids) == ["sg-1", "sg-2"]
            assert [(v.subnet_id, v.ip_address) for v in lb.additional_vips] == [
                ("sub-2", "10.9.9.9")
            ]

            # Certificate references must name stored certificates of the project.
            refs = await _certificate_refs(stub)
            tls = dict(
                default_tls_container_ref=refs["ref-default"],
                sni_container_refs=[refs["ref-a"], refs["ref-b"]],
                client_authentication="MANDATORY",
                client_ca_tls_container_ref=refs["ref-ca"],
                client_crl_container_ref=refs["ref-crl"],
                tls_versions=["TLSv1.2", "TLSv1.3"],
                tls_ciphers="ECDHE-RSA-AES128-GCM-SHA256",
                alpn_protocols=["h2", "http/1.1"],
                hsts_max_age=31536000,
                hsts_include_subdomains=True,
                hsts_preload=True,
            )
            listener = await _listener(
                stub, lb.meta.id, port=443, protocol="TERMINATED_HTTPS", **tls
            )
            got = (
                await stub.GetListener(pb.GetListenerRequest(scope=ALICE, id=listener.meta.id))
            ).listener
            for name, value in tls.items():
                assert (
                    list(getattr(got, name)) if isinstance(value, list) else getattr(got, name)
                ) == value, name

            # Each TLS field can be updated through the mask.
            upd = g.Listener(
                meta=g.ResourceMeta(id=listener.meta.id),
                client_authentication="OPTIONAL",
                tls_versions=["TLSv1.3"],
                hsts_max_age=0,
                sni_container_refs=[],
            )
            req = pb.UpdateListenerRequest(
                scope=ALICE,
                listener=upd,
                update_mask=FieldMask(
                    paths=[
                        "client_authentication",
                        "tls_versions",
                        "hsts_max_age",
                        "sni_container_refs",
                    ]
                ),
            )
            out = (await stub.UpdateListener(req)).listener
            assert out.client_authentication == "OPTIONAL" and list(out.tls_versions) == ["TLSv1.3"]
            assert (
                out.HasField("hsts_max_age")
                and out.hsts_max_age == 0
                and not out.sni_container_refs
            )
            # Clearing the CA while client auth is on is refused.
            req = pb.UpdateListenerRequest(
                scope=ALICE,
                listener=g.Listener(meta=g.ResourceMeta(id=listener.meta.id)),
                update_mask=FieldMask(paths=["client_ca_tls_container_ref"]),
            )
            assert (await _error(stub.UpdateListener(req)))[1] == "client_ca_tls_container_ref"

            # TLS rules on create.
            for protocol, extra, field in (
                ("TERMINATED_HTTPS", {}, "default_tls_container_ref"),
                ("HTTP", {"default_tls_container_ref": "r"}, "default_tls_container_ref"),
                ("HTTP", {"hsts_max_age": 5}, "hsts_max_age"),
                (
                    "TERMINATED_HTTPS",
                    {"default_tls_container_ref": "r", "tls_versions": ["TLSv9"]},
                    "tls_versions",
                ),
                (
                    "TERMINATED_HTTPS",
                    {"default_tls_container_ref": "r", "client_authentication": "MANDATORY"},
                    "client_ca_tls_container_ref",
                ),
                (
                    "TERMINATED_HTTPS",
                    {"default_tls_container_ref": "r", "hsts_preload": True},
                    "hsts_max_age",
                ),
            ):
                code, got_field = await _error(_listener(stub, lb.meta.id, 8443, protocol, **extra))
                assert (code, got_field) == (grpc.StatusCode.INVALID_ARGUMENT, field), extra

            pool_tls = dict(
                tls_enabled=True,
                tls_container_ref=refs["p-cert"],
                ca_tls_container_ref=refs["p-ca"],
                crl_container_ref=refs["p-crl"],
                tls_versions=["TLSv1.2"],
                tls_ciphers="HIGH",
                alpn_protocols=["http/1.1"],
            )
            msg = g.Pool(
                meta=g.ResourceMeta(admin_state_up=True),
                loadbalancer_id=lb.meta.id,
                protocol="HTTP",
                lb_algorithm="ROUND_ROBIN",
                **pool_tls,
            )
            pool = (await stub.CreatePool(pb.CreatePoolRequest(scope=ALICE, pool=msg))).pool
            got = (await stub.GetPool(pb.GetPoolRequest(scope=ALICE, id=pool.meta.id))).pool
            for name, value in pool_tls.items():
                assert (
                    list(getattr(got, name)) if isinstance(value, list) else getattr(got, name)
                ) == value, name
            req = pb.UpdatePoolRequest(
                scope=ALICE,
                pool=g.Pool(
                    meta=g.ResourceMeta(id=pool.meta.id), tls_enabled=False, tls_ciphers=""
                ),
                update_mask=FieldMask(paths=["tls_enabled", "tls_ciphers"]),
            )
            out = (await stub.UpdatePool(req)).pool
            assert not out.tls_enabled and out.tls_ciphers == ""
            req = pb.UpdatePoolRequest(
                scope=ALICE,
                pool=g.Pool(meta=g.ResourceMeta(id=pool.meta.id)),
                update_mask=FieldMask(paths=["ca_tls_container_ref"]),
            )
            assert (await _error(stub.UpdatePool(req)))[1] == "crl_container_ref"

            # A PROMETHEUS listener takes no pool.
            code, field = await _error(
                _listener(stub, lb.meta.id, 9100, "PROMETHEUS", default_pool_id=pool.meta.id)
            )
            assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "default_pool_id")

            lb_upd = pb.UpdateLoadBalancerRequest(
                scope=ALICE,
                loadbalancer=g.LoadBalancer(
                    meta=g.ResourceMeta(id=lb.meta.id), vip_sg_ids=["sg-3"]
                ),
                update_mask=FieldMask(paths=["vip_sg_ids"]),
            )
            assert list((await stub.UpdateLoadBalancer(lb_upd)).loadbalancer.vip_sg_ids) == ["sg-3"]

    import asyncio

    asyncio.run(scenario())
