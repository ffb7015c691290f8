"""TLS 1.3 cipher suites in an nginx listener's tls_ciphers: OpenSSL configures them apart from
the older ciphers (ssl_conf_command Ciphersuites), as haproxy's renderer does with ciphersuites.
Before, they went into ssl_ciphers, which ignores them, and a list of nothing else made nginx
refuse the config (found by tests/integration/test_hostile_strings.py)."""

from __future__ import annotations

import pytest

from services.common.errors import Precondition
from services.renderer.backends.nginx.renderer import NginxRenderer
from tests.unit.renderer import nginx_samples as samples


def _tls_lines(ciphers: str, nginx_version: str = "1.22.1") -> list[str]:
    lb = samples.tls_lb()
    lb.listeners[0].tls_ciphers = ciphers
    rendering = NginxRenderer().render(
        lb, samples.target(nginx_version=nginx_version), samples.tls_materials()
    )
    text = rendering.files[0].content.decode()
    lines = {line.strip() for line in text.splitlines()}
    return sorted(x for x in lines if x.startswith(("ssl_ciphers", "ssl_conf_command")))


def test_tls13_suites_go_to_ciphersuites() -> None:
    assert _tls_lines(
        "ECDHE-ECDSA-AES128-GCM-SHA256:TLS_AES_256_GCM_SHA384,TLS_AES_128_GCM_SHA256"
    ) == [
        'ssl_ciphers "ECDHE-ECDSA-AES128-GCM-SHA256";',
        'ssl_conf_command Ciphersuites "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256";',
    ]


def test_only_tls13_suites_leave_ssl_ciphers_at_its_default() -> None:
    assert _tls_lines("TLS_AES_128_GCM_SHA256") == [
        'ssl_conf_command Ciphersuites "TLS_AES_128_GCM_SHA256";'
    ]


def test_older_ciphers_alone_render_as_before() -> None:
    assert _tls_lines("ECDHE+AESGCM:!aNULL") == ['ssl_ciphers "ECDHE+AESGCM:!aNULL";']


def test_an_nginx_without_ssl_conf_command_keeps_openssls_suites() -> None:
    """Before 1.19.4 the TLS 1.3 names are left out, as OpenSSL ignored them in ssl_ciphers; a
    list of nothing else cannot be rendered there (nginx would not start on it either)."""
    mixed = "ECDHE-ECDSA-AES128-GCM-SHA256:TLS_AES_128_GCM_SHA256"
    assert _tls_lines(mixed, nginx_version="1.18.0") == [
        'ssl_ciphers "ECDHE-ECDSA-AES128-GCM-SHA256";'
    ]
    with pytest.raises(Precondition, match="ssl_conf_command requires nginx >= 1.19.4"):
        _tls_lines("TLS_AES_128_GCM_SHA256", nginx_version="1.18.0")
    assert _tls_lines("HIGH", nginx_version="1.18.0") == ['ssl_ciphers "HIGH";']
