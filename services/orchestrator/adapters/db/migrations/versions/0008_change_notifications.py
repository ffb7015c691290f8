"""Change notifications: every statement that writes load balancers, listeners or pools sends
NOTIFY lbaas_changes (delivered at commit, once per transaction), which invalidates the kept
answers of conditional lists in every orchestrator replica (adapters/db/changes.py). In the
database, so a write by any replica, or by hand, is seen without a round trip of its own.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = ("load_balancer", "listener", "pool")


def upgrade() -> None:
    op.execute(
        """
        CREATE OR REPLACE FUNCTION lbaas_notify_change() RETURNS trigger AS $$
        BEGIN
            PERFORM pg_notify('lbaas_changes', '');
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER lbaas_changes_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION lbaas_notify_change()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS lbaas_changes_{table} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS lbaas_notify_change()")
