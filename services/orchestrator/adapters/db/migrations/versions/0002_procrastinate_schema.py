"""The procrastinate job-queue schema, in the same database so a change and its job commit together.

Revision ID: 0002
Revises: 0001

The SQL comes from the installed procrastinate (3.x) at the time this migration first runs; a later
procrastinate upgrade adds its own migration here with procrastinate's published migration SQL.
"""

from alembic import op
from procrastinate.schema import SchemaManager

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Without parameters, as the driver's own statement: the schema holds '%' characters that
    # must not be read as placeholders, and many statements (psycopg 3 takes several in one
    # execute only when no parameters are passed).
    op.get_bind().exec_driver_sql(
        SchemaManager.get_schema(), execution_options={"no_parameters": True}
    )


def downgrade() -> None:
    raise NotImplementedError("the job queue schema is not downgraded")
