"""Strict shape checks for every value that may reach a config file.

Each check either returns the value in canonical form or raises InvalidInput naming the field.
Nothing is escaped or quoted: a value that could need quoting is rejected instead. Patterns are
applied with fullmatch: "$" alone would accept a trailing newline.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection

from services.common.errors import InvalidInput

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# RFC 3986 path characters minus those haproxy's config parser gives a meaning to: quotes
# (quoting), '#' (comment), backslash (escape), whitespace. Percent encoding still expresses
# them. '$' stays: haproxy expands environment variables only inside double quotes, and the path
# is written unquoted. '?' and a query string are allowed.
_URL_PATH = re.compile(r"^/[A-Za-z0-9._~!$&()*+,;=:@%/?-]*$")
_EXPECTED_CODES = re.compile(r"^(\d{3})(?:-(\d{3})|((?:,\d{3})*))$")
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_RUNTIME_DIR = re.compile(r"^/[A-Za-z0-9._/-]*$")
# A bare word: what keywords chosen by the renderer itself look like.
_TOKEN = re.compile(r"^[A-Za-z0-9._/-]{1,64}$")

HTTP_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "OPTIONS", "PATCH", "CONNECT"}
)
HTTP_VERSIONS = frozenset({"1.0", "1.1"})
# Octavia's column; haproxy takes a config line this long.
MAX_URL_PATH = 2048
# sockaddr_un.sun_path is 108 bytes with its NUL; the longest name appended is "/internal.sock".
MAX_RUNTIME_DIR = 107 - len("/internal.sock")


def _require_str(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string", field=field)
    return value


def uuid_id(value: object, field: str) -> str:
    text = _require_str(value, field)
    if not _UUID.fullmatch(text):
        raise InvalidInput(f"{field} must be a UUID", field=field)
    return text


def ip_address(value: object, field: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    text = _require_str(value, field)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise InvalidInput(f"{field} must be an IPv4 or IPv6 address", field=field) from None
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id is not None:
        raise InvalidInput(f"{field} must not carry an IPv6 zone", field=field)
    return address


def int_range(value: object, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{field} must be an integer", field=field)
    if not low <= value <= high:
        raise InvalidInput(f"{field} must be between {low} and {high}", field=field)
    return value


def one_of(value: object, field: str, allowed: Collection[str]) -> str:
    text = _require_str(value, field)
    if text not in allowed:
        raise InvalidInput(f"{field} must be one of {', '.join(sorted(allowed))}", field=field)
    return text


def url_path(value: object, field: str) -> str:
    text = _require_str(value, field)
    if len(text) > MAX_URL_PATH or not _URL_PATH.fullmatch(text):
        raise InvalidInput(
            f"{field} must be an absolute URL path without spaces, quotes, '#' or '\\'",
            field=field,
        )
    return text


def expected_codes(value: object, field: str) -> str:
    """Octavia's forms: "200", "200,202,204" or "200-204", codes 100-599."""
    text = _require_str(value, field)
    match = _EXPECTED_CODES.fullmatch(text)
    if match is None:
        raise InvalidInput(f"{field} must look like 200, 200,202 or 200-204", field=field)
    codes = [int(code) for code in re.findall(r"\d{3}", text)]
    if any(not 100 <= code <= 599 for code in codes):
        raise InvalidInput(f"{field} codes must be between 100 and 599", field=field)
    if match.group(2) is not None and codes[0] > codes[1]:
        raise InvalidInput(f"{field} range must be low-high", field=field)
    return text


def hostname(value: object, field: str) -> str:
    text = _require_str(value, field)
    labels = text[:-1].split(".") if text.endswith(".") else text.split(".")
    if len(text) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise InvalidInput(f"{field} must be a DNS host name", field=field)
    return text


def runtime_dir(value: object, field: str) -> str:
    text = _require_str(value, field)
    parts = text.split("/")
    if (
        len(text) > MAX_RUNTIME_DIR
        or not _RUNTIME_DIR.fullmatch(text)
        or ".." in parts
        or text.endswith("/")
        and text != "/"
    ):
        raise InvalidInput(
            f"{field} must be an absolute path of at most {MAX_RUNTIME_DIR} characters "
            "made of letters, digits, '.', '_', '-' and '/'",
            field=field,
        )
    return text


# A Linux interface name: at most IFNAMSIZ - 1 bytes, never "." or ".." (the kernel refuses
# '/', ':' and whitespace; this keeps to what needs no quoting anywhere).
_INTERFACE = re.compile(r"^(?!\.{1,2}$)[A-Za-z0-9_.-]{1,15}$")


def interface_name(value: object, field: str) -> str:
    text = _require_str(value, field)
    if not _INTERFACE.fullmatch(text):
        raise InvalidInput(
            f"{field} must be an interface name of 1-15 letters, digits, '_', '.' or '-'",
            field=field,
        )
    return text


def token(value: object, field: str) -> str:
    text = _require_str(value, field)
    if not _TOKEN.fullmatch(text):
        raise InvalidInput(f"{field} must be a bare word", field=field)
    return text


# Header and cookie names: the shape Octavia's cookie names have (and every real header name),
# so they can sit unquoted inside a sample fetch's parentheses.
_HTTP_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,255}$")
# Printable ASCII except space, quotes and backslash: what may sit inside haproxy's strong
# (single) quotes, where nothing else is interpreted.
_PATTERN = re.compile(r"^[!#-&(-\[\]-~]{1,255}$")
# A regex may also hold backslashes: inside single quotes haproxy passes them through verbatim.
_REGEX = re.compile(r"^[!#-&(-~]{1,255}$")
_REDIRECT_URL = re.compile(
    r"^https?://[A-Za-z0-9._~-]+(?::\d{1,5})?(?:[/?#][A-Za-z0-9._~:/?#\[\]@!$&()*+,;=%-]*)?$"
)
MAX_REDIRECT_URL = 2048


def cidr(value: object, field: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """An IPv4 or IPv6 network; host bits are cleared (10.1.2.3/8 becomes 10.0.0.0/8)."""
    text = _require_str(value, field)
    if "%" in text or not text.isascii() or text.strip() != text:
        raise InvalidInput(f"{field} must be an IPv4 or IPv6 CIDR", field=field)
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise InvalidInput(f"{field} must be an IPv4 or IPv6 CIDR", field=field) from None


def http_name(value: object, field: str) -> str:
    """A header or cookie name: letters, digits, '_', '.', '-'."""
    text = _require_str(value, field)
    if not _HTTP_NAME.fullmatch(text):
        raise InvalidInput(
            f"{field} must be a header or cookie name of letters, digits, '_', '.' or '-'",
            field=field,
        )
    return text


def match_pattern(value: object, field: str) -> str:
    """A literal ACL pattern: 1-255 printable ASCII characters, no spaces, quotes or '\\'."""
    text = _require_str(value, field)
    if not _PATTERN.fullmatch(text):
        raise InvalidInput(
            f"{field} must be 1-255 printable characters without spaces, quotes or '\\'",
            field=field,
        )
    return text


def regex(value: object, field: str) -> str:
    """A regular expression that compiles and holds no spaces, quotes or control characters."""
    text = _require_str(value, field)
    if not _REGEX.fullmatch(text):
        raise InvalidInput(
            f"{field} must be a regular expression of 1-255 printable characters "
            "without spaces or quotes",
            field=field,
        )
    try:
        re.compile(text)
    except re.error as err:
        raise InvalidInput(
            f"{field} is not a valid regular expression: {err}", field=field
        ) from None
    return text


def redirect_url(value: object, field: str) -> str:
    """An absolute http(s) URL without spaces, quotes, backslashes or control characters."""
    text = _require_str(value, field)
    if len(text) > MAX_REDIRECT_URL or not _REDIRECT_URL.fullmatch(text):
        raise InvalidInput(
            f"{field} must be an http:// or https:// URL without spaces, quotes or '\\'",
            field=field,
        )
    return text


# --- TLS values (certificate file paths, SNI names, cipher strings, ALPN, DN fields) ----------

# A path relative to the rendered tree: plain segments, no "..", nothing a config parser reads.
_RELATIVE_FILE = re.compile(
    r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}(?:/[A-Za-z0-9_][A-Za-z0-9._-]{0,127}){0,7}$"
)
# An OpenSSL cipher string: names joined by ':' (or ','), with '!', '+', '-', '@STRENGTH' and
# '@SECLEVEL=n'. No spaces, quotes, '#', '$' or backslash.
_CIPHERS = re.compile(r"^[A-Za-z0-9_.+!@=-]{1,128}(?:[:,][A-Za-z0-9_.+!@=-]{1,128}){0,127}$")
# A distinguished-name attribute as haproxy's ssl_c_s_dn(<entry>) takes it: a short name such as
# CN, OU or emailAddress, or a dotted OID.
_DN_FIELD = re.compile(r"^(?:[A-Za-z][A-Za-z0-9]{0,63}|[0-2](?:\.\d{1,9}){1,31})$")
ALPN_PROTOCOLS = frozenset({"h2", "http/1.1", "http/1.0"})
MAX_CIPHERS = 2048


def relative_file(value: object, field: str) -> str:
    """A file path relative to the rendered tree: segments of letters, digits, '.', '_', '-'
    that do not start with '.' (so never '..'), at most 8 deep."""
    text = _require_str(value, field)
    if not _RELATIVE_FILE.fullmatch(text):
        raise InvalidInput(f"{field} must be a relative path of plain file names", field=field)
    return text


def sni_name(value: object, field: str) -> str:
    """A DNS host name or a wildcard one ("*.example.com"), as an SNI filter."""
    text = _require_str(value, field)
    hostname(text[2:] if text.startswith("*.") else text, field)
    return text


def openssl_ciphers(value: object, field: str) -> str:
    """An OpenSSL cipher string, each name non-empty; ',' separators are normalised to ':'."""
    text = _require_str(value, field)
    if len(text) > MAX_CIPHERS or not _CIPHERS.fullmatch(text):
        raise InvalidInput(
            f"{field} must be an OpenSSL cipher string (names joined by ':')", field=field
        )
    return text.replace(",", ":")


def alpn_protocol(value: object, field: str) -> str:
    return one_of(value, field, ALPN_PROTOCOLS)


def dn_field(value: object, field: str) -> str:
    """A distinguished-name attribute: a short name (CN, OU, emailAddress) or a dotted OID."""
    text = _require_str(value, field)
    if not _DN_FIELD.fullmatch(text):
        raise InvalidInput(
            f"{field} must be a distinguished name field such as CN, OU or an OID", field=field
        )
    return text


# OpenSSL cipher strings: names, separators and the !, +, -, @ operators (e.g.
# "ECDHE+AESGCM:!aNULL:@STRENGTH"); nothing a config parser gives a meaning to.
_CIPHER_LIST = re.compile(r"^[A-Za-z0-9!+@=:._,-]{1,2048}$")
# Characters nginx accepts in a variable name ($http_x_forwarded_for, $cookie_session_id).
_VARIABLE_NAME = re.compile(r"^[A-Za-z0-9_]{1,255}$")


def cipher_list(value: object, field: str) -> str:
    """An OpenSSL cipher string of names joined by ':' (or ','), with OpenSSL's operators."""
    text = _require_str(value, field)
    if not _CIPHER_LIST.fullmatch(text):
        raise InvalidInput(
            f"{field} must be an OpenSSL cipher string of letters, digits and !+@=:._,-",
            field=field,
        )
    return text


def variable_name(value: object, field: str) -> str:
    """A name usable in an nginx variable: letters, digits and '_' only."""
    text = _require_str(value, field)
    if not _VARIABLE_NAME.fullmatch(text):
        raise InvalidInput(f"{field} must be made of letters, digits and '_'", field=field)
    return text
