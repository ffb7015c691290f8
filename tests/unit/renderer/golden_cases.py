"""The golden cases: file name -> (graph, certificate material). Unit tests compare the rendered
haproxy.cfg with the file; integration tests run `haproxy -c` on it beside its companion files."""

from __future__ import annotations

from collections.abc import Callable

from lbaas.common.v1 import graph_pb2
from lbaas.renderer.v1 import renderer_service_pb2

from tests.unit.renderer import ping_samples, tls_samples
from tests.unit.renderer import renderer_samples as samples

Case = tuple[
    Callable[[], graph_pb2.LoadBalancer], Callable[[], list[renderer_service_pb2.TlsMaterial]]
]


def _none() -> list[renderer_service_pb2.TlsMaterial]:
    return []


CASES: dict[str, Case] = {
    "full.cfg": (samples.full_lb, _none),
    "empty.cfg": (samples.empty_lb, _none),
    "ipv6_https_admin_down.cfg": (samples.source_ip_lb, _none),
    "l7_headers_cidrs_persistence.cfg": (samples.l7_lb, _none),
    "passthrough_proxy_prometheus.cfg": (samples.passthrough_lb, _none),
    "terminated_https_sni_client_auth.cfg": (tls_samples.terminated_lb, tls_samples.materials),
    "reencrypt_monitors.cfg": (tls_samples.reencrypt_lb, tls_samples.materials),
    "ping_monitors.cfg": (ping_samples.ping_lb, _none),
}
