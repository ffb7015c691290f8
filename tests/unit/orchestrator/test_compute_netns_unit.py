"""compute_netns without root: amphora address leases (files in a temp dir), names, the root check."""

from __future__ import annotations

import multiprocessing
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.common.errors import Precondition, Unavailable
from services.orchestrator.adapters import compute_netns
from services.orchestrator.adapters.compute_netns import (
    AddressLeases,
    NetnsComputeDriver,
    host_veth_name,
    namespace_name,
)
from services.orchestrator.domain.netns_layout import NetnsLayout

LAYOUT = NetnsLayout("10.241.0.0/22")
AMPHORAE = LAYOUT.amphorae  # 10.241.2.1 - 10.241.3.254


@pytest.fixture
def lease_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="lbaas-netns-leases-"))
    try:
        yield path / "addresses"  # created by the first claim
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_claims_are_distinct_in_range_and_name_their_holder(lease_dir):
    leases = AddressLeases(lease_dir, AMPHORAE)
    ids = [str(uuid.uuid4()) for _ in range(40)]
    claimed = {amphora_id: leases.claim(amphora_id) for amphora_id in ids}
    assert len(set(claimed.values())) == len(ids)
    for amphora_id, address in claimed.items():
        assert address in AMPHORAE
        assert not address.endswith((".0", ".255"))
        assert (lease_dir / address).read_text().strip() == amphora_id
    assert leases.holders() == {a: i for i, a in claimed.items()}
    assert [p.name for p in lease_dir.iterdir() if p.name.startswith(".")] == []  # no temp file


def test_the_same_amphora_gets_its_address_again_also_after_a_restart(lease_dir):
    amphora_id = str(uuid.uuid4())
    first = AddressLeases(lease_dir, AMPHORAE).claim(amphora_id)
    assert AddressLeases(lease_dir, AMPHORAE).claim(amphora_id) == first
    assert AddressLeases(lease_dir, AMPHORAE).lease_of(amphora_id) == first
    assert len(list(lease_dir.iterdir())) == 1


def test_release_frees_only_the_amphoras_leases(lease_dir):
    leases = AddressLeases(lease_dir, AMPHORAE)
    mine, other = str(uuid.uuid4()), str(uuid.uuid4())
    address = leases.claim(mine)
    kept = leases.claim(other)
    assert leases.release(mine) == [address]
    assert leases.lease_of(mine) is None
    assert leases.holders() == {kept: other}
    assert leases.release(mine) == []  # idempotent
    # The start index comes from the id: a freed address is the same amphora's next claim.
    assert leases.claim(mine) == address


def test_a_taken_address_is_skipped(lease_dir):
    leases = AddressLeases(lease_dir, AMPHORAE)
    amphora_id = str(uuid.uuid4())
    preferred = leases.claim(amphora_id)
    leases.release(amphora_id)
    lease_dir.joinpath(preferred).write_text("someone-else\n")
    address = leases.claim(amphora_id)
    assert address != preferred
    assert address == AMPHORAE.at(AMPHORAE.index_of(preferred) + 1)  # probes forward
    assert lease_dir.joinpath(preferred).read_text() == "someone-else\n"


def test_a_full_range_is_unavailable_and_leaves_no_file(lease_dir):
    lease_dir.mkdir(parents=True)
    for index in range(AMPHORAE.size):
        (lease_dir / AMPHORAE.at(index)).write_text(f"amphora-{index}\n")
    leases = AddressLeases(lease_dir, AMPHORAE)
    with pytest.raises(Unavailable, match="no free amphora address"):
        leases.claim(str(uuid.uuid4()))
    assert len(list(lease_dir.iterdir())) == AMPHORAE.size
    # The holder of a lease still finds it.
    assert leases.claim("amphora-7") == AMPHORAE.at(7)


def test_foreign_files_are_ignored_and_leases_of_another_range_only_released(lease_dir):
    lease_dir.mkdir(parents=True)
    (lease_dir / "README").write_text("x\n")
    (lease_dir / ".claim-1-abc").write_text("x\n")  # a temp file of a crashed claim
    (lease_dir / "10.99.0.5").write_text("old-layout\n")  # a lease made under another CIDR
    leases = AddressLeases(lease_dir, AMPHORAE)
    assert leases.holders() == {"10.99.0.5": "old-layout"}
    assert leases.lease_of("old-layout") is None  # not handed out again
    assert leases.claim("old-layout") in AMPHORAE
    assert "10.99.0.5" in leases.release("old-layout")
    assert sorted(p.name for p in lease_dir.iterdir()) == [".claim-1-abc", "README"]


def _claim_many(args: tuple[str, list[str]]) -> dict[str, str]:
    directory, ids = args
    leases = AddressLeases(Path(directory), AMPHORAE)
    return {amphora_id: leases.claim(amphora_id) for amphora_id in ids}


def test_concurrent_workers_never_share_an_address(lease_dir):
    # Ids that all hash to nearby start indexes would be the worst case; random ids in a
    # small range still collide often: 4 workers x 60 ids in 508 addresses.
    batches = [[f"w{w}-{uuid.uuid4()}" for _ in range(60)] for w in range(4)]
    with multiprocessing.get_context("fork").Pool(4) as pool:
        results = pool.map(_claim_many, [(str(lease_dir), ids) for ids in batches], chunksize=1)
    claimed = {k: v for result in results for k, v in result.items()}
    assert len(claimed) == 240
    assert len(set(claimed.values())) == 240
    assert AddressLeases(lease_dir, AMPHORAE).holders() == {a: i for i, a in claimed.items()}


def test_names():
    amphora_id = "0C2F6A4E-3b7d-4f0e-8a1c-6d5e4f3a2b1c"
    assert namespace_name(amphora_id) == "lbaas-amp-" + amphora_id
    assert host_veth_name(amphora_id) == "la-0c2f6a4e3b"
    odd = host_veth_name("amphora-one")  # not hex: a hash of the id
    assert odd.startswith("la-") and len(odd) == 13 and odd != host_veth_name("amphora-two")


def test_the_driver_refuses_to_start_without_root(monkeypatch, lease_dir):
    monkeypatch.setattr(compute_netns.os, "geteuid", lambda: 1000)
    with pytest.raises(Precondition, match="needs root"):
        NetnsComputeDriver(lease_dir, "10.241.0.1:5555", lease_dir / "keys", 1.0, layout=LAYOUT)
