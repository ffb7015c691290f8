"""Certificates: TLS bundles, CA bundles and CRLs stored by the `local` certificate driver (and
the catalogue entry the `barbican` driver keeps for project scoping and in-use checks).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificate",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("project_id", sa.String(255), nullable=False, index=True),
        sa.Column("name", sa.String(255), nullable=False, server_default=""),
        # TLS (certificate + key [+ intermediates]), CA (one or more certificates) or CRL.
        sa.Column("type", sa.String(16), nullable=False),
        # What listeners and pools refer to: "local:<id>" or a Barbican container href.
        sa.Column("ref", sa.String(1024), nullable=False, unique=True),
        sa.Column("certificate_pem", sa.Text, nullable=False, server_default=""),
        sa.Column("intermediates_pem", sa.Text, nullable=False, server_default=""),
        # The private key, encrypted with the orchestrator's key file; never returned by the API.
        sa.Column("private_key_encrypted", sa.LargeBinary, nullable=True),
        sa.Column("crl_pem", sa.Text, nullable=False, server_default=""),
        sa.Column("hostnames", sa.Text, nullable=False, server_default="[]"),  # a JSON list
        sa.Column("subject", sa.Text, nullable=False, server_default=""),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    op.drop_table("certificate")
