"""A job whose lock is released wakes the workers: when a reconcile job of a load balancer
leaves 'doing' (finished, failed, or deleted once done), and a later job of the same load
balancer (same procrastinate lock) waits, the workers are notified as when a job is inserted.

Why: a worker skips a job whose lock another job holds. The later job was deferred (and its
insert notified) while the earlier one ran, so without this it waited for the next polling
fetch (up to a second) although a tenant's change right after ACTIVE is the usual case (ACTIVE
is recorded just before the job finishes). The notification's channels and payload are
procrastinate's own (procrastinate_notify_queue_job_inserted_v1).

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE OR REPLACE FUNCTION lbaas_notify_lock_released() RETURNS trigger AS $$
        DECLARE
            waiting procrastinate_jobs;
            payload TEXT;
        BEGIN
            SELECT * INTO waiting FROM procrastinate_jobs
                WHERE lock = OLD.lock AND status = 'todo'
                ORDER BY priority DESC, id ASC LIMIT 1;
            IF FOUND THEN
                payload := json_build_object('type', 'job_inserted', 'job_id', waiting.id)::text;
                PERFORM pg_notify('procrastinate_queue_v1#' || waiting.queue_name, payload);
                PERFORM pg_notify('procrastinate_any_queue_v1', payload);
            END IF;
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        "CREATE TRIGGER lbaas_lock_released_on_update AFTER UPDATE OF status ON procrastinate_jobs "
        "FOR EACH ROW WHEN (OLD.status = 'doing' AND NEW.status <> 'doing' "
        "AND OLD.lock IS NOT NULL) EXECUTE FUNCTION lbaas_notify_lock_released()"
    )
    op.execute(
        "CREATE TRIGGER lbaas_lock_released_on_delete AFTER DELETE ON procrastinate_jobs "
        "FOR EACH ROW WHEN (OLD.status = 'doing' AND OLD.lock IS NOT NULL) "
        "EXECUTE FUNCTION lbaas_notify_lock_released()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS lbaas_lock_released_on_delete ON procrastinate_jobs")
    op.execute("DROP TRIGGER IF EXISTS lbaas_lock_released_on_update ON procrastinate_jobs")
    op.execute("DROP FUNCTION IF EXISTS lbaas_notify_lock_released()")
