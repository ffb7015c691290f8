"""Strict value filters, and hostile strings fed into every string field of the graph."""

from __future__ import annotations

import pytest

from services.common.errors import InvalidInput
from services.renderer.backends.haproxy.renderer import HaproxyRenderer
from services.renderer.domain import filters
from tests.unit.renderer import renderer_samples as samples

HOSTILE = [
    "",
    " ",
    "a b",
    "x\nbind :1",
    "/ok\n    server evil 192.0.2.66:80",
    "/ok\r\nstats socket /tmp/evil level admin",
    '"quoted"',
    "'quoted'",
    "/path#comment",
    "{{ 7*7 }}",
    "{% raw %}",
    "${HOME}",
    "/a$HOME",
    "back\\slash",
    "/a\tb",
    "/a\x00b",
    "mode tcp",
    "disabled",
]


def _listener(lb, protocol):
    return next(li for li in lb.listeners if li.protocol == protocol)


def _pool(lb, pool_id):
    return next(p for p in lb.pools if p.meta.id == pool_id)


# (name, setter, expected field suffix) for every string that could reach haproxy.cfg.
FIELDS = [
    ("loadbalancer.id", lambda lb, t, v: setattr(lb.meta, "id", v), "loadbalancer.id"),
    ("vip", lambda lb, t, v: setattr(lb.vip, "address", v), "loadbalancer.vip.address"),
    ("target.vip", lambda lb, t, v: setattr(t, "vip_address", v), "target.vip_address"),
    ("runtime_dir", lambda lb, t, v: setattr(t, "runtime_dir", v), "target.runtime_dir"),
    ("haproxy_version", lambda lb, t, v: setattr(t, "haproxy_version", v), "haproxy_version"),
    ("listener.id", lambda lb, t, v: setattr(lb.listeners[0].meta, "id", v), "listener.id"),
    (
        "listener.protocol",
        lambda lb, t, v: setattr(lb.listeners[0], "protocol", v),
        ".protocol",
    ),
    (
        "listener.default_pool_id",
        lambda lb, t, v: setattr(lb.listeners[0], "default_pool_id", v),
        ".default_pool_id",
    ),
    (
        "pool.id",
        lambda lb, t, v: (
            setattr(_pool(lb, samples.TCP_POOL_ID).meta, "id", v),
            setattr(_listener(lb, "TCP"), "default_pool_id", v),
        ),
        "default_pool_id",
    ),
    (
        "pool.protocol",
        lambda lb, t, v: setattr(_pool(lb, samples.TCP_POOL_ID), "protocol", v),
        ".protocol",
    ),
    (
        "pool.lb_algorithm",
        lambda lb, t, v: setattr(_pool(lb, samples.TCP_POOL_ID), "lb_algorithm", v),
        ".lb_algorithm",
    ),
    (
        "pool.session_persistence",
        lambda lb, t, v: setattr(_pool(lb, samples.TCP_POOL_ID).session_persistence, "type", v),
        ".session_persistence.type",
    ),
    (
        "member.id",
        lambda lb, t, v: setattr(_pool(lb, samples.HTTP_POOL_ID).members[0].meta, "id", v),
        ".member.id",
    ),
    (
        "member.address",
        lambda lb, t, v: setattr(_pool(lb, samples.HTTP_POOL_ID).members[0], "address", v),
        ".address",
    ),
    (
        "member.monitor_address",
        lambda lb, t, v: setattr(
            _pool(lb, samples.HTTP_POOL_ID).members[0], "monitor_address", v or "-"
        ),
        ".monitor_address",
    ),
]
MONITOR_FIELDS = ["type", "http_method", "url_path", "expected_codes", "http_version"]
FIELDS += [
    (
        f"healthmonitor.{name}",
        lambda lb, t, v, name=name: setattr(
            _pool(lb, samples.HTTP_POOL_ID).healthmonitor, name, v or " "
        ),
        f".healthmonitor.{name}",
    )
    for name in MONITOR_FIELDS
]
FIELDS.append(
    (
        "healthmonitor.domain_name",
        lambda lb, t, v: setattr(
            _pool(lb, samples.HTTP_POOL_ID).healthmonitor, "domain_name", v or "-"
        ),
        ".healthmonitor.domain_name",
    )
)


@pytest.fixture(scope="module")
def renderer() -> HaproxyRenderer:
    return HaproxyRenderer()


def test_the_sample_renders_before_it_is_made_hostile(renderer: HaproxyRenderer) -> None:
    renderer.render(samples.full_lb(), samples.target())


# Empty means "unset" for these, "disabled" is a legal host name (one harmless word), and a
# monitor's path may hold a '$' (Octavia's does; haproxy expands variables only inside double
# quotes, the path is written unquoted: test_a_dollar_in_a_monitor_path_stays_literal).
LEGITIMATE = {
    ("target.vip", ""),
    ("listener.default_pool_id", ""),
    ("pool.id", ""),
    ("pool.session_persistence", ""),
    ("healthmonitor.domain_name", "disabled"),
    ("healthmonitor.url_path", "/a$HOME"),
}
CASES = [
    pytest.param(name, setter, field, value, id=f"{name}-{index}")
    for name, setter, field in FIELDS
    for index, value in enumerate(HOSTILE)
    if (name, value) not in LEGITIMATE
]


def test_a_dollar_in_a_monitor_path_stays_literal(renderer: HaproxyRenderer) -> None:
    lb = samples.full_lb()
    _pool(lb, samples.HTTP_POOL_ID).healthmonitor.url_path = "/a$HOME"
    config = {f.path: f.content for f in renderer.render(lb, samples.target()).files}
    [line] = [x for x in config["haproxy.cfg"].decode().splitlines() if "http-check send" in x]
    assert " uri /a$HOME " in line and '"' not in line


@pytest.mark.parametrize(("name", "setter", "field", "value"), CASES)
def test_hostile_string_is_rejected_naming_the_field(
    renderer: HaproxyRenderer, name, setter, field, value
) -> None:
    lb, target = samples.full_lb(), samples.target()
    setter(lb, target, value)
    with pytest.raises(InvalidInput) as err:
        renderer.render(lb, target)
    assert err.value.field.endswith(field), (name, err.value.field)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda lb: setattr(lb.listeners[0], "protocol_port", 0), ".protocol_port"),
        (lambda lb: setattr(lb.listeners[0], "protocol_port", 65536), ".protocol_port"),
        (lambda lb: setattr(lb.listeners[0], "connection_limit", -2), ".connection_limit"),
        (lambda lb: setattr(lb.listeners[0], "timeout_client_data", -1), ".timeout_client_data"),
        (lambda lb: setattr(lb.pools[1].members[0], "weight", 257), ".weight"),
        (lambda lb: setattr(lb.pools[1].members[0], "weight", -1), ".weight"),
        (lambda lb: setattr(lb.pools[1].members[0], "monitor_port", 0), ".monitor_port"),
        (lambda lb: setattr(lb.pools[1].healthmonitor, "delay", 0), ".delay"),
        (lambda lb: setattr(lb.pools[1].healthmonitor, "timeout", 0), ".timeout"),
        (lambda lb: setattr(lb.pools[1].healthmonitor, "max_retries", 11), ".max_retries"),
        (lambda lb: setattr(lb.pools[1].healthmonitor, "max_retries_down", 11), "_down"),
    ],
)
def test_out_of_range_integers_are_rejected(renderer: HaproxyRenderer, mutate, field) -> None:
    lb = samples.full_lb()
    assert lb.pools[1].meta.id == samples.HTTP_POOL_ID
    mutate(lb)
    with pytest.raises(InvalidInput) as err:
        renderer.render(lb, samples.target())
    assert err.value.field.endswith(field)


# '$' is literal in an unquoted haproxy word (environment variables expand only inside double
# quotes); Octavia and the API take it, so a monitor's path may hold it. 2048: Octavia's column.
@pytest.mark.parametrize(
    "path",
    ["/", "/healthz", "/a/b.c?d=e&f=%20g", "/~u/(x)*+,;=:@!-_", "/a$b", "/" + "a" * 2047],
)
def test_url_path_accepts(path: str) -> None:
    assert filters.url_path(path, "f") == path


@pytest.mark.parametrize(
    "path",
    ["", "healthz", "/a b", "/a'b", '/a"b', "/a#b", "/a\\b", "/a{b}", "/a\nb", "/" + "a" * 2048],
)
def test_url_path_rejects(path: str) -> None:
    with pytest.raises(InvalidInput):
        filters.url_path(path, "f")


@pytest.mark.parametrize("codes", ["200", "200,202", "200,202,204", "200-204", "100-599"])
def test_expected_codes_accepts(codes: str) -> None:
    assert filters.expected_codes(codes, "f") == codes


@pytest.mark.parametrize(
    "codes", ["", "2xx", "99", "600", "204-200", "200,", ",200", "200-202,204", "200 ", "0200"]
)
def test_expected_codes_rejects(codes: str) -> None:
    with pytest.raises(InvalidInput):
        filters.expected_codes(codes, "f")


@pytest.mark.parametrize("name", ["example.com", "a.b-c.example.", "localhost", "x1"])
def test_hostname_accepts(name: str) -> None:
    assert filters.hostname(name, "f") == name


@pytest.mark.parametrize("name", ["", "-a.com", "a-.com", "a..com", "a_b.com", "a" * 64, "a b"])
def test_hostname_rejects(name: str) -> None:
    with pytest.raises(InvalidInput):
        filters.hostname(name, "f")


@pytest.mark.parametrize(
    "path", ["", "run", "/run/../etc", "/run/", "/run dir", "/" + "a" * 94, "/r\n"]
)
def test_runtime_dir_rejects(path: str) -> None:
    with pytest.raises(InvalidInput):
        filters.runtime_dir(path, "f")


def test_ip_and_int_filters() -> None:
    assert str(filters.ip_address("2001:DB8::1", "f")) == "2001:db8::1"
    for bad in ("1.2.3.4.5", "fe80::1%eth0", "1.2.3.4:80", "localhost"):
        with pytest.raises(InvalidInput):
            filters.ip_address(bad, "f")
    assert filters.int_range(5, "f", 0, 5) == 5
    for bad in (True, 6, -1, "5", 5.0):
        with pytest.raises(InvalidInput):
            filters.int_range(bad, "f", 0, 5)


def _l7_pool(lb, pool_id):
    return next(p for p in lb.pools if p.meta.id == pool_id)


def _policy(lb, index):
    return lb.listeners[0].l7policies[index]


# New string fields (L7, insert_headers, allowed_cidrs, persistence) on the L7 sample.
L7_FIELDS = [
    ("cidr", lambda lb, v: lb.listeners[0].allowed_cidrs.append(v), ".allowed_cidrs"),
    ("header.key", lambda lb, v: lb.listeners[0].insert_headers.update({v: "true"}),
     ".insert_headers"),
    ("header.value", lambda lb, v: lb.listeners[0].insert_headers.update({"X-Forwarded-For": v}),
     ".insert_headers"),
    ("policy.id", lambda lb, v: setattr(_policy(lb, 2).meta, "id", v), ".l7policy.id"),
    ("policy.action", lambda lb, v: setattr(_policy(lb, 2), "action", v), ".action"),
    ("policy.redirect_url", lambda lb, v: setattr(_policy(lb, 3), "redirect_url", v),
     ".redirect_url"),
    ("policy.redirect_url.http", lambda lb, v: setattr(_policy(lb, 3), "redirect_url",
                                                       "https://x.example/" + v), ".redirect_url"),
    ("policy.redirect_prefix", lambda lb, v: setattr(_policy(lb, 4), "redirect_prefix", v),
     ".redirect_prefix"),
    ("policy.redirect_pool_id", lambda lb, v: setattr(_policy(lb, 0), "redirect_pool_id", v),
     ".redirect_pool_id"),
    ("rule.id", lambda lb, v: setattr(_policy(lb, 2).rules[0].meta, "id", v), ".rule.id"),
    ("rule.type", lambda lb, v: setattr(_policy(lb, 2).rules[0], "type", v), ".type"),
    ("rule.compare_type", lambda lb, v: setattr(_policy(lb, 2).rules[0], "compare_type", v),
     ".compare_type"),
    ("rule.key.header", lambda lb, v: setattr(_policy(lb, 4).rules[0], "key", v), ".key"),
    ("rule.key.cookie", lambda lb, v: setattr(_policy(lb, 1).rules[1], "key", v), ".key"),
    ("rule.value.regex", lambda lb, v: setattr(_policy(lb, 2).rules[0], "value", v), ".value"),
    ("rule.value.str", lambda lb, v: setattr(_policy(lb, 3).rules[0], "value", v), ".value"),
    ("rule.value.disabled", lambda lb, v: setattr(_policy(lb, 0).rules[2], "value", v),
     ".value"),
    ("persistence.cookie_name",
     lambda lb, v: setattr(_l7_pool(lb, samples.API_POOL_ID).session_persistence,
                           "cookie_name", v or " "), ".cookie_name"),
    ("persistence.type",
     lambda lb, v: setattr(_l7_pool(lb, samples.API_POOL_ID).session_persistence, "type", v),
     ".session_persistence.type"),
]  # fmt: skip
# Rule values are written inside haproxy's single quotes, where '#', '$' and braces are literal
# (haproxy -c of the goldens and test_quoted_values_survive_haproxy prove it); a regex may hold
# a backslash. "disabled" is a harmless word everywhere it is accepted.
QUOTED_OK = {"/path#comment", "${HOME}", "/a$HOME", "disabled"}
L7_LEGITIMATE = {
    *((name, v) for name in ("rule.value.regex", "rule.value.str", "rule.value.disabled")
      for v in QUOTED_OK),
    ("rule.value.regex", "back\\slash"),
    # Appended to "https://x.example/": still a URL, and written inside single quotes.
    *(("policy.redirect_url.http", v) for v in ("", "/path#comment", "/a$HOME", "disabled")),
    ("rule.key.header", "disabled"),
    ("rule.key.cookie", "disabled"),
    ("persistence.cookie_name", "disabled"),
    ("persistence.type", ""),
}  # fmt: skip
L7_CASES = [
    pytest.param(name, setter, field, value, id=f"{name}-{index}")
    for name, setter, field in L7_FIELDS
    for index, value in enumerate(HOSTILE)
    if (name, value) not in L7_LEGITIMATE
]


def test_the_l7_sample_renders_before_it_is_made_hostile(renderer: HaproxyRenderer) -> None:
    renderer.render(samples.l7_lb(), samples.target())


@pytest.mark.parametrize(("name", "setter", "field", "value"), L7_CASES)
def test_hostile_string_in_new_fields_is_rejected(
    renderer: HaproxyRenderer, name, setter, field, value
) -> None:
    lb, target = samples.l7_lb(), samples.target()
    setter(lb, value)
    with pytest.raises(InvalidInput) as err:
        renderer.render(lb, target)
    assert err.value.field.endswith(field), (name, err.value.field)


@pytest.mark.parametrize("value", sorted(QUOTED_OK))
def test_quoted_rule_values_render_inside_single_quotes(renderer: HaproxyRenderer, value) -> None:
    lb = samples.l7_lb()
    _policy(lb, 3).rules[0].value = value
    text = renderer.render(lb, samples.target()).files[0].content.decode()
    assert f"-m str -- '{value}'\n" in text


@pytest.mark.parametrize(
    "cidr", ["10.0.0.0/33", "10.0.0.0/8 ", "fe80::/64%eth0", "10.0.0.0/8,10.1.0.0/16", "x"]
)
def test_cidr_rejects(cidr: str) -> None:
    with pytest.raises(InvalidInput):
        filters.cidr(cidr, "f")


def test_cidr_normalises() -> None:
    assert str(filters.cidr("10.1.2.3/8", "f")) == "10.0.0.0/8"
    assert str(filters.cidr("2001:DB8::1/32", "f")) == "2001:db8::/32"
    assert str(filters.cidr("192.0.2.7", "f")) == "192.0.2.7/32"


@pytest.mark.parametrize("regex", ["(", "a{2,1}", "[z-a]", "a b", "a'b", 'a"b', "a\nb", "a\x7fb"])
def test_regex_rejects(regex: str) -> None:
    with pytest.raises(InvalidInput):
        filters.regex(regex, "f")


@pytest.mark.parametrize(
    "url",
    ["ftp://x", "https://", "https://x y", "https://x/'", 'https://x/"', "https://x/\\",
     "https://x/\n", "//x/", "javascript:alert(1)", "https://x/{a}", "https://x:99999999/"],
)  # fmt: skip
def test_redirect_url_rejects(url: str) -> None:
    with pytest.raises(InvalidInput):
        filters.redirect_url(url, "f")


@pytest.mark.parametrize("name", ["", "a b", "a#b", "a(b)", "a,b", "a'b", "a\nb", "x" * 256])
def test_http_name_rejects(name: str) -> None:
    with pytest.raises(InvalidInput):
        filters.http_name(name, "f")
