"""The create path's two hand-made writes against real PostgreSQL: a row written with one INSERT
outside the ORM's unit of work (models.insert_new) and a reconcile job deferred through
procrastinate's job manager (ProcrastinateReconcileQueue)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, select, text

from services.orchestrator.adapters.db.engine import UnitOfWork, make_engine, upgrade_to_head
from services.orchestrator.adapters.db.models import LoadBalancerRow, insert_new
from services.orchestrator.adapters.job_queue import RECONCILE_TASK, ProcrastinateReconcileQueue
from services.orchestrator.config import sqlalchemy_url


@pytest.fixture
def uow(database_url):
    engine = make_engine(sqlalchemy_url(database_url), pool_size=2)
    upgrade_to_head(engine)
    try:
        yield UnitOfWork(engine)
    finally:
        engine.dispose()


def _lb(lb_id: str, **given) -> LoadBalancerRow:
    fields = dict(id=lb_id, project_id="p1", provisioning_status="PENDING_CREATE")
    fields["operating_status"] = "OFFLINE"
    return LoadBalancerRow(**{**fields, **given})


def test_insert_new_writes_given_values_and_python_defaults_and_sets_them_on_the_row(uow):
    row = _lb("11111111-1111-1111-1111-111111111111", name="web", tags=["a", "b"])
    before = dt.datetime.now(dt.UTC)
    with uow.transaction() as session:
        insert_new(session, [row])
        assert row not in session  # written, but not tracked: no flush writes it again
    # Defaults were filled in on the row itself, as the database holds them.
    assert row.provider == "amphora" and row.topology == "SINGLE" and row.backend == "haproxy"
    assert row.vip_sg_ids == [] and row.additional_vips == [] and row.desired_version == 1
    assert row.created_at >= before and row.updated_at is None and row.status_reason is None
    with uow.transaction() as session:
        stored = session.get(LoadBalancerRow, row.id)
        for column in LoadBalancerRow.__table__.columns:
            assert getattr(stored, column.key) == getattr(row, column.key), column.key


def test_insert_new_rolls_back_with_its_transaction(uow):
    row = _lb("22222222-2222-2222-2222-222222222222")
    with pytest.raises(RuntimeError), uow.transaction() as session:
        insert_new(session, [row])
        raise RuntimeError("abort")
    with uow.transaction() as session:
        assert session.get(LoadBalancerRow, row.id) is None


def _jobs(session) -> list:
    return list(
        session.execute(
            text(
                "SELECT task_name, lock, queueing_lock, args, scheduled_at, status"
                " FROM procrastinate_jobs ORDER BY id"
            )
        )
    )


def test_the_queue_defers_one_waiting_job_per_load_balancer_in_the_callers_transaction(uow):
    queue = ProcrastinateReconcileQueue()
    try:
        lb_id = "33333333-3333-3333-3333-333333333333"
        with uow.transaction() as session:
            insert_new(session, [_lb(lb_id)])
            assert queue.enqueue(session, lb_id, created=True)
            # A second one while the first waits is dropped, and the transaction goes on.
            assert not queue.enqueue(session, lb_id)
            assert session.scalar(select(LoadBalancerRow.id)) == lb_id
        with uow.transaction() as session:
            [job] = _jobs(session)
        assert job.task_name == RECONCILE_TASK and job.status == "todo"
        assert job.lock == job.queueing_lock == lb_id
        assert job.args == {"loadbalancer_id": lb_id} and job.scheduled_at is None

        # A job deferred in a transaction that rolls back is gone with it.
        other = "44444444-4444-4444-4444-444444444444"
        with pytest.raises(RuntimeError), uow.transaction() as session:
            queue.enqueue(session, other)
            raise RuntimeError("abort")
        with uow.transaction() as session:
            assert len(_jobs(session)) == 1
    finally:
        queue.close()


def test_a_delayed_job_is_scheduled_that_far_ahead(uow):
    queue = ProcrastinateReconcileQueue()
    try:
        lb_id = "55555555-5555-5555-5555-555555555555"
        before = dt.datetime.now(dt.UTC)
        with uow.transaction() as session:
            assert queue.enqueue(session, lb_id, delay=30.0)
        with uow.transaction() as session:
            [job] = _jobs(session)
        ahead = (job.scheduled_at - before).total_seconds()
        assert 29.0 < ahead < 40.0
    finally:
        queue.close()


def test_several_rows_and_their_jobs_are_written_with_one_statement_each(uow):
    queue = ProcrastinateReconcileQueue()
    ids = [f"6666666{i}-6666-6666-6666-666666666666" for i in range(3)]
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    try:
        with uow.transaction() as session:
            event.listen(uow.engine, "before_cursor_execute", count)
            try:
                insert_new(session, [_lb(lb_id, name=f"n{i}") for i, lb_id in enumerate(ids)])
                queue.enqueue_created(session, ids)
            finally:
                event.remove(uow.engine, "before_cursor_execute", count)
        assert len(statements) == 2
        with uow.transaction() as session:
            names = session.scalars(select(LoadBalancerRow.name).order_by(LoadBalancerRow.name))
            assert list(names) == ["n0", "n1", "n2"]
            assert sorted(job.lock for job in _jobs(session)) == sorted(ids)
    finally:
        queue.close()
