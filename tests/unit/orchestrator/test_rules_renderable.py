"""The orchestrator's rules refuse (400, naming the field) what Octavia refuses and what no renderer
can write into a config, so that no accepted value puts a load balancer in ERROR later
(tests/integration/test_hostile_strings.py finds such values through the whole system).

Each rule has its cases, and a property: whatever the rule accepts, the renderers' own filters
(services/renderer/domain/filters.py) accept too."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.common.errors import InvalidInput
from services.orchestrator.domain import rules
from services.renderer.domain import filters

# Characters that config lines and URLs give meanings to, and some that are simply odd.
ODD = "aZ09-_.~:/?#[]@!$&'()*+,;=%{}|^`<>\\\"' \t\n\x00é"
PROPERTY = settings(max_examples=300, derandomize=True, database=None, deadline=None)


def _accepted(check, value: str) -> bool:
    try:
        check(value, "f")
    except InvalidInput:
        return False
    return True


# -- redirect_url / redirect_prefix ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com",
        "https://example.com/",
        "https://example.com:8443/a/b?c=d&e=%20f#frag",
        "https://192.0.2.1/moved?from=$old",
        "https://www.example.com/a;b=c/(x)*+,!~@:",
        "http://a",
    ],
)
def test_redirect_url_accepts(url: str) -> None:
    assert rules.redirect_url_problem(url, "redirect_url") is None


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.com/", "not http(s)"),
        ("//example.com/", "no scheme"),
        ("https://", "no host"),
        # Octavia takes these; no renderer can write them.
        ("HTTPS://example.com/", "upper-case scheme"),
        ("https://user@example.com/", "user info"),
        ("https://[2001:db8::1]/", "IPv6 literal"),
        ("https://exa$mple.com/", "sub-delimiter in the host"),
        ("https://example.com;evil/", "sub-delimiter in the host"),
        ("https://example.com/x{evil}", "brace (Octavia's parser lets it through)"),
        ("https://example.com/a|b", "pipe"),
        # Octavia refuses these too.
        ("https://example.com/a[b]", "bracket in the path"),
        ("https://example.com/a#b#c", "second '#'"),
        ("https://example.com/%zz", "'%' not followed by two hex digits"),
        ("https://example.com:99999/", "port out of range"),
        ("https://example.com/a b", "space"),
        ("https://example.com/a'b", "quote"),
        ("https://example.com/a\\b", "backslash"),
        ("https://example.com/\r\nX-Evil: 1", "line break"),
    ],
)
def test_redirect_url_refuses(url: str, why: str) -> None:
    problem = rules.redirect_url_problem(url, "redirect_prefix")
    assert problem is not None, why
    assert problem[0] == "redirect_prefix" and "redirect_prefix" in problem[1]


@PROPERTY
@given(st.sampled_from(["http://", "https://", "https://example.com", "https://example.com/"]),
       st.text(alphabet=ODD, max_size=12))  # fmt: skip
def test_an_accepted_redirect_url_renders(start: str, rest: str) -> None:
    url = start + rest
    if rules.redirect_url_problem(url, "redirect_url") is None:
        assert _accepted(filters.redirect_url, url), url


# -- L7 rules -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("HEADER", "EQUAL_TO", "X-Key_1.a", "v"), None),
        (("COOKIE", "EQUAL_TO", "session_id", "abc"), None),
        # RFC 7230 token characters Octavia takes in names; sample fetches and nginx variables
        # cannot carry them.
        (("HEADER", "EQUAL_TO", "X!Key", "v"), "key"),
        (("HEADER", "EQUAL_TO", "X$Key", "v"), "key"),
        (("COOKIE", "EQUAL_TO", "c#1", "v"), "key"),
        (("COOKIE", "EQUAL_TO", "c~1", "v"), "key"),
        (("HEADER", "EQUAL_TO", "X" * 256, "v"), "key"),
        # Literal values: printable ASCII without spaces, quotes or backslashes.
        (("HEADER", "EQUAL_TO", "X-Key", '"quoted value"'), "value"),
        (("HEADER", "EQUAL_TO", "X-Key", "a\\b"), "value"),
        (("PATH", "STARTS_WITH", "", "/é"), "value"),
        (("HOST_NAME", "EQUAL_TO", "", "a" * 256), "value"),
        (("FILE_TYPE", "EQUAL_TO", "", "j" * 254), None),
        (("FILE_TYPE", "EQUAL_TO", "", "j" * 255), "value"),
        # Regular expressions: printable ASCII without spaces or quotes; backslashes are fine.
        (("PATH", "REGEX", "", "^/a\\x20b\\d+$"), None),
        (("PATH", "REGEX", "", "^/é$"), "value"),
        (("PATH", "REGEX", "", "^/a b$"), "value"),
        (("HEADER", "REGEX", "X-Key", "a'b"), "value"),
        # Distinguished-name fields: attribute names have no '-'; Octavia's rule otherwise.
        (("SSL_DN_FIELD", "EQUAL_TO", "emailAddress", "a@example.com"), None),
        (("SSL_DN_FIELD", "EQUAL_TO", "X-Y", "v"), "key"),
        (("SSL_DN_FIELD", "EQUAL_TO", "A" * 65, "v"), "key"),
        (("SSL_DN_FIELD", "EQUAL_TO", "1CN", "v"), "key"),
        (("SSL_DN_FIELD", "EQUAL_TO", "CN", "a b"), "value"),
        (("SSL_DN_FIELD", "REGEX", "CN", "^a\\d$"), None),
        # Verify results: ASCII digits, an int32.
        (("SSL_VERIFY_RESULT", "EQUAL_TO", "", "2147483647"), None),
        (("SSL_VERIFY_RESULT", "EQUAL_TO", "", "2147483648"), "value"),
        (("SSL_VERIFY_RESULT", "EQUAL_TO", "", "١"), "value"),
    ],
)
def test_l7rule_problem_holds_values_to_what_renders(args, field) -> None:
    problem = rules.l7rule_problem(*args)
    assert (problem[0] if problem else None) == field, problem


@PROPERTY
@given(st.text(alphabet=ODD, min_size=1, max_size=8))
def test_an_accepted_rule_renders(text: str) -> None:
    if rules.l7rule_problem("COOKIE", "EQUAL_TO", text, "v") is None:
        assert _accepted(filters.http_name, text), text
    if rules.l7rule_problem("HEADER", "CONTAINS", "X-Key", text) is None:
        assert _accepted(filters.match_pattern, text), text
    if rules.l7rule_problem("PATH", "REGEX", "", text) is None:
        assert _accepted(filters.regex, text), text
    if rules.l7rule_problem("SSL_DN_FIELD", "EQUAL_TO", text, "v") is None:
        assert _accepted(filters.dn_field, text), text
    if rules.l7rule_problem("SSL_DN_FIELD", "ENDS_WITH", "CN", text) is None:
        assert _accepted(filters.match_pattern, text), text


# -- TLS ciphers, allowed CIDRs -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ciphers", "ok"),
    [
        ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE+AESGCM:!aNULL:@STRENGTH", True),
        ("HIGH,!MD5", True),
        ("TLS_AES_128_GCM_SHA256", True),
        ("ECDHE-ECDSA-AES128-GCM-SHA256::AES128-SHA", False),
        (":AES128-SHA", False),
        ("AES128-SHA,", False),
        ("A" * 129, False),
        ("HIGH:" * 410 + "HIGH", False),  # 2054 characters
        # Octavia takes these; haproxy and nginx refuse to start on a list selecting no cipher.
        ("BOGUS", False),
        ("!aNULL", False),
        ("BOGUS:TLS_AES_128_GCM_SHA256", False),  # haproxy's `ciphers BOGUS` still fails
        ("BOGUS:HIGH", True),  # OpenSSL skips a name it does not know when others match
    ],
)
def test_tls_ciphers(ciphers: str, ok: bool) -> None:
    for owner in ({"protocol": "TERMINATED_HTTPS", "default_tls_container_ref": "r"}, {}):
        check = rules.listener_tls_problem if owner else rules.pool_tls_problem
        problem = check({**owner, "tls_ciphers": ciphers})
        assert (problem is None) is ok, problem
        assert ok or problem[0] == "tls_ciphers"


CIPHER_PARTS = ["HIGH", "AES128-SHA", "!aNULL", "@STRENGTH", "", "A" * 129, "BOGUS", "x y",
                "$x", "TLS_AES_128_GCM_SHA256", "ECDHE+AESGCM"]  # fmt: skip


@PROPERTY
@given(st.lists(st.sampled_from(CIPHER_PARTS), min_size=1, max_size=4),
       st.sampled_from([":", ",", "::", " "]))  # fmt: skip
def test_accepted_ciphers_render(parts: list[str], separator: str) -> None:
    ciphers = separator.join(parts)  # "" is no cipher string at all: the default
    if ciphers and rules.pool_tls_problem({"tls_ciphers": ciphers}) is None:
        assert _accepted(filters.openssl_ciphers, ciphers), ciphers
        assert _accepted(filters.cipher_list, ciphers), ciphers


def test_allowed_cidrs_refuse_an_ipv6_zone() -> None:
    problem = rules.allowed_cidrs_problem(["fe80::%eth0/64"], ["2001:db8::10"])
    assert problem is not None and "zone" in problem
    # Also before any VIP is known, and whatever the VIPs' version.
    assert rules.allowed_cidrs_problem(["fe80::%1/64"], []) is not None
    assert rules.allowed_cidrs_problem(["fe80::/64"], ["2001:db8::10"]) is None


# -- health monitors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"url_path": "/health?x=$1", "expected_codes": "200-204"}, None),
        ({"expected_codes": "200,202,599", "domain_name": "www.example.com."}, None),
        ({"url_path": "/" + "a" * 2047}, None),
        ({"url_path": "health"}, "url_path"),
        ({"url_path": "/a#b"}, "url_path"),
        ({"url_path": "/%zz"}, "url_path"),
        ({"url_path": "/" + "a" * 2048}, "url_path"),
        # Octavia takes these (its pattern is three digits); no renderer does, no answer matches.
        ({"expected_codes": "600"}, "expected_codes"),
        ({"expected_codes": "099"}, "expected_codes"),
        ({"expected_codes": "300-200"}, "expected_codes"),
        ({"expected_codes": "200,"}, "expected_codes"),
        ({"domain_name": "_srv.example.com"}, "domain_name"),
        ({"domain_name": "-a.example.com"}, "domain_name"),
        ({"domain_name": ("a" * 63 + ".") * 3 + "a" * 62}, "domain_name"),  # 254 characters
        ({"domain_name": ("a" * 63 + ".") * 3 + "a" * 61}, None),  # 253
    ],
)
def test_health_monitor_problem(values, field) -> None:
    problem = rules.health_monitor_problem(values)
    assert (problem[0] if problem else None) == field, problem


@PROPERTY
@given(st.text(alphabet=ODD + "0123456789", min_size=1, max_size=8))
def test_an_accepted_monitor_renders(text: str) -> None:
    if rules.health_monitor_problem({"url_path": "/" + text}) is None:
        assert _accepted(filters.url_path, "/" + text), text
    if rules.health_monitor_problem({"expected_codes": text}) is None:
        assert _accepted(filters.expected_codes, text), text
    if rules.health_monitor_problem({"domain_name": text}) is None:
        assert _accepted(filters.hostname, text), text
