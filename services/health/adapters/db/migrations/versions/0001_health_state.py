"""Durable health state: the last heartbeat of every amphora and cumulative listener statistics.

Revision ID: h0001
Revises:
"""

from alembic import op

revision = "h0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # last_seen is the database's clock when the heartbeat was written, so every replica
    # measures silence against one clock; sent_at, boot_id and sequence order heartbeats (a
    # row only moves forward, so two replicas writing the same heartbeat write it once).
    op.execute(
        """
        CREATE TABLE amphora_health (
            amphora_id varchar(64) PRIMARY KEY,
            last_seen timestamptz NOT NULL,
            sent_at timestamptz NOT NULL,
            boot_id varchar(64) NOT NULL,
            sequence bigint NOT NULL,
            applied_config_hash varchar(64) NOT NULL DEFAULT '',
            applied_renderer_version varchar(64) NOT NULL DEFAULT '',
            -- the heartbeat as received (lbaas.health.v1.Heartbeat): listener, pool and member
            -- statuses and the raw counters
            report bytea NOT NULL DEFAULT ''
        )
        """
    )
    op.execute("CREATE INDEX ix_amphora_health_last_seen ON amphora_health (last_seen)")
    # Counters are cumulative: a new engine run (another counters_generation, e.g. the worker
    # pid haproxy changes at each reload, or a new boot id: a restarted agent and engine), or a
    # reported counter that goes down, adds the new value to the total instead of the
    # difference. Rows stay when the amphora is replaced, so a listener's
    # totals survive failovers; active_connections is the last reported gauge.
    op.execute(
        """
        CREATE TABLE listener_statistics (
            listener_id varchar(64) NOT NULL,
            amphora_id varchar(64) NOT NULL,
            boot_id varchar(64) NOT NULL,
            generation bigint NOT NULL DEFAULT 0,
            active_connections bigint NOT NULL DEFAULT 0,
            bytes_in bigint NOT NULL DEFAULT 0,
            bytes_out bigint NOT NULL DEFAULT 0,
            request_errors bigint NOT NULL DEFAULT 0,
            total_connections bigint NOT NULL DEFAULT 0,
            reported_bytes_in bigint NOT NULL DEFAULT 0,
            reported_bytes_out bigint NOT NULL DEFAULT 0,
            reported_request_errors bigint NOT NULL DEFAULT 0,
            reported_total_connections bigint NOT NULL DEFAULT 0,
            updated_at timestamptz NOT NULL,
            PRIMARY KEY (listener_id, amphora_id)
        )
        """
    )
    op.execute("CREATE INDEX ix_listener_statistics_amphora ON listener_statistics (amphora_id)")


def downgrade() -> None:
    op.execute("DROP TABLE listener_statistics")
    op.execute("DROP TABLE amphora_health")
