"""Spare amphorae: an amphora may serve no load balancer (status READY, a ready spare in the pool
housekeeping keeps filled), so its load_balancer_id may be NULL.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("amphora", "load_balancer_id", existing_type=sa.String(36), nullable=True)
    # Housekeeping counts and allocation picks ready spares of one backend.
    op.create_index(
        "ix_amphora_spares",
        "amphora",
        ["backend_type", "status"],
        postgresql_where=sa.text("load_balancer_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_amphora_spares", table_name="amphora")
    op.execute("DELETE FROM amphora WHERE load_balancer_id IS NULL")
    op.alter_column("amphora", "load_balancer_id", existing_type=sa.String(36), nullable=False)
