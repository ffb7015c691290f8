"""The haproxy renderer: transform, then render haproxy.cfg (and, for a half of an ACTIVE_STANDBY
pair, keepalived.conf and its check script) with strict filters only. Given the files the target
runs now, it also answers the runtime plan of a member change (runtime_plan.py)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from pathlib import Path

import jinja2
from lbaas.common.v1 import graph_pb2, runtime_pb2
from lbaas.renderer.v1 import renderer_service_pb2

from services.common.errors import InvalidInput
from services.renderer.backends.haproxy import runtime_plan, vrrp
from services.renderer.backends.haproxy.features import RENDERER_VERSION, SUPPORTED_FEATURES
from services.renderer.backends.haproxy.transform import transform
from services.renderer.domain import filters
from services.renderer.domain.ports import Description, RenderedFile, Rendering
from services.renderer.domain.templating import Checked, environment, strict
from services.renderer.domain.tls import PUBLIC_FILE_MODE, Materials
from services.renderer.domain.versions import parse_version

TEMPLATES = Path(__file__).parent / "templates"
CONFIG_PATH = "haproxy.cfg"
CONFIG_MODE = 0o644
TEMPLATE_FIELD = "haproxy template value"
TEMPLATE_NAMES = ("haproxy.cfg.j2", "crt-list.j2", "keepalived.conf.j2", "check_haproxy.sh.j2")
# Where companion files are, seen from haproxy's working directory (the amphora runtime dir).
CONF_DIR = "conf"


def _ip(value: object) -> Checked:
    address = (
        value
        if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address)
        else filters.ip_address(value, TEMPLATE_FIELD)
    )
    # haproxy reads "host:port" splitting at the last colon; brackets keep IPv6 unambiguous,
    # and "addr" on a server line needs them.
    return Checked(f"[{address}]" if address.version == 6 else str(address))


def _int(value: object) -> Checked:
    return Checked(str(filters.int_range(value, TEMPLATE_FIELD, -(2**31), 2**31 - 1)))


def _cidr(value: object) -> Checked:
    return Checked(str(filters.cidr(value, TEMPLATE_FIELD)))


def _strong_quote(text: str) -> Checked:
    # Inside haproxy's single quotes nothing is interpreted ('#', '$', '\\' stay literal); the
    # filters already refused single quotes, so the value cannot end the quoted string early.
    return Checked(f"'{text}'")


def _url(value: object) -> Checked:
    # Redirect locations are log-format strings: a literal '%' is written '%%'.
    return _strong_quote(filters.redirect_url(value, TEMPLATE_FIELD).replace("%", "%%"))


TLS_VERSION_NAMES = frozenset(("SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"))


def _alpn(value: object) -> Checked:
    if not isinstance(value, list | tuple) or not value:
        raise InvalidInput(
            f"{TEMPLATE_FIELD} must be a list of ALPN protocols", field=TEMPLATE_FIELD
        )
    return Checked(",".join(filters.alpn_protocol(v, TEMPLATE_FIELD) for v in value))


def _plain_ip(value: object) -> Checked:
    """An address as keepalived writes it: no brackets, IPv6 included."""
    address = (
        value
        if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address)
        else filters.ip_address(value, TEMPLATE_FIELD)
    )
    return Checked(str(address))


def _advert(value: object) -> Checked:
    milliseconds = filters.int_range(value, TEMPLATE_FIELD, vrrp.MIN_ADVERT_MS, vrrp.MAX_ADVERT_MS)
    if milliseconds % vrrp.ADVERT_STEP_MS:
        raise InvalidInput(f"{TEMPLATE_FIELD} must be whole centiseconds", field=TEMPLATE_FIELD)
    return Checked(vrrp.advert_seconds(milliseconds))


FILTERS = {
    name: strict(check)
    for name, check in {
        "hx_id": lambda v: Checked(filters.uuid_id(v, TEMPLATE_FIELD)),
        "hx_addr": _ip,
        "hx_int": _int,
        "hx_word": lambda v: Checked(filters.token(v, TEMPLATE_FIELD)),
        "hx_path": lambda v: Checked(filters.url_path(v, TEMPLATE_FIELD)),
        "hx_host": lambda v: Checked(filters.hostname(v, TEMPLATE_FIELD)),
        "hx_codes": lambda v: Checked(filters.expected_codes(v, TEMPLATE_FIELD)),
        "hx_dir": lambda v: Checked(filters.runtime_dir(v, TEMPLATE_FIELD)),
        "hx_cidr": _cidr,
        "hx_name": lambda v: Checked(filters.http_name(v, TEMPLATE_FIELD)),
        "hx_pattern": lambda v: _strong_quote(filters.match_pattern(v, TEMPLATE_FIELD)),
        "hx_regex": lambda v: _strong_quote(filters.regex(v, TEMPLATE_FIELD)),
        "hx_url": _url,
        "hx_file": lambda v: Checked(f"{CONF_DIR}/{filters.relative_file(v, TEMPLATE_FIELD)}"),
        "hx_sni": lambda v: Checked(filters.sni_name(v, TEMPLATE_FIELD)),
        "hx_ciphers": lambda v: Checked(filters.openssl_ciphers(v, TEMPLATE_FIELD)),
        "hx_alpn": _alpn,
        "hx_tlsver": lambda v: Checked(filters.one_of(v, TEMPLATE_FIELD, TLS_VERSION_NAMES)),
        "hx_dnkey": lambda v: Checked(filters.dn_field(v, TEMPLATE_FIELD)),
        # keepalived.conf
        "ka_addr": _plain_ip,
        "ka_ifname": lambda v: Checked(filters.interface_name(v, TEMPLATE_FIELD)),
        "ka_state": lambda v: Checked(filters.one_of(v, TEMPLATE_FIELD, vrrp.ROLES)),
        "ka_advert": _advert,
    }.items()
}


def build_environment(template_dir: str = "") -> jinja2.Environment:
    return environment(template_dir, TEMPLATES, FILTERS, "haproxy")


class HaproxyRenderer:
    def __init__(self, template_dir: str = "", version: str = "") -> None:
        self._version = version or RENDERER_VERSION
        env = build_environment(template_dir)
        self._template = env.get_template("haproxy.cfg.j2")
        self._crt_list = env.get_template("crt-list.j2")
        self._keepalived = env.get_template("keepalived.conf.j2")
        self._check_script = env.get_template("check_haproxy.sh.j2")

    def describe(self) -> Description:
        return Description(
            backend_type="haproxy",
            renderer_version=self._version,
            supported_features=SUPPORTED_FEATURES,
        )

    def render(
        self,
        loadbalancer: graph_pb2.LoadBalancer,
        target: renderer_service_pb2.Target,
        materials: Sequence[renderer_service_pb2.TlsMaterial] = (),
    ) -> Rendering:
        data = transform(loadbalancer, target, Materials(materials))
        content = self._template.render(lb=data).encode("utf-8")
        companions = dict(data["files"])
        for frontend in data["frontends"]:
            if frontend["tls"] is not None:
                text = self._crt_list.render(entries=frontend["tls"]["entries"])
                companions[frontend["tls"]["crt_list"]] = (text.encode("utf-8"), PUBLIC_FILE_MODE)
        if data["vrrp"] is not None:
            runtime_dir = data["runtime_dir"]
            keepalived = self._keepalived.render(v=data["vrrp"], runtime_dir=runtime_dir)
            script = self._check_script.render(runtime_dir=runtime_dir)
            companions[vrrp.KEEPALIVED_PATH] = (keepalived.encode("utf-8"), vrrp.KEEPALIVED_MODE)
            companions[vrrp.CHECK_SCRIPT_PATH] = (script.encode("utf-8"), vrrp.CHECK_SCRIPT_MODE)
        files = (RenderedFile(CONFIG_PATH, content, CONFIG_MODE),) + tuple(
            RenderedFile(path, body, mode) for path, (body, mode) in sorted(companions.items())
        )
        return Rendering.of(files, self._version)

    def runtime_plan(
        self,
        rendering: Rendering,
        applied_files: Sequence[RenderedFile],
        target: renderer_service_pb2.Target,
    ) -> runtime_pb2.RuntimePlan | None:
        """The runtime-API commands from applied_files (what the target runs) to rendering's
        files; None when only a reload can make the change."""
        version = parse_version(target.haproxy_version, field="target.haproxy_version")
        return runtime_plan.plan(rendering.files, applied_files, version)
