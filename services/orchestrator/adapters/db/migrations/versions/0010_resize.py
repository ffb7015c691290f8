"""Resize: an amphora records the compute size it was built with (its flavor's compute_flavor;
"" for the default), and whether it is to be drained before it goes (a planned replacement:
a resize or an operator's failover).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "amphora",
        sa.Column("compute_flavor", sa.String(255), nullable=False, server_default=""),
    )
    op.add_column(
        "amphora",
        sa.Column("drain_requested", sa.Boolean(), nullable=False, server_default="false"),
    )


def downgrade() -> None:
    op.drop_column("amphora", "drain_requested")
    op.drop_column("amphora", "compute_flavor")
