"""The certificate-rotation chore with a real database and the in-process worker: amphorae whose
certificate is due get a new one through their agent (same amphora, no failover); an agent
without the RPC is failed over (serving) or retired (spare); an unreachable one is left for
the next run."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

from cryptography import x509
from orch_fakes import make_settings
from orch_harness import create_lb, lb_status, orchestrator, wait_for
from sqlalchemy import text

ACTIVE = "PROVISIONING_STATUS_ACTIVE"


def test_due_certificates_are_rotated_and_old_agents_replaced(database_url, run_dir):
    # Housekeeping runs often; certificates keep the defaults (a year, renewed in the last 30
    # days), so an amphora is due only when the test moves its recorded expiration.
    settings = dataclasses.replace(make_settings(database_url, run_dir), housekeeping_interval=0.2)

    async def scenario():
        async with orchestrator(settings) as st:
            engine = st.running.orchestrator.engine

            def sql(statement: str, **params):
                with engine.begin() as conn:
                    result = conn.execute(text(statement), params)
                    return result.fetchall() if result.returns_rows else []

            def amphorae(lb_id: str):
                return sql(
                    "SELECT id, status, failover_requested, cert_expiration FROM amphora "
                    "WHERE load_balancer_id = :lb",
                    lb=lb_id,
                )

            lbs = {name: (await create_lb(st.stub, name=name)).meta.id for name in "abc"}
            for lb_id in lbs.values():
                await wait_for(lambda i=lb_id: _active(st.stub, i), what="load balancer ACTIVE")
            serving = {name: amphorae(lb_id)[0] for name, lb_id in lbs.items()}
            year = dt.datetime.now(dt.UTC) + dt.timedelta(days=300)
            assert all(a.cert_expiration > year for a in serving.values())  # recorded at start
            rotates, old_agent, unreachable = (serving[n].id for n in "abc")
            st.agent.without_rotation.update({old_agent, "spare-old"})
            st.agent.unreachable.add(unreachable)
            # Two spares (nginx ones, so the failover below does not take them from the pool).
            for spare in ("spare-new", "spare-old"):
                sql(
                    "INSERT INTO amphora (id, load_balancer_id, status, role, backend_type, "
                    "compute_id, agent_address, vip_address, applied_config_hash) VALUES "
                    "(:id, NULL, 'READY', 'STANDALONE', 'nginx', :compute, '127.0.0.1:1', "
                    "'', '')",
                    id=spare,
                    compute=f"fake-{spare}",
                )
            assert st.agent.rotations == []  # nothing was due

            # Every certificate now expires within the renewal margin (in a day).
            sql("UPDATE amphora SET cert_expiration = now() + interval '1 day'")

            def settled() -> bool:
                new_b = amphorae(lbs["b"])
                spares = dict(sql("SELECT id, status FROM amphora WHERE load_balancer_id IS NULL"))
                return (
                    rotates in st.agent.rotations
                    and "spare-new" in st.agent.rotations
                    # marked, then removed by the spare pool's own chore
                    and (
                        spares.get("spare-old") == "PENDING_DELETE"
                        or "spare-old" in st.compute.deleted
                    )
                    and [a.id for a in new_b] != [old_agent]
                    and len(new_b) == 1
                    and old_agent in st.compute.deleted
                )

            await wait_for(settled, timeout=30, what="rotation and replacements")
            await wait_for(lambda: _active(st.stub, lbs["b"]), what="failed-over lb ACTIVE")

            # Rotated in place: same amphora, no failover, the new expiration recorded, and the
            # certificate it got names it.
            (a,) = amphorae(lbs["a"])
            assert (a.id, a.status, a.failover_requested) == (rotates, "ALLOCATED", False)
            sent = x509.load_pem_x509_certificate(st.agent.certificates[rotates].cert_pem)
            assert a.cert_expiration == sent.not_valid_after_utc > year
            assert sent.subject.rfc4514_string() == f"CN={rotates}"
            assert rotates not in st.compute.deleted
            assert await lb_status(st.stub, lbs["a"]) == ACTIVE

            # The old agent's amphora was replaced by one started with a fresh certificate.
            (b,) = amphorae(lbs["b"])
            assert b.status == "ALLOCATED" and b.cert_expiration > year

            # The unreachable one is untouched: still due, tried again at every run.
            (c,) = amphorae(lbs["c"])
            assert (c.id, c.failover_requested) == (unreachable, False)
            assert c.cert_expiration < year
            assert await lb_status(st.stub, lbs["c"]) == ACTIVE

            # The spare with a new agent was rotated and stays ready; the other one is not.
            spares = dict(sql("SELECT id, status FROM amphora WHERE load_balancer_id IS NULL"))
            assert spares["spare-new"] == "READY"
            assert spares.get("spare-old") != "READY"
            assert "spare-old" not in st.agent.rotations

            # Rotated certificates are not due: later runs leave them alone.
            count = len(st.agent.rotations)
            await asyncio.sleep(1.0)
            assert len(st.agent.rotations) == count

    asyncio.run(scenario())


async def _active(stub, lb_id: str) -> bool:
    return await lb_status(stub, lb_id) == ACTIVE
