"""The load-balancer model: load balancers, listeners, pools, members, monitors, amphorae, VIPs.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _resource_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("project_id", sa.String(255), nullable=False, index=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.String(255), nullable=False),
        sa.Column("admin_state_up", sa.Boolean, nullable=False),
        sa.Column("provisioning_status", sa.String(16), nullable=False),
        sa.Column("operating_status", sa.String(16), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
        sa.Column("tags", ARRAY(sa.Text), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "load_balancer",
        *_resource_columns(),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("flavor_id", sa.String(36), nullable=False),
        sa.Column("availability_zone", sa.String(255), nullable=False),
        sa.Column("topology", sa.String(16), nullable=False),
        sa.Column("vip_address", sa.String(64), nullable=False),
        sa.Column("vip_port_id", sa.String(36), nullable=False),
        sa.Column("vip_subnet_id", sa.String(36), nullable=False),
        sa.Column("vip_network_id", sa.String(36), nullable=False),
        sa.Column("vip_qos_policy_id", sa.String(36), nullable=False),
        sa.Column("desired_version", sa.BigInteger, nullable=False),
        sa.Column("applied_version", sa.BigInteger, nullable=False),
        sa.Column("status_reason", sa.Text),
        sa.Column("reconcile_failures", sa.Integer, nullable=False),
    )
    op.create_table(
        "pool",
        *_resource_columns(),
        sa.Column(
            "load_balancer_id",
            sa.String(36),
            sa.ForeignKey("load_balancer.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("protocol", sa.String(32), nullable=False),
        sa.Column("lb_algorithm", sa.String(32), nullable=False),
        sa.Column("session_persistence", JSONB),
    )
    op.create_table(
        "listener",
        *_resource_columns(),
        sa.Column(
            "load_balancer_id",
            sa.String(36),
            sa.ForeignKey("load_balancer.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("protocol", sa.String(32), nullable=False),
        sa.Column("protocol_port", sa.Integer, nullable=False),
        sa.Column("connection_limit", sa.Integer, nullable=False),
        sa.Column(
            "default_pool_id",
            sa.String(36),
            sa.ForeignKey("pool.id", ondelete="SET NULL", name="fk_listener_default_pool"),
        ),
        sa.Column("timeout_client_data", sa.Integer, nullable=False),
        sa.Column("timeout_member_connect", sa.Integer, nullable=False),
        sa.Column("timeout_member_data", sa.Integer, nullable=False),
        sa.Column("timeout_tcp_inspect", sa.Integer, nullable=False),
        sa.Column("insert_headers", JSONB, nullable=False),
        sa.Column("allowed_cidrs", ARRAY(sa.Text), nullable=False),
    )
    op.create_table(
        "member",
        *_resource_columns(),
        sa.Column(
            "pool_id",
            sa.String(36),
            sa.ForeignKey("pool.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("protocol_port", sa.Integer, nullable=False),
        sa.Column("weight", sa.Integer, nullable=False),
        sa.Column("backup", sa.Boolean, nullable=False),
        sa.Column("subnet_id", sa.String(36), nullable=False),
        sa.Column("monitor_address", sa.String(64), nullable=False),
        sa.Column("monitor_port", sa.Integer),
    )
    op.create_table(
        "health_monitor",
        *_resource_columns(),
        sa.Column(
            "pool_id",
            sa.String(36),
            sa.ForeignKey("pool.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("delay", sa.Integer, nullable=False),
        sa.Column("timeout", sa.Integer, nullable=False),
        sa.Column("max_retries", sa.Integer, nullable=False),
        sa.Column("max_retries_down", sa.Integer, nullable=False),
        sa.Column("http_method", sa.String(16), nullable=False),
        sa.Column("url_path", sa.String(2048), nullable=False),
        sa.Column("expected_codes", sa.String(64), nullable=False),
        sa.Column("http_version", sa.String(8), nullable=False),
        sa.Column("domain_name", sa.String(255), nullable=False),
    )
    op.create_table(
        "amphora",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "load_balancer_id",
            sa.String(36),
            sa.ForeignKey("load_balancer.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("backend_type", sa.String(16), nullable=False),
        sa.Column("compute_id", sa.String(255), nullable=False),
        sa.Column("agent_address", sa.String(255), nullable=False),
        sa.Column("agent_port", sa.Integer),
        sa.Column("vip_address", sa.String(64), nullable=False),
        sa.Column("applied_config_hash", sa.String(64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "vip_port",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.Column("network_id", sa.String(36), nullable=False),
        sa.Column("subnet_id", sa.String(36), nullable=False),
        sa.Column("ip_address", sa.String(64), nullable=False),
        sa.Column("device_id", sa.String(255), nullable=False),
        sa.Column("device_owner", sa.String(255), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint("network_id", "ip_address", name="uq_vip_port_address"),
    )


def downgrade() -> None:
    for table in ("vip_port", "amphora", "health_monitor", "member", "listener", "pool"):
        op.drop_table(table)
    op.drop_table("load_balancer")
