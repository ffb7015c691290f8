"""Backend per load balancer (chosen from its flavor at create time) and the renderer version
each amphora's applied config came from (minor updates).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "load_balancer",
        sa.Column("backend", sa.String(16), nullable=False, server_default="haproxy"),
    )
    op.add_column(
        "amphora",
        sa.Column("applied_renderer_version", sa.String(64), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("amphora", "applied_renderer_version")
    op.drop_column("load_balancer", "backend")
