"""L7 policies and rules; listener/pool TLS, member and VIP fields needed to round-trip the graph.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0003"
down_revision = "0002"
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


def _text_array(name: str) -> sa.Column:
    return sa.Column(name, ARRAY(sa.Text), nullable=False, server_default="{}")


def _ref(name: str) -> sa.Column:
    return sa.Column(name, sa.String(255), nullable=False, server_default="")


def upgrade() -> None:
    op.add_column(
        "load_balancer",
        sa.Column("vip_vnic_type", sa.String(64), nullable=False, server_default="normal"),
    )
    op.add_column("load_balancer", _text_array("vip_sg_ids"))
    # [{"subnet_id": ..., "ip_address": ...}] in the order given.
    op.add_column(
        "load_balancer",
        sa.Column("additional_vips", JSONB, nullable=False, server_default="[]"),
    )

    op.add_column("listener", _ref("default_tls_container_ref"))
    op.add_column("listener", _text_array("sni_container_refs"))
    op.add_column(
        "listener",
        sa.Column("client_authentication", sa.String(10), nullable=False, server_default="NONE"),
    )
    op.add_column("listener", _ref("client_ca_tls_container_ref"))
    op.add_column("listener", _ref("client_crl_container_ref"))
    op.add_column("listener", _text_array("tls_versions"))
    op.add_column(
        "listener", sa.Column("tls_ciphers", sa.String(2048), nullable=False, server_default="")
    )
    op.add_column("listener", _text_array("alpn_protocols"))
    op.add_column("listener", sa.Column("hsts_max_age", sa.Integer))
    op.add_column(
        "listener",
        sa.Column("hsts_include_subdomains", sa.Boolean, nullable=False, server_default="false"),
    )
    op.add_column(
        "listener", sa.Column("hsts_preload", sa.Boolean, nullable=False, server_default="false")
    )

    op.add_column(
        "pool", sa.Column("tls_enabled", sa.Boolean, nullable=False, server_default="false")
    )
    op.add_column("pool", _ref("tls_container_ref"))
    op.add_column("pool", _ref("ca_tls_container_ref"))
    op.add_column("pool", _ref("crl_container_ref"))
    op.add_column("pool", _text_array("tls_versions"))
    op.add_column(
        "pool", sa.Column("tls_ciphers", sa.String(2048), nullable=False, server_default="")
    )
    op.add_column("pool", _text_array("alpn_protocols"))

    op.add_column(
        "member", sa.Column("vnic_type", sa.String(64), nullable=False, server_default="normal")
    )

    op.create_table(
        "l7policy",
        *_resource_columns(),
        sa.Column(
            "listener_id",
            sa.String(36),
            sa.ForeignKey("listener.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("action", sa.String(36), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        # Deleting a pool still referenced here is refused by the service layer; SET NULL only
        # keeps a load-balancer cascade delete from tripping over the reference.
        sa.Column(
            "redirect_pool_id",
            sa.String(36),
            sa.ForeignKey("pool.id", ondelete="SET NULL", name="fk_l7policy_redirect_pool"),
            index=True,
        ),
        sa.Column("redirect_url", sa.String(2048), nullable=False),
        sa.Column("redirect_prefix", sa.String(2048), nullable=False),
        sa.Column("redirect_http_code", sa.Integer),
    )
    op.create_table(
        "l7rule",
        *_resource_columns(),
        sa.Column(
            "l7policy_id",
            sa.String(36),
            sa.ForeignKey("l7policy.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("type", sa.String(36), nullable=False),
        sa.Column("compare_type", sa.String(36), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("invert", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("l7rule")
    op.drop_table("l7policy")
    op.drop_column("member", "vnic_type")
    for column in (
        "tls_enabled",
        "tls_container_ref",
        "ca_tls_container_ref",
        "crl_container_ref",
        "tls_versions",
        "tls_ciphers",
        "alpn_protocols",
    ):
        op.drop_column("pool", column)
    for column in (
        "default_tls_container_ref",
        "sni_container_refs",
        "client_authentication",
        "client_ca_tls_container_ref",
        "client_crl_container_ref",
        "tls_versions",
        "tls_ciphers",
        "alpn_protocols",
        "hsts_max_age",
        "hsts_include_subdomains",
        "hsts_preload",
    ):
        op.drop_column("listener", column)
    for column in ("vip_vnic_type", "vip_sg_ids", "additional_vips"):
        op.drop_column("load_balancer", column)
