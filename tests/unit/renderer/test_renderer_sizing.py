"""Target.size in both renderers: what it renders, that unset or zero renders what it did before,
and that values out of range are refused naming the field."""

from __future__ import annotations

import pytest
from lbaas.renderer.v1 import renderer_service_pb2

from services.common.errors import InvalidInput
from services.renderer.backends.haproxy.renderer import HaproxyRenderer
from services.renderer.backends.nginx.renderer import NginxRenderer
from tests.unit.renderer import nginx_samples, ping_samples
from tests.unit.renderer import renderer_samples as haproxy_samples
from tests.unit.renderer.test_haproxy_vrrp import half, vrrp

Size = renderer_service_pb2.Size


def _haproxy(size: Size | None = None, lb=None) -> str:
    target = haproxy_samples.target()
    if size is not None:
        target.size.CopyFrom(size)
    rendering = HaproxyRenderer().render(lb or haproxy_samples.full_lb(), target)
    return rendering.files[0].content.decode()


def _nginx(size: Size | None = None) -> str:
    target = nginx_samples.target()
    if size is not None:
        target.size.CopyFrom(size)
    rendering = NginxRenderer().render(nginx_samples.http_lb(), target)
    return rendering.files[0].content.decode()


def _global(text: str) -> list[str]:
    return text.split("\nglobal\n", 1)[1].split("\n\n", 1)[0].splitlines()


def _nginx_head(text: str) -> list[str]:
    """The worker lines and the events block."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("worker_processes"))
    return lines[start : start + 5]


def test_haproxy_renders_threads_and_maxconn_in_global() -> None:
    runtime = "/var/lib/lbaas/run"
    assert _global(_haproxy(Size(threads=4, max_connections=200_000))) == [
        f"    stats socket {runtime}/haproxy.sock mode 600 level admin expose-fd listeners",
        f"    server-state-file {runtime}/servers.state",
        "    user haproxy",
        "    group haproxy",
        f"    chroot {runtime}/chroot",
        "    nbthread 4",
        "    maxconn 200000",
    ]
    assert _global(_haproxy(Size(threads=2)))[5:] == ["    nbthread 2"]
    assert _global(_haproxy(Size(max_connections=10_000)))[5:] == ["    maxconn 10000"]


def test_haproxy_size_sits_beside_the_other_global_lines() -> None:
    """With a PING monitor and an ACTIVE_STANDBY half, global keeps every line it had."""
    target = half(vrrp())
    plain = HaproxyRenderer().render(ping_samples.ping_lb(), target).files[0].content.decode()
    target.size.CopyFrom(Size(threads=1, max_connections=1))
    sized = HaproxyRenderer().render(ping_samples.ping_lb(), target).files[0].content.decode()
    assert [line for line in _global(sized) if line not in _global(plain)] == [
        "    nbthread 1",
        "    maxconn 1",
    ]
    assert sized.replace("    nbthread 1\n    maxconn 1\n", "") == plain


@pytest.mark.parametrize("size", [None, Size(), Size(threads=0, max_connections=0)])
def test_unset_or_zero_size_renders_what_no_size_renders(size: Size | None) -> None:
    # The golden files (rendered without a size) pin the text itself.
    assert _haproxy(size) == _haproxy()
    assert _nginx(size) == _nginx()
    assert not [line for line in _global(_haproxy(size)) if "nbthread" in line or "maxconn" in line]
    assert _nginx_head(_nginx(size)) == [
        "worker_processes auto;",
        "",
        "events {",
        "    worker_connections 4096;",
        "}",
    ]


@pytest.mark.parametrize(
    ("size", "processes", "connections"),
    [
        # Twice the share of each worker: every proxied client also holds a member connection.
        (Size(threads=2, max_connections=50_000), "2", 50_000),
        (Size(threads=3, max_connections=10_000), "3", 6668),  # ceil(10000 / 3) = 3334
        (Size(threads=4), "4", 4096),
        # Without threads the worker count is the CPU count: each may take the whole budget.
        (Size(max_connections=10_000), "auto", 20_000),
        (Size(threads=64, max_connections=10_000_000), "64", 312_500),
        (Size(threads=1, max_connections=1), "1", 2),
    ],
)
def test_nginx_divides_max_connections_between_its_workers(size, processes, connections) -> None:
    assert _nginx_head(_nginx(size)) == [
        f"worker_processes {processes};",
        "",
        "events {",
        f"    worker_connections {connections};",
        "}",
    ]


@pytest.mark.parametrize("render", [_haproxy, _nginx], ids=["haproxy", "nginx"])
@pytest.mark.parametrize(
    ("size", "field", "high"),
    [
        (Size(threads=65), "target.size.threads", 64),
        (Size(threads=2**32 - 1), "target.size.threads", 64),
        (Size(max_connections=10_000_001), "target.size.max_connections", 10_000_000),
        (Size(threads=2, max_connections=2**32 - 1), "target.size.max_connections", 10_000_000),
    ],
)
def test_out_of_range_size_is_invalid_naming_the_field(render, size, field, high) -> None:
    with pytest.raises(InvalidInput) as err:
        render(size)
    assert err.value.field == field
    assert err.value.user_message == f"{field} must be between 1 and {high}"


@pytest.mark.parametrize("render", [_haproxy, _nginx], ids=["haproxy", "nginx"])
def test_the_bounds_themselves_are_accepted(render) -> None:
    text = render(Size(threads=64, max_connections=10_000_000))
    assert ("nbthread 64" in text) or ("worker_processes 64;" in text)
