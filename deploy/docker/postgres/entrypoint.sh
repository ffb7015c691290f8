#!/bin/sh
# Makes the cluster in PGDATA on the first start (POSTGRES_USER, a superuser with
# POSTGRES_PASSWORD; database POSTGRES_DB), then runs the command: `postgres [options]`.
set -eu
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
if [ "${1:-}" = postgres ]; then
    shift
    set -- postgres -D "$PGDATA" "$@"
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        if [ -z "${POSTGRES_PASSWORD:-}" ]; then
            echo "POSTGRES_PASSWORD is required to make the cluster" >&2
            exit 1
        fi
        pwfile=$(mktemp)
        printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
        initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
            --auth-local=trust --auth-host=scram-sha-256 >/dev/null
        rm -f "$pwfile"
        echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
        echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
        if [ "$POSTGRES_DB" != postgres ]; then
            # A server on the socket only: the health check (TCP) stays red until the real one.
            pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
            psql -v ON_ERROR_STOP=1 -q -U "$POSTGRES_USER" -d postgres \
                -c "CREATE DATABASE \"$POSTGRES_DB\""
            pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
        fi
        echo "made the cluster in $PGDATA (database $POSTGRES_DB)" >&2
    fi
fi
exec "$@"
