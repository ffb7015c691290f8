"""haproxy renderer, TLS: companion files, crt-list, bind/server options, version gating, the
client-certificate rules and headers, injection refusals, and the orchestrator's feature map."""

from __future__ import annotations

import pytest
from lbaas.renderer.v1 import renderer_service_pb2

from services.common.errors import InvalidInput, Precondition
from services.orchestrator.domain import features as needs
from services.renderer.backends.haproxy import features
from services.renderer.backends.haproxy.renderer import FILTERS, HaproxyRenderer
from services.renderer.domain import filters
from services.renderer.domain.tls import ref_name
from tests.unit.renderer import renderer_samples as samples
from tests.unit.renderer import tls_samples as ts


@pytest.fixture(scope="module")
def renderer() -> HaproxyRenderer:
    return HaproxyRenderer()


def _files(renderer: HaproxyRenderer, lb, **target) -> dict[str, tuple[bytes, int]]:
    rendering = renderer.render(lb, samples.target(**target), ts.materials())
    return {f.path: (f.content, f.mode) for f in rendering.files}


def _cfg(renderer: HaproxyRenderer, lb, **target) -> str:
    return _files(renderer, lb, **target)["haproxy.cfg"][0].decode()


def _bind(text: str) -> str:
    return next(line for line in text.splitlines() if " ssl crt-list " in line)


def test_certificate_files_modes_and_crt_list(renderer: HaproxyRenderer) -> None:
    files = _files(renderer, ts.terminated_lb())
    p = ts.pki()
    default, sni_a, sni_b = (f"certs/{ref_name(r)}.pem" for r in
                             (ts.DEFAULT_REF, ts.SNI_A_REF, ts.SNI_B_REF))  # fmt: skip
    assert files[default] == (p.default.cert_pem + p.default.key_pem, 0o600)
    assert files[sni_a][1] == files[sni_b][1] == 0o600
    assert files[f"certs/{ref_name(ts.CLIENT_CA_REF)}.ca.pem"] == (p.client_ca.cert_pem, 0o644)
    assert files[f"certs/{ref_name(ts.CLIENT_CRL_REF)}.crl.pem"] == (p.client_crl, 0o644)
    crt_list, mode = files[f"certs/{ts.TLS_LISTENER_ID}.crt-list"]
    assert mode == 0o644
    # The default certificate comes first and has no filter; SNI ones are bound to their names.
    assert crt_list.decode().splitlines() == [
        f"conf/{default}",
        f"conf/{sni_a} a.example.test www.a.example.test",
        f"conf/{sni_b} b.example.test *.b.example.test",
    ]
    # Nothing names a reference itself: references are URLs.
    assert all("key-manager" not in path for path in files)
    assert "key-manager" not in files["haproxy.cfg"][0].decode()


def test_sni_only_listener_answers_with_its_first_sni_certificate(
    renderer: HaproxyRenderer,
) -> None:
    """Octavia accepts a TERMINATED_HTTPS listener with SNI certificates only: the first one is
    then the default (the unfiltered first crt-list entry)."""
    lb = ts.terminated_lb()
    lb.listeners[0].default_tls_container_ref = ""
    files = _files(renderer, lb)
    sni_a, sni_b = (f"certs/{ref_name(r)}.pem" for r in (ts.SNI_A_REF, ts.SNI_B_REF))
    assert f"certs/{ref_name(ts.DEFAULT_REF)}.pem" not in files
    crt_list = files[f"certs/{ts.TLS_LISTENER_ID}.crt-list"][0].decode().splitlines()
    assert crt_list == [f"conf/{sni_a}", f"conf/{sni_b} b.example.test *.b.example.test"]


def test_bind_line_options(renderer: HaproxyRenderer) -> None:
    bind = _bind(_cfg(renderer, ts.terminated_lb()))
    ca, crl = ref_name(ts.CLIENT_CA_REF), ref_name(ts.CLIENT_CRL_REF)
    assert bind.endswith(
        f"ssl crt-list conf/certs/{ts.TLS_LISTENER_ID}.crt-list "
        f"ca-file conf/certs/{ca}.ca.pem verify required crl-file conf/certs/{crl}.crl.pem "
        "ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.3 "
        "ciphers ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256 "
        "ciphersuites TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256 alpn h2,http/1.1"
    )


@pytest.mark.parametrize(("auth", "verify"), [("NONE", "none"), ("OPTIONAL", "optional"),
                                              ("MANDATORY", "required"), ("", "none")])  # fmt: skip
def test_client_authentication_modes(renderer: HaproxyRenderer, auth: str, verify: str) -> None:
    bind = _bind(_cfg(renderer, ts.terminated_lb(auth=auth)))
    assert f" verify {verify} " in bind


def test_client_authentication_needs_a_ca(renderer: HaproxyRenderer) -> None:
    lb = ts.terminated_lb()
    lb.listeners[0].client_ca_tls_container_ref = ""
    with pytest.raises(InvalidInput, match="needs a client CA") as err:
        renderer.render(lb, samples.target(), ts.materials())
    assert err.value.field == f"listener.{ts.TLS_LISTENER_ID}.client_ca_tls_container_ref"
    lb.listeners[0].client_authentication = "NONE"
    with pytest.raises(InvalidInput, match="CRL needs a client CA"):
        renderer.render(lb, samples.target(), ts.materials())


def test_missing_or_wrong_material_is_invalid(renderer: HaproxyRenderer) -> None:
    with pytest.raises(InvalidInput, match="no certificate material"):
        renderer.render(ts.terminated_lb(), samples.target(), ts.materials()[1:])
    lb = ts.terminated_lb()
    lb.listeners[0].sni_container_refs.append(ts.CLIENT_CA_REF)  # a CA has no key
    with pytest.raises(InvalidInput, match="private key"):
        renderer.render(lb, samples.target(), ts.materials())
    lb = ts.terminated_lb()
    lb.listeners[0].default_tls_container_ref = ""
    del lb.listeners[0].sni_container_refs[:]
    with pytest.raises(InvalidInput, match="needs a default or an SNI certificate"):
        renderer.render(lb, samples.target(), ts.materials())


def test_hsts_and_ssl_headers(renderer: HaproxyRenderer) -> None:
    text = _cfg(renderer, ts.terminated_lb())
    assert (
        "    http-response set-header Strict-Transport-Security "
        '"max-age=31536000; includeSubDomains; preload"\n'
    ) in text
    assert "    http-request set-header X-Forwarded-Proto https\n" in text
    for header, fetch in [("X-SSL-Client-Verify", "%[ssl_c_verify]"),
                          ("X-SSL-Client-Has-Cert", "%[ssl_c_used]"),
                          ("X-SSL-Client-DN", "%{+Q}[ssl_c_s_dn]"),
                          ("X-SSL-Client-CN", "%{+Q}[ssl_c_s_dn(cn)]"),
                          ("X-SSL-Issuer", "%{+Q}[ssl_c_i_dn]"),
                          ("X-SSL-Client-SHA1", "%{+Q}[ssl_c_sha1,hex]"),
                          ("X-SSL-Client-Not-Before", "%{+Q}[ssl_c_notbefore]"),
                          ("X-SSL-Client-Not-After", "%{+Q}[ssl_c_notafter]")]:  # fmt: skip
        assert f"    http-request set-header {header} {fetch}\n" in text
    lb = ts.terminated_lb()
    lb.listeners[0].hsts_max_age = 0
    lb.listeners[0].hsts_include_subdomains = lb.listeners[0].hsts_preload = False
    assert 'Strict-Transport-Security "max-age=0"\n' in _cfg(renderer, lb)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda li: li.ClearField("hsts_max_age"), "hsts_max_age is required"),
        (lambda li: setattr(li, "protocol", "HTTP"), "needs a TERMINATED_HTTPS listener"),
        (lambda li: setattr(li, "tls_ciphers", "AES128\n    bind :1"), "cipher string"),
        (lambda li: setattr(li, "tls_ciphers", "AES128 #"), "cipher string"),
        (lambda li: li.alpn_protocols.append("h2c'"), "must be one of"),
        (lambda li: li.tls_versions.append("TLSv9"), "must be one of"),
        (lambda li: setattr(li, "client_authentication", "SOMETIMES"), "must be one of"),
        (lambda li: setattr(li.l7policies[1].rules[0], "key", "CN),x("), "distinguished name"),
        (lambda li: setattr(li.l7policies[1].rules[0], "value", "a' b"), "printable"),
        (lambda li: setattr(li.l7policies[0].rules[0], "value", "False"), "value True"),
        (lambda li: setattr(li.l7policies[0].rules[1], "value", "zero"), "verify result"),
    ],
)
def test_invalid_tls_values_are_refused(renderer: HaproxyRenderer, mutate, match) -> None:
    lb = ts.terminated_lb()
    mutate(lb.listeners[0])
    with pytest.raises(InvalidInput, match=match):
        renderer.render(lb, samples.target(), ts.materials())


def test_tls_options_on_a_plain_listener_are_invalid(renderer: HaproxyRenderer) -> None:
    lb = samples.l7_lb()
    lb.listeners[0].tls_versions.append("TLSv1.2")
    with pytest.raises(InvalidInput, match="tls_versions needs a TERMINATED_HTTPS listener"):
        renderer.render(lb, samples.target())
    lb = samples.l7_lb()
    lb.listeners[0].insert_headers["X-SSL-Client-CN"] = "true"
    with pytest.raises(InvalidInput, match="needs a TERMINATED_HTTPS listener"):
        renderer.render(lb, samples.target())


@pytest.mark.parametrize(
    ("versions", "expected"),
    [
        (["TLSv1.2"], "ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.2"),
        (["TLSv1.1", "TLSv1", "TLSv1.2"], "ssl-min-ver TLSv1.0 ssl-max-ver TLSv1.2"),
        (["TLSv1.3"], "ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.3"),
    ],
)
def test_tls_versions_are_a_range(renderer: HaproxyRenderer, versions, expected) -> None:
    lb = ts.terminated_lb()
    lb.listeners[0].tls_versions[:] = versions
    assert f" {expected} " in _bind(_cfg(renderer, lb))


@pytest.mark.parametrize(
    ("versions", "feature"),
    [
        (["TLSv1", "TLSv1.2"], "listener.tls_versions_noncontiguous"),
        (["TLSv1.1", "TLSv1.3"], "listener.tls_versions_noncontiguous"),
        (["SSLv3", "TLSv1"], "listener.tls_versions_sslv3"),
    ],
)
def test_versions_haproxy_cannot_do_are_a_precondition(renderer, versions, feature) -> None:
    lb = ts.terminated_lb()
    lb.listeners[0].tls_versions[:] = versions
    with pytest.raises(Precondition) as err:
        renderer.render(lb, samples.target(), ts.materials())
    assert err.value.user_message == f"feature {feature} not supported by renderer haproxy-1.7.0"
    assert feature not in features.SUPPORTED_FEATURES
    # The orchestrator derives the same need, so the gateway refuses it before any write.
    assert any(n.feature == feature for n in needs.listener(lb.listeners[0]))


def test_ciphers_are_split_between_tls13_and_older(renderer: HaproxyRenderer) -> None:
    lb = ts.terminated_lb()
    lb.listeners[0].tls_ciphers = "TLS_CHACHA20_POLY1305_SHA256"
    bind = _bind(_cfg(renderer, lb))
    assert " ciphersuites TLS_CHACHA20_POLY1305_SHA256 " in bind and " ciphers " not in bind
    lb.listeners[0].tls_ciphers = "ECDHE-RSA-AES128-GCM-SHA256,!aNULL"
    bind = _bind(_cfg(renderer, lb))
    assert " ciphers ECDHE-RSA-AES128-GCM-SHA256:!aNULL " in bind and "ciphersuites" not in bind


@pytest.mark.parametrize(
    ("openssl", "refused"),
    [("1.1.0l", True), ("OpenSSL 1.0.2k-fips", True), ("1.1.1w", False), ("3.0.19", False),
     ("", False)],
)  # fmt: skip
def test_tls13_is_gated_on_the_targets_openssl(renderer, openssl: str, refused: bool) -> None:
    target = samples.target(openssl_version=openssl)
    if not refused:
        renderer.render(ts.terminated_lb(), target, ts.materials())
        return
    with pytest.raises(Precondition) as err:
        renderer.render(ts.terminated_lb(), target, ts.materials())
    assert "requires openssl >= 1.1.1" in err.value.user_message
    assert err.value.field == "target.openssl_version"


def test_ssl_l7_rules(renderer: HaproxyRenderer) -> None:
    text = _cfg(renderer, ts.terminated_lb())
    r = ts.RULE_IDS
    assert f"    acl rule-{r[0]} ssl_c_used\n" in text
    assert f"    acl rule-{r[1]} ssl_c_verify eq 0\n" in text
    assert f"    acl rule-{r[2]} ssl_c_s_dn(CN) -m str -- 'admin-client'\n" in text
    assert f"    acl rule-{r[3]} ssl_c_s_dn(OU) -m reg -- '^ops-[0-9]+$'\n" in text
    assert f"    http-request deny if rule-{r[0]} !rule-{r[1]}\n" in text
    assert f"    use_backend {ts.ADMIN_POOL_ID} if rule-{r[2]}\n" in text


def test_http_to_https_redirect_prefix(renderer: HaproxyRenderer) -> None:
    text = _cfg(renderer, ts.terminated_lb())
    assert (
        f"    http-request redirect prefix 'https://www.example.test' code 301 "
        f"if rule-{ts.RULE_IDS[4]}\n"
    ) in text


def test_reencryption_server_options(renderer: HaproxyRenderer) -> None:
    files = _files(renderer, ts.reencrypt_lb())
    text = files["haproxy.cfg"][0].decode()
    crt, ca, crl = (ref_name(r) for r in
                    (ts.BACKEND_CLIENT_REF, ts.BACKEND_CA_REF, ts.BACKEND_CRL_REF))  # fmt: skip
    assert (
        f"    default-server ssl crt conf/certs/{crt}.pem verify required "
        f"ca-file conf/certs/{ca}.ca.pem crl-file conf/certs/{crl}.crl.pem "
        "ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.3 ciphers ECDHE-ECDSA-AES128-GCM-SHA256 "
        "ciphersuites TLS_AES_128_GCM_SHA256 alpn http/1.1\n"
    ) in text
    assert files[f"certs/{crt}.pem"][1] == 0o600
    # Without a CA the member is not verified (Octavia); its checks use the server's TLS.
    assert "    default-server ssl verify none\n" in text
    reenc = text.split(f"\nbackend {ts.REENC_POOL_ID}\n")[1].split("\n\n")[0]
    assert "check check-ssl inter 2s" in reenc and "verify none" not in reenc
    # A plain pool's HTTPS monitor still checks over TLS without verification.
    plain = text.split(f"\nbackend {ts.PLAIN_POOL_ID}\n")[1]
    assert "check check-ssl verify none inter 5s" in plain and "default-server" not in plain


def test_members_drain_backup_monitor_address_and_head_monitor(renderer) -> None:
    text = _cfg(renderer, ts.reencrypt_lb())
    backend = text.split(f"\nbackend {ts.NOVERIFY_POOL_ID}\n")[1].split("\n\n")[0]
    assert "    http-check send meth HEAD uri / ver HTTP/1.0\n" in backend
    assert "    http-check expect status 200,204\n" in backend
    assert f"server {ts.MEMBER_IDS[6]} 192.0.2.41:443 weight 0 check " in backend
    assert backend.endswith("addr 192.0.2.142 port 8443 backup")


def test_pool_tls_disabled_ignores_its_references(renderer: HaproxyRenderer) -> None:
    lb = ts.reencrypt_lb()
    lb.pools[0].tls_enabled = False
    files = _files(renderer, lb)
    assert f"certs/{ref_name(ts.BACKEND_CLIENT_REF)}.pem" not in files
    assert f"backend {ts.REENC_POOL_ID}\n" in files["haproxy.cfg"][0].decode()
    lb.pools[0].tls_enabled = True
    lb.pools[0].ca_tls_container_ref = ""
    with pytest.raises(InvalidInput, match="CRL needs a CA"):
        renderer.render(lb, samples.target(), ts.materials())


def test_a_certificate_used_twice_is_written_once(renderer: HaproxyRenderer) -> None:
    lb = ts.terminated_lb()
    lb.listeners[0].sni_container_refs.append(ts.DEFAULT_REF)
    lb.listeners[0].sni_container_refs.append(ts.SNI_A_REF)
    crt_list = _files(renderer, lb)[f"certs/{ts.TLS_LISTENER_ID}.crt-list"][0]
    assert len(crt_list.decode().splitlines()) == 3


def test_every_tls_need_of_the_samples_is_advertised() -> None:
    for lb in (ts.terminated_lb(), ts.reencrypt_lb()):
        wanted = {n.feature for n in needs.loadbalancer(lb)}
        assert "listener.protocol.TERMINATED_HTTPS" in wanted
        missing = needs.missing(features.SUPPORTED_FEATURES, needs.loadbalancer(lb))
        assert missing is None, missing
    wanted = {n.feature for n in needs.loadbalancer(ts.terminated_lb())}
    assert {"listener.sni", "listener.client_crl", "listener.client_authentication",
            "listener.tls_versions", "listener.tls_ciphers", "listener.alpn_protocols",
            "listener.hsts", "listener.insert_headers.X-SSL-Client-CN",
            "l7rule.type.SSL_DN_FIELD"} <= wanted  # fmt: skip
    wanted = {n.feature for n in needs.loadbalancer(ts.reencrypt_lb())}
    assert {"pool.tls_enabled", "pool.tls_client_certificate", "pool.tls_verify",
            "pool.tls_crl", "pool.tls_versions", "pool.tls_ciphers",
            "pool.alpn_protocols"} <= wanted  # fmt: skip


def test_materials_without_tls_listeners_change_nothing(renderer: HaproxyRenderer) -> None:
    plain = renderer.render(samples.full_lb(), samples.target())
    with_materials = renderer.render(samples.full_lb(), samples.target(), ts.materials())
    assert plain.files == with_materials.files


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        (filters.relative_file, ["certs/a.pem", "x_1/y-2.crt-list"],
         ["../x", "/etc/passwd", "a/../b", "a b", ".hidden", "a//b", "a\nb", ""]),
        (filters.sni_name, ["a.example.com", "*.example.com"],
         ["*", "*.", "a.*.com", "a b", "-a.com", "a.com\n"]),
        (filters.openssl_ciphers, ["DEFAULT", "ECDHE+AESGCM:!aNULL:@SECLEVEL=0", "A,B"],
         ["", "A B", "A'", "A#", "A$B", "A\\B", "A:", ":A"]),
        (filters.dn_field, ["CN", "OU", "emailAddress", "2.5.4.3"],
         ["", "CN)", "C N", "CN,1", "1", "a.b"]),
        (filters.alpn_protocol, ["h2", "http/1.1", "http/1.0"], ["h2c", "http/2", "h2,x"]),
    ],
)  # fmt: skip
def test_tls_filters(check, good, bad) -> None:
    for value in good:
        check(value, "f")
    for value in bad:
        with pytest.raises(InvalidInput):
            check(value, "f")


def test_template_file_filter_prefixes_conf() -> None:
    assert FILTERS["hx_file"]("certs/x.pem") == "conf/certs/x.pem"
    with pytest.raises(InvalidInput):
        FILTERS["hx_file"]("../../etc/shadow")
    with pytest.raises(InvalidInput):
        FILTERS["hx_alpn"]([])


def test_wildcard_and_invalid_certificate_names_in_crt_list(renderer: HaproxyRenderer) -> None:
    from tests.support import certs

    odd = certs.make_leaf(ts.pki().server_ca, "not a host name", ["ok.example.test", "bad_name!"])
    ref = ts.REF + "odd"
    lb = ts.terminated_lb()
    lb.listeners[0].sni_container_refs[:] = [ref]
    materials = [*ts.materials(), renderer_service_pb2.TlsMaterial(
        ref=ref, certificate_pem=odd.cert_pem, private_key_pem=odd.key_pem)]  # fmt: skip
    rendering = renderer.render(lb, samples.target(), materials)
    crt_list = {f.path: f.content for f in rendering.files}[f"certs/{ts.TLS_LISTENER_ID}.crt-list"]
    assert crt_list.decode().splitlines()[1] == f"conf/certs/{ref_name(ref)}.pem ok.example.test"
