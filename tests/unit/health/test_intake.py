"""The intake with per-amphora keys: what is accepted, what is dropped and counted, and the
transitional setting for agents that still sign with the master key."""

from __future__ import annotations

import pytest

from services.health.config import Settings
from services.health.domain.amphora_keys import AmphoraKeys, derive_amphora_key
from services.health.domain.batch import PendingBeats
from services.health.domain.drops import DropRecorder
from services.health.domain.envelope import KeyRing, seal
from services.health.domain.intake import HeartbeatIntake
from services.health.domain.replay import ReplayGuard
from tests.unit.health.builders import heartbeat

MASTER = bytes(range(32))
NOW = 1_000_000.0


def _intake(accept_master_key: bool = False) -> tuple[HeartbeatIntake, list[str]]:
    accepted: list[str] = []
    intake = HeartbeatIntake(
        keyring=lambda: KeyRing(keys={"k1": MASTER}, signing_key_id="k1"),
        replay=ReplayGuard(30.0),
        pending=PendingBeats(),
        drops=DropRecorder(),
        on_accepted=lambda hb: accepted.append(hb.amphora_id),
        wall_clock=lambda: NOW,
        monotonic_clock=lambda: 0.0,
        amphora_keys=AmphoraKeys(),
        accept_master_key=accept_master_key,
    )
    return intake, accepted


def test_each_amphora_is_accepted_with_its_own_key_only():
    intake, accepted = _intake()
    key_a = derive_amphora_key(MASTER, "amp-a")
    assert intake.receive(seal(heartbeat(amphora_id="amp-a"), "k1", key_a), "src")
    assert intake.receive(seal(heartbeat(amphora_id="amp-b"), "k1", key_a), "src") is None
    assert intake.receive(seal(heartbeat(amphora_id="amp-c"), "k1", MASTER), "src") is None
    assert accepted == ["amp-a"]
    counts = intake._drops.counts
    assert (counts.bad_hmac, counts.master_key, counts.total()) == (1, 1, 2)


def test_master_key_accepted_and_counted_only_when_asked():
    intake, accepted = _intake(accept_master_key=True)
    assert intake.receive(seal(heartbeat(amphora_id="amp-old"), "k1", MASTER), "src")
    key_b = derive_amphora_key(MASTER, "amp-b")
    assert intake.receive(seal(heartbeat(amphora_id="amp-b"), "k1", key_b), "src")
    assert accepted == ["amp-old", "amp-b"]
    assert (intake.accepted, intake.master_signed) == (2, 1)
    # Another amphora's key is still refused.
    assert intake.receive(seal(heartbeat(amphora_id="amp-c", sequence=2), "k1", key_b), "s") is None


def _env(**extra: str) -> dict[str, str]:
    return {"DATABASE_URL": "postgresql://db/health", **extra}


@pytest.mark.parametrize(
    ("value", "expected"), [(None, False), ("", False), ("0", False), ("true", True), ("1", True)]
)
def test_accept_master_key_setting(value, expected):
    env = _env() if value is None else _env(LBAAS_HEALTH_ACCEPT_MASTER_KEY=value)
    assert Settings.from_env(env).accept_master_key is expected


def test_accept_master_key_setting_refuses_nonsense():
    with pytest.raises(ValueError, match="LBAAS_HEALTH_ACCEPT_MASTER_KEY"):
        Settings.from_env(_env(LBAAS_HEALTH_ACCEPT_MASTER_KEY="maybe"))
