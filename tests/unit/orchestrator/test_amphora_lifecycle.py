"""The amphora lifecycle (domain/amphora_lifecycle.py)."""

from __future__ import annotations

import pytest

from services.common.errors import Precondition
from services.orchestrator.domain import amphora_lifecycle as life


@pytest.mark.parametrize(
    ("current", "new"),
    [
        ("BOOTING", "ALLOCATED"),
        ("BOOTING", "READY"),
        ("BOOTING", "ERROR"),
        ("READY", "BOOTING"),
        ("READY", "PENDING_DELETE"),
        ("ALLOCATED", "ALLOCATED"),
        ("ERROR", "ALLOCATED"),
        ("ERROR", "PENDING_DELETE"),
    ],
)
def test_the_moves_the_service_makes(current, new):
    assert life.move(current, new) == new


@pytest.mark.parametrize(
    ("current", "new"),
    [
        ("PENDING_DELETE", "ALLOCATED"),  # a removed amphora never serves again
        ("PENDING_DELETE", "ERROR"),
        ("ALLOCATED", "READY"),  # a serving amphora is no spare
        ("ALLOCATED", "BOOTING"),
        ("ERROR", "READY"),
        ("READY", "READY"),
        ("DELETED", "ALLOCATED"),  # not a status this service writes
        ("BOOTING", "SOMETHING"),
    ],
)
def test_moves_the_lifecycle_does_not_have(current, new):
    assert not life.can_move(current, new)
    with pytest.raises(Precondition, match=f"from {current} to {new}"):
        life.move(current, new)


def test_sources_of_a_status_are_the_statuses_that_move_to_it():
    assert set(life.sources_of("ALLOCATED")) == {"BOOTING", "ALLOCATED", "ERROR"}
    assert set(life.sources_of("BOOTING")) == {"READY"}
    assert life.sources_of("PENDING_DELETE") and "PENDING_DELETE" not in life.sources_of(
        "PENDING_DELETE"
    )


def test_only_broken_or_spare_amphorae_are_deletable():
    assert set(life.DELETABLE) == {"ERROR", "READY"}
    assert all(life.can_move(s, "PENDING_DELETE") for s in life.DELETABLE)
