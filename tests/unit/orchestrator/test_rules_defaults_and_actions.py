"""Octavia's defaults and L7 action resolution, owned by the orchestrator's domain (the gateway
sends what the caller sent)."""

from __future__ import annotations

import pytest

from services.orchestrator.domain import rules


def test_tls_listener_defaults_fill_only_empty_fields():
    filled = rules.listener_defaults(
        {"tls_versions": ["TLSv1.3"], "tls_ciphers": ""}, "TERMINATED_HTTPS"
    )
    assert filled["tls_versions"] == ["TLSv1.3"]
    assert filled["tls_ciphers"] == rules.TLS_CIPHERS_DEFAULT
    assert filled["alpn_protocols"] == ["h2", "http/1.1", "http/1.0"]
    assert rules.listener_defaults({"tls_versions": []}, "HTTP") == {"tls_versions": []}


def test_listener_update_defaults_only_what_it_names():
    changes = {"tls_versions": []}
    assert rules.listener_defaults(changes, "TERMINATED_HTTPS", changes) == {
        "tls_versions": ["TLSv1.2", "TLSv1.3"]
    }
    # The default list is a copy: filling one listener cannot change another's.
    changes["tls_versions"].append("x")
    assert rules.LISTENER_TLS_DEFAULTS["tls_versions"] == ["TLSv1.2", "TLSv1.3"]


def test_pool_defaults_only_when_it_reencrypts():
    assert rules.pool_defaults({"tls_enabled": False, "tls_versions": []})["tls_versions"] == []
    filled = rules.pool_defaults({"tls_enabled": True, "alpn_protocols": []})
    assert filled["alpn_protocols"] == ["http/1.1", "http/1.0"]


def test_http_monitor_defaults():
    assert rules.monitor_defaults({"url_path": ""}, "HTTP")["url_path"] == "/"
    assert rules.monitor_defaults({"http_method": ""}, "TCP") == {"http_method": ""}
    update = {"expected_codes": ""}
    assert rules.monitor_defaults(update, "HTTPS", update) == {"expected_codes": "200"}


@pytest.mark.parametrize(
    ("sent", "create", "resolved"),
    [
        ({"redirect_pool_id": "p"}, True, {"action": "REDIRECT_TO_POOL", "redirect_pool_id": "p"}),
        (
            {"action": "REDIRECT_PREFIX", "redirect_prefix": "http://x"},
            True,
            {"action": "REDIRECT_PREFIX", "redirect_prefix": "http://x", "redirect_http_code": 302},
        ),
        ({"action": "REJECT", "redirect_url": "http://x"}, True, {"action": "REJECT"}),
        ({"redirect_http_code": 301}, False, {"redirect_http_code": 301}),
        ({"position": 2}, False, {}),
    ],
)
def test_action_resolution(sent, create, resolved):
    out, problem = rules.l7policy_action(sent, create=create)
    assert problem is None
    assert {k: v for k, v in out.items() if v is not None} == resolved


@pytest.mark.parametrize(
    ("sent", "field", "words"),
    [
        ({"action": "REDIRECT_TO_URL"}, "redirect_url", "must not be None"),
        ({"redirect_url": "http://x", "redirect_pool_id": "p"}, "redirect_url", "same time"),
        ({}, "action", "Mandatory"),
        ({"redirect_url": ""}, "action", "Mandatory"),
    ],
)
def test_action_problems_name_the_field(sent, field, words):
    _, problem = rules.l7policy_action(sent, create=not sent or "action" in sent)
    assert problem is not None and problem[0] == field and words in problem[1]
