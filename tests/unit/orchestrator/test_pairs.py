"""ACTIVE_STANDBY roles and VRRP targets (domain/pairs.py), and the netns subnet layout."""

import pytest

from services.orchestrator.config import Settings, advert_interval, netns_cidr
from services.orchestrator.domain import pairs
from services.orchestrator.domain.netns_layout import NetnsLayout


def test_single_is_standalone():
    members = [pairs.Member("a", "MASTER", True)]
    assert pairs.assign_roles("SINGLE", members) == {"a": "STANDALONE"}


def test_fresh_pair_oldest_is_master():
    members = [pairs.Member("a", "STANDALONE", False), pairs.Member("b", "STANDALONE", False)]
    assert pairs.assign_roles("ACTIVE_STANDBY", members) == {"a": "MASTER", "b": "BACKUP"}


def test_serving_pair_keeps_its_roles():
    members = [pairs.Member("a", "BACKUP", True), pairs.Member("b", "MASTER", True)]
    assert pairs.assign_roles("ACTIVE_STANDBY", members) == {"a": "BACKUP", "b": "MASTER"}


def test_survivor_of_a_dead_master_becomes_master_and_the_new_half_backup():
    # The MASTER died (doomed, not passed): the BACKUP holds the VIP now; the replacement is new.
    members = [pairs.Member("backup", "BACKUP", True), pairs.Member("new", "STANDALONE", False)]
    assert pairs.assign_roles("ACTIVE_STANDBY", members) == {"backup": "MASTER", "new": "BACKUP"}


def test_replacing_the_backup_never_moves_the_vip():
    members = [pairs.Member("new", "STANDALONE", False), pairs.Member("m", "MASTER", True)]
    assert pairs.assign_roles("ACTIVE_STANDBY", members) == {"m": "MASTER", "new": "BACKUP"}


def test_vrrp_targets_point_each_half_at_the_other():
    halves = [pairs.Half("a", "MASTER", "10.0.2.1"), pairs.Half("b", "BACKUP", "10.0.2.2")]
    out = pairs.vrrp_targets(halves, 0.1, 16)
    assert out["a"].peer_address == "10.0.2.2" and out["a"].own_address == "10.0.2.1"
    assert out["b"].peer_amphora_id == "a" and out["b"].role == "BACKUP"
    assert out["a"].priority > out["b"].priority
    assert out["a"].advert_interval_ms == 100 and out["a"].vip_prefix_length == 16
    assert pairs.vrrp_targets(halves[:1], 0.1, 16) == {"a": None}


def test_layout_splits_the_subnet():
    layout = NetnsLayout("10.240.0.0/16")
    assert layout.host_address == "10.240.0.1"
    assert (layout.vips.first, layout.vips.last) == ("10.240.1.1", "10.240.127.254")
    assert (layout.amphorae.first, layout.amphorae.last) == ("10.240.128.1", "10.240.255.254")
    assert "10.240.5.0" not in layout.vips and "10.240.0.1" not in layout.vips
    assert layout.vips.at(layout.vips.index_of("10.240.9.77")) == "10.240.9.77"
    assert layout.vips.at(layout.vips.size) == layout.vips.first  # wraps


@pytest.mark.parametrize("bad", ["10.0.0.0/24", "127.0.0.0/16", "fd00::/64", "10.0.0.1/16"])
def test_layout_refuses_unusable_subnets(bad):
    with pytest.raises(ValueError, match="LBAAS_NETNS_CIDR"):
        netns_cidr(bad)


@pytest.mark.parametrize("raw", ["0", "0.005", "0.123", "50", "x"])
def test_advert_interval_is_checked(raw):
    with pytest.raises(ValueError, match="LBAAS_VRRP_ADVERT_INTERVAL"):
        advert_interval(raw)


def test_netns_settings_are_read():
    s = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://u@/db",
            "LBAAS_COMPUTE_DRIVER": "netns",
            "LBAAS_NETNS_CIDR": "10.250.0.0/20",
            "LBAAS_VRRP_ADVERT_INTERVAL": "0.25",
        }
    )
    assert (s.compute_driver, s.netns_cidr, s.vrrp_advert_interval) == (
        "netns",
        "10.250.0.0/20",
        0.25,
    )
