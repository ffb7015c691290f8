"""Operator resources: quotas, flavor profiles, flavors, availability zone profiles and zones;
amphora columns for operator views and failover.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_RESOURCES = ("load_balancer", "listener", "pool", "health_monitor", "member", "l7policy", "l7rule")


def _created_at() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def upgrade() -> None:
    op.create_table(
        "quota",
        sa.Column("project_id", sa.String(255), primary_key=True),
        *(sa.Column(name, sa.Integer) for name in _RESOURCES),
    )
    op.create_table(
        "flavor_profile",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("provider_name", sa.String(255), nullable=False),
        sa.Column("flavor_data", sa.Text, nullable=False),
        _created_at(),
    )
    op.create_table(
        "flavor",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("description", sa.String(255), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column(
            "flavor_profile_id",
            sa.String(36),
            sa.ForeignKey("flavor_profile.id", ondelete="RESTRICT"),
            nullable=False,
            index=True,
        ),
        _created_at(),
    )
    op.create_table(
        "availability_zone_profile",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("provider_name", sa.String(255), nullable=False),
        sa.Column("availability_zone_data", sa.Text, nullable=False),
        _created_at(),
    )
    op.create_table(
        "availability_zone",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("description", sa.String(255), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column(
            "availability_zone_profile_id",
            sa.String(36),
            sa.ForeignKey("availability_zone_profile.id", ondelete="RESTRICT"),
            nullable=False,
            index=True,
        ),
        _created_at(),
    )
    op.add_column("amphora", sa.Column("cert_expiration", sa.DateTime(timezone=True)))
    op.add_column(
        "amphora", sa.Column("lb_network_ip", sa.String(64), nullable=False, server_default="")
    )
    op.add_column("amphora", sa.Column("status_reason", sa.Text, nullable=False, server_default=""))
    op.add_column(
        "amphora",
        sa.Column("failover_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "amphora",
        sa.Column("configure_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    for column in (
        "configure_requested",
        "failover_requested",
        "status_reason",
        "lb_network_ip",
        "cert_expiration",
    ):
        op.drop_column("amphora", column)
    for table in ("availability_zone", "availability_zone_profile", "flavor", "flavor_profile"):
        op.drop_table(table)
    op.drop_table("quota")
