"""services/common/metrics.py without a server: where a process serves /metrics."""

from __future__ import annotations

import pytest

from services.common import metrics


@pytest.mark.parametrize("value", [None, "", "0", "off", " OFF ", "none"])
def test_metrics_are_off_unless_given_an_address(value):
    env = {} if value is None else {"LBAAS_METRICS_ADDR": value}
    assert metrics.address(env) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.0.0.0:9100", ("0.0.0.0", 9100)),
        ("127.0.0.1:0", ("127.0.0.1", 0)),
        ("[::1]:9100", ("::1", 9100)),
        (":9100", ("0.0.0.0", 9100)),
    ],
)
def test_addresses(value, expected):
    assert metrics.address({"LBAAS_METRICS_ADDR": value}) == value
    assert metrics.split_address(value) == expected


@pytest.mark.parametrize("value", ["9100", "host:", "host:port", "host:70000"])
def test_a_malformed_address_is_refused(value):
    with pytest.raises(ValueError, match="LBAAS_METRICS_ADDR"):
        metrics.split_address(value)


def test_nothing_is_measured_per_call_in_a_process_that_serves_no_metrics():
    # The suite's process never calls serve(): servers get no metrics interceptor.
    assert not metrics.enabled()
    assert metrics.server_interceptors() == []
