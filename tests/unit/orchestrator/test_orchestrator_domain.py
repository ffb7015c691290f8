"""Pure rules of the orchestrator: status transitions, version folding, protocol rules, masks."""

from __future__ import annotations

import pytest
from lbaas.common.v1 import graph_pb2 as g

from services.common.errors import InvalidInput
from services.orchestrator.codec import decode
from services.orchestrator.config import Settings, sqlalchemy_url
from services.orchestrator.domain import rules, status


def test_update_folds_into_pending_create_and_refuses_deleted_objects():
    assert status.after_update(status.PENDING_CREATE) == status.PENDING_CREATE
    assert status.after_update(status.ACTIVE) == status.PENDING_UPDATE
    assert status.after_update(status.ERROR) == status.PENDING_UPDATE
    with pytest.raises(ValueError):
        status.after_update(status.PENDING_DELETE)


def test_success_and_failure_transitions():
    assert status.after_success(status.PENDING_CREATE) == status.ACTIVE
    assert status.after_success(status.PENDING_UPDATE) == status.ACTIVE
    assert status.after_success(status.PENDING_DELETE) is None
    assert status.after_success(status.ACTIVE) == status.ACTIVE
    assert status.after_success(status.ERROR) == status.ACTIVE
    assert status.after_failure(status.PENDING_CREATE) == status.ERROR
    assert status.after_failure(status.PENDING_UPDATE) == status.ERROR
    assert status.after_failure(status.ACTIVE) == status.ACTIVE
    assert status.after_failure(status.ERROR) == status.ERROR


def test_an_accepted_delete_survives_failed_passes_and_is_never_made_active():
    """A delete answered 204 stays wanted: failed passes leave it PENDING_DELETE (not ERROR,
    which a later success would turn ACTIVE), and the first pass that succeeds removes it."""
    current = status.PENDING_DELETE
    for _ in range(3):
        current = status.after_failure(current)
        assert current == status.PENDING_DELETE
    assert status.after_success(current) is None


def test_version_folding():
    assert status.fold(5, 5) == status.Outcome(finalize=True, requeue=False)
    assert status.fold(5, 9) == status.Outcome(finalize=False, requeue=True)
    with pytest.raises(ValueError):
        status.fold(6, 5)


def test_backoff_is_exponential_and_capped():
    assert [status.retry_delay(n, 1.0, 5.0) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]


@pytest.mark.parametrize(
    ("listener", "pool", "ok"),
    [
        ("HTTP", "HTTP", True),
        ("HTTP", "PROXYV2", True),
        ("HTTP", "TCP", False),
        ("TCP", "HTTP", True),
        ("TCP", "PROXY", True),
        ("UDP", "TCP", False),
        ("TERMINATED_HTTPS", "HTTP", True),
        ("PROMETHEUS", "HTTP", False),
    ],
)
def test_listener_pool_protocols(listener, pool, ok):
    assert rules.pool_protocol_allowed(listener, pool) is ok


def test_listeners_share_a_port_only_across_transports():
    assert rules.transport("HTTP") == rules.transport("TCP") == rules.transport("HTTPS")
    assert rules.transport("UDP") != rules.transport("TCP")


def test_update_mask_maps_paths_to_columns_and_rejects_immutable_ones():
    member = g.Member(meta=g.ResourceMeta(name="m"), weight=3, address="10.0.0.9")
    assert decode.changes(member, ["meta.name", "weight"], decode.MEMBER_PATHS) == {
        "name": "m",
        "weight": 3,
    }
    assert decode.changes(member, ["monitor_port"], decode.MEMBER_PATHS) == {"monitor_port": None}
    with pytest.raises(InvalidInput) as err:
        decode.changes(member, ["address"], decode.MEMBER_PATHS)
    assert err.value.field == "address"
    pool = g.Pool(session_persistence=g.SessionPersistence(type="SOURCE_IP"))
    assert (
        decode.changes(pool, ["session_persistence.type"], decode.POOL_PATHS)[
            "session_persistence"
        ]["type"]
        == "SOURCE_IP"
    )


def test_settings_convert_the_libpq_uri():
    url = "postgresql://postgres:@/postgres?host=/tmp/pg"
    assert sqlalchemy_url(url) == "postgresql+psycopg://postgres:@/postgres?host=/tmp/pg"
    settings = Settings.from_env({"DATABASE_URL": url, "LBAAS_RUN_DIR": "/tmp/r"})
    assert settings.database_url == url and settings.bind_addr == "127.0.0.1:9890"
    with pytest.raises(ValueError):
        Settings.from_env({})


@pytest.mark.parametrize(
    ("kind", "provisioning", "operating", "admin_up", "unreached", "expected"),
    [
        # New objects go ONLINE, or OFFLINE when disabled.
        ("listener", "PENDING_CREATE", "OFFLINE", True, False, "ONLINE"),
        ("listener", "PENDING_CREATE", "OFFLINE", False, False, "OFFLINE"),
        # A pool no listener reaches is in no config: OFFLINE (Octavia).
        ("pool", "PENDING_CREATE", "OFFLINE", True, True, "OFFLINE"),
        ("pool", "PENDING_CREATE", "OFFLINE", True, False, "ONLINE"),
        # An update leaves what the heartbeats said.
        ("pool", "PENDING_UPDATE", "DEGRADED", True, False, "DEGRADED"),
        ("listener", "PENDING_UPDATE", "OFFLINE", True, False, "OFFLINE"),
        # Monitors, L7 policies and rules follow admin_state_up on every applied change.
        ("healthmonitor", "PENDING_UPDATE", "OFFLINE", True, False, "ONLINE"),
        ("healthmonitor", "PENDING_UPDATE", "ONLINE", False, False, "OFFLINE"),
        ("l7policy", "PENDING_CREATE", "OFFLINE", False, False, "OFFLINE"),
        ("l7rule", "PENDING_UPDATE", "OFFLINE", True, False, "ONLINE"),
        # Settled objects are not touched.
        ("healthmonitor", "ACTIVE", "OFFLINE", True, False, "OFFLINE"),
    ],
)
def test_operating_status_when_a_change_is_applied(
    kind, provisioning, operating, admin_up, unreached, expected
):
    from services.orchestrator.domain import status

    got = status.operating_after_success(
        kind, provisioning, operating, admin_up, unreached=unreached
    )
    assert got == expected


def test_a_new_members_operating_status():
    from services.orchestrator.service_layer.members import initial_member_status

    assert initial_member_status(None, has_monitor=False) == "NO_MONITOR"
    assert initial_member_status(None, has_monitor=True) == "OFFLINE"
    # A disabled member is OFFLINE from the start (and stays so: the health service says the
    # same), not NO_MONITOR until the first heartbeat (Octavia's API tests compare the two).
    assert initial_member_status(None, has_monitor=False, admin_up=False) == "OFFLINE"
