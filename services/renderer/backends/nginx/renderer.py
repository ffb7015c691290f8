"""The nginx renderer: transform, then render nginx.conf with strict filters only, plus one
certificate file (leaf, intermediates, key; mode 0600) per certificate a listener uses.

It never answers a runtime plan and does not list "runtime.member_changes": open-source nginx has
no runtime API for upstream servers (that is NGINX Plus's commercial API), so every change,
members included, is applied by a graceful reload. It has no runtime_plan method, so the handler
ignores RenderRequest.applied_files for it."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from pathlib import Path

import jinja2
from lbaas.common.v1 import graph_pb2
from lbaas.renderer.v1 import renderer_service_pb2

from services.common.errors import InvalidInput
from services.renderer.backends.nginx.features import RENDERER_VERSION, SUPPORTED_FEATURES
from services.renderer.backends.nginx.transform import transform
from services.renderer.domain import filters, tls
from services.renderer.domain.ports import Description, RenderedFile, Rendering
from services.renderer.domain.templating import Checked, environment, strict

TEMPLATES = Path(__file__).parent / "templates"
CONFIG_PATH = "nginx.conf"
CONFIG_MODE = 0o644
TEMPLATE_FIELD = "nginx template value"
_KEY = re.compile(r"^[0-9a-f]{32}$")
# What may sit inside nginx's double quotes as a map key: printable ASCII without spaces or
# quotes ('$' is safe: map keys are never interpolated); backslashes are doubled on output.
_MAP_REGEX = re.compile(r"^~\*?[!#-&(-~]{1,1024}$")


def _ip(value: object) -> Checked:
    address = (
        value
        if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address)
        else filters.ip_address(value, TEMPLATE_FIELD)
    )
    return Checked(f"[{address}]" if address.version == 6 else str(address))


def _key(value: object) -> Checked:
    if not isinstance(value, str) or not _KEY.fullmatch(value):
        raise InvalidInput(f"{TEMPLATE_FIELD} must be an id without dashes", field=TEMPLATE_FIELD)
    return Checked(value)


def _quote(text: str) -> Checked:
    # Inside nginx double quotes a backslash escapes the next character ('\\' reads as '\'),
    # so doubling every backslash makes nginx read the text back unchanged.
    return Checked('"' + text.replace("\\", "\\\\") + '"')


def _map_regex(value: object) -> Checked:
    """A map key that is a regex ("~" or, case-insensitive, "~*"), double-quoted."""
    if not isinstance(value, str) or not _MAP_REGEX.fullmatch(value):
        raise InvalidInput(f"{TEMPLATE_FIELD} must be a map regex", field=TEMPLATE_FIELD)
    try:
        re.compile(value[2:] if value.startswith("~*") else value[1:])
    except re.error:
        raise InvalidInput(f"{TEMPLATE_FIELD} must be a map regex", field=TEMPLATE_FIELD) from None
    return _quote(value)


def _url(value: object, suffix: str = "") -> Checked:
    # return's argument is interpolated: a literal '$' must come from a variable.
    url = filters.redirect_url(value, TEMPLATE_FIELD).replace("$", "${lbaas_dollar}")
    return Checked(f'"{url}{suffix}"')


def _server_name(value: object) -> Checked:
    """A DNS name, or a wildcard "*.name" (nginx's server_name takes both)."""
    if isinstance(value, str) and value.startswith("*."):
        return Checked("*." + filters.hostname(value[2:], TEMPLATE_FIELD))
    return Checked(filters.hostname(value, TEMPLATE_FIELD))


FILTERS = {
    name: strict(check)
    for name, check in {
        "nx_id": lambda v: Checked(filters.uuid_id(v, TEMPLATE_FIELD)),
        "nx_key": _key,
        "nx_addr": _ip,
        "nx_int": lambda v: Checked(str(filters.int_range(v, TEMPLATE_FIELD, 0, 2**31 - 1))),
        "nx_word": lambda v: Checked(filters.token(v, TEMPLATE_FIELD)),
        "nx_dir": lambda v: Checked(filters.runtime_dir(v, TEMPLATE_FIELD)),
        "nx_cidr": lambda v: Checked(str(filters.cidr(v, TEMPLATE_FIELD))),
        "nx_var": lambda v: Checked(filters.variable_name(v, TEMPLATE_FIELD)),
        "nx_regex": _map_regex,
        "nx_url": _url,
        "nx_url_prefix": lambda v: _url(v, "$request_uri"),
        "nx_server_name": _server_name,
        "nx_ciphers": lambda v: _quote(filters.cipher_list(v, TEMPLATE_FIELD)),
    }.items()
}


def build_environment(template_dir: str = "") -> jinja2.Environment:
    return environment(template_dir, TEMPLATES, FILTERS, "nginx")


class NginxRenderer:
    def __init__(self, template_dir: str = "", version: str = "") -> None:
        self._version = version or RENDERER_VERSION
        self._template = build_environment(template_dir).get_template("nginx.conf.j2")

    def describe(self) -> Description:
        return Description(
            backend_type="nginx",
            renderer_version=self._version,
            supported_features=SUPPORTED_FEATURES,
        )

    def render(
        self,
        loadbalancer: graph_pb2.LoadBalancer,
        target: renderer_service_pb2.Target,
        materials: Sequence[renderer_service_pb2.TlsMaterial] = (),
    ) -> Rendering:
        data, certs = transform(loadbalancer, target, materials)
        text = self._template.render(lb=data)
        files = [RenderedFile(CONFIG_PATH, text.encode("utf-8"), CONFIG_MODE)]
        for path, material in sorted(certs.items()):
            files.append(RenderedFile(path, material.bundle_pem, tls.KEY_FILE_MODE))
        return Rendering.of(files, self._version)
