"""API performance: the default list order served by an index, VIP ports found by device, and
a sequence that hands out loopback VIP addresses without a global lock.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Used by adapters.network_loopback: nextval() gives the next candidate address (no lock,
# never rolled back, so concurrent creates never pick the same one).
VIP_SEQUENCE = "vip_address_seq"


def upgrade() -> None:
    op.create_index("ix_load_balancer_created_at_id", "load_balancer", ["created_at", "id"])
    op.create_index("ix_vip_port_device_id", "vip_port", ["device_id"])
    op.execute(f"CREATE SEQUENCE IF NOT EXISTS {VIP_SEQUENCE} MINVALUE 0 START 0 CYCLE")


def downgrade() -> None:
    op.execute(f"DROP SEQUENCE IF EXISTS {VIP_SEQUENCE}")
    op.drop_index("ix_vip_port_device_id", table_name="vip_port")
    op.drop_index("ix_load_balancer_created_at_id", table_name="load_balancer")
