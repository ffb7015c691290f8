"""Octavia's L7 and listener-TLS rules as pure functions (no I/O)."""

from __future__ import annotations

import pytest

from services.orchestrator.domain import rules
from services.orchestrator.service_layer import l7


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("HOST_NAME", "EQUAL_TO", "", "www.example.com"), None),
        (("HEADER", "EQUAL_TO", "", "v"), "key"),
        (("HEADER", "EQUAL_TO", "Bad Key", "v"), "key"),
        (("COOKIE", "REGEX", "c", "^a+$"), None),
        (("FILE_TYPE", "STARTS_WITH", "", "jpg"), "compare_type"),
        (("SSL_CONN_HAS_CERT", "EQUAL_TO", "", "TRUE"), None),
        (("SSL_VERIFY_RESULT", "CONTAINS", "", "1"), "compare_type"),
        (("SSL_DN_FIELD", "EQUAL_TO", "OU", ""), "value"),
        (("PATH", "REGEX", "", "[x"), "value"),
    ],
)
def test_l7rule_problem(args, field):
    problem = rules.l7rule_problem(*args)
    assert (problem[0] if problem else None) == field


def test_normalize_policy_clears_unused_fields_and_defaults_code():
    out = l7.normalize_policy(
        {"action": "REDIRECT_TO_URL", "redirect_url": "http://a", "redirect_pool_id": "p"}
    )
    assert out["redirect_pool_id"] is None and out["redirect_http_code"] == 302
    out = l7.normalize_policy(
        {"action": "REDIRECT_TO_POOL", "redirect_pool_id": "p", "redirect_http_code": 301}
    )
    assert out["redirect_http_code"] is None and out["redirect_url"] == ""


def test_place_keeps_positions_contiguous():
    class P:
        position = 0

    a, b, c = P(), P(), P()
    policies: list = []
    l7.place(policies, a, 0)
    l7.place(policies, b, 7)
    l7.place(policies, c, 1)
    assert policies == [c, a, b] and [p.position for p in policies] == [1, 2, 3]


def test_listener_tls_problem():
    assert rules.listener_tls_problem({"protocol": "TERMINATED_HTTPS"})[0] == (
        "default_tls_container_ref"
    )
    assert rules.listener_tls_problem({"protocol": "HTTP", "tls_ciphers": "HIGH"})[0] == (
        "tls_ciphers"
    )
    assert (
        rules.listener_tls_problem(
            {"protocol": "TERMINATED_HTTPS", "default_tls_container_ref": "r"}
        )
        is None
    )
