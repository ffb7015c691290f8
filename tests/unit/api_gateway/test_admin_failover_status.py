"""GET /v2/octavia/failover_status: the health service's failover gate as an operator sees it
(admin only; 503 with an Octavia fault when the health service cannot be reached)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from google.protobuf.timestamp_pb2 import Timestamp
from lbaas.health.v1 import health_service_pb2 as hpb

from services.api_gateway.adapters.health import MemoryHealth
from services.api_gateway.bootstrap import bootstrap
from services.api_gateway.config import Settings
from services.api_gateway.policy import FORBIDDEN
from services.common.errors import Unavailable
from tests.support.memory_admin import MemoryAdmin

ADMIN = "admin-token"
USER = "user-token"
PATH = "/v2/octavia/failover_status"
FIELDS = {
    "breaker", "stale_amphorae", "amphorae", "threshold_count", "threshold_percent",
    "stale_after_seconds", "breaker_opened_at", "hold_off_until", "reason",
    "failovers_requested", "failovers_claimed",
}  # fmt: skip


@pytest.fixture
def health() -> MemoryHealth:
    return MemoryHealth()


@pytest.fixture
def api(health, tokens_file):
    app = bootstrap(Settings(tokens_file=tokens_file), orchestrator=MemoryAdmin(), health=health)
    with TestClient(app, headers={"X-Auth-Token": ADMIN}) as c:
        yield c


def test_admin_sees_an_open_breaker(api, health):
    health.failover = hpb.FailoverStatus(
        breaker_open=True,
        stale_amphorae=300,
        amphorae=1000,
        threshold_count=3,
        threshold_percent=20.0,
        reason="circuit breaker open: 300 of 1000 amphorae are stale (thresholds ...)",
        stale_after_seconds=1.5,
        failovers_requested=4,
        failovers_claimed=1,
        breaker_opened_at=Timestamp(seconds=1_700_000_000, nanos=250_000_000),
        hold_off_until=Timestamp(seconds=1_700_000_002),
    )
    for prefix in ("/v2", "/v2.0"):
        r = api.get(prefix + PATH.removeprefix("/v2"))
        assert r.status_code == 200, r.text
        assert r.json() == {
            "failover_status": {
                "breaker": "OPEN",
                "stale_amphorae": 300,
                "amphorae": 1000,
                "threshold_count": 3,
                "threshold_percent": 20.0,
                "stale_after_seconds": 1.5,
                "breaker_opened_at": "2023-11-14T22:13:20",
                "hold_off_until": "2023-11-14T22:13:22",
                "reason": "circuit breaker open: 300 of 1000 amphorae are stale (thresholds ...)",
                "failovers_requested": 4,
                "failovers_claimed": 1,
            }
        }


def test_a_closed_breaker_without_hold_off_has_null_times_and_no_reason(api, health):
    health.failover = hpb.FailoverStatus(
        amphorae=1000, threshold_count=3, threshold_percent=20.0, stale_after_seconds=1.5
    )
    body = api.get(PATH).json()["failover_status"]
    assert set(body) == FIELDS
    assert body["breaker"] == "CLOSED" and body["stale_amphorae"] == 0
    assert body["breaker_opened_at"] is None and body["hold_off_until"] is None
    assert body["reason"] == ""
    assert api.get(f"{PATH}?fields=breaker").json() == {"failover_status": {"breaker": "CLOSED"}}


def test_members_may_not_see_it(api, health):
    health.error = AssertionError("the health service must not be asked")  # type: ignore[assignment]
    r = api.get(PATH, headers={"X-Auth-Token": USER})
    assert r.status_code == 403
    assert r.json() == {"faultcode": "Client", "faultstring": FORBIDDEN, "debuginfo": None}
    assert api.get(PATH, headers={"X-Auth-Token": "nope"}).status_code == 401


def test_health_service_unavailable_is_a_503_fault(api, health):
    health.error = Unavailable(
        "The service is temporarily unavailable; retry later.",
        operator_detail="failed to connect to all addresses; 127.0.0.1:9892: Connection refused",
    )
    r = api.get(PATH)
    assert r.status_code == 503
    assert r.json() == {
        "faultcode": "Server",
        "faultstring": "The service is temporarily unavailable; retry later.",
        "debuginfo": None,
    }


def test_openapi_describes_it(api):
    op = api.get("/openapi.json").json()["paths"][PATH]["get"]
    ok = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ok.endswith("/FailoverStatusRoot")
    assert op["responses"]["503"]["description"] == "The health service is unavailable."
