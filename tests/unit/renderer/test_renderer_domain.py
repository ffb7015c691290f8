"""Config hash, version parsing, feature table and settings of the renderer."""

from __future__ import annotations

import hashlib

import pytest

from services.common.errors import InvalidInput, Precondition
from services.renderer.config import Settings
from services.renderer.domain.hashing import config_hash
from services.renderer.domain.versions import FeatureTable, parse_version


def test_config_hash_matches_the_documented_algorithm() -> None:
    # Built by hand from docs/architecture.md: sorted by path, path NUL uint64_be(len) content.
    expected = hashlib.sha256(
        b"a.cfg\x00" + (3).to_bytes(8, "big") + b"abc"
        + b"haproxy.cfg\x00" + (0).to_bytes(8, "big")
    ).hexdigest()  # fmt: skip
    assert config_hash([("haproxy.cfg", b""), ("a.cfg", b"abc")]) == expected


def test_config_hash_separates_path_and_content() -> None:
    assert config_hash([("ab", b"c")]) != config_hash([("a", b"bc")])
    assert config_hash([("a", b"x"), ("b", b"")]) != config_hash([("a", b""), ("b", b"x")])
    assert config_hash([]) == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize(
    ("text", "version"),
    [("2.6.12", (2, 6, 12)), ("2.6.12-1+deb12u4", (2, 6, 12)), ("2.2", (2, 2, 0)),
     ("3.0.0~dev1", (3, 0, 0))],
)  # fmt: skip
def test_parse_version(text: str, version: tuple[int, int, int]) -> None:
    assert parse_version(text, field="v") == version


@pytest.mark.parametrize("text", ["", "2", "v2.6", "2.6.x", "2.6.12 evil", "2.6\n"])
def test_parse_version_rejects(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_version(text, field="v")


def test_feature_table_gates_by_version() -> None:
    table = FeatureTable(software="haproxy", minimums={"x": (2, 4, 0)})
    assert table.supports("x", (2, 4, 0)) and not table.supports("x", (2, 3, 99))
    table.require("x", (2, 8, 1))
    with pytest.raises(Precondition, match=r"feature x requires haproxy >= 2\.4\.0.*2\.3\.1"):
        table.require("x", (2, 3, 1))


def test_settings_from_env() -> None:
    settings = Settings.from_env({})
    assert (settings.backend, settings.bind_address, settings.log_level) == (
        "haproxy",
        "127.0.0.1:9891",
        "INFO",
    )
    custom = Settings.from_env(
        {"LBAAS_RENDERER_HAPROXY_ADDR": "127.0.0.1:0", "LBAAS_LOG_LEVEL": "debug"}
    )
    assert (custom.bind_address, custom.log_level) == ("127.0.0.1:0", "DEBUG")
    with pytest.raises(ValueError, match="LBAAS_RENDERER_BACKEND"):
        Settings.from_env({"LBAAS_RENDERER_BACKEND": "apache"})
    nginx = Settings.from_env(
        {"LBAAS_RENDERER_BACKEND": "nginx", "LBAAS_RENDERER_NGINX_ADDR": "127.0.0.1:7"}
    )
    assert (nginx.backend, nginx.bind_address) == ("nginx", "127.0.0.1:7")
    assert Settings.from_env({"LBAAS_RENDERER_BACKEND": "f5-as3"}).bind_address.endswith(":9895")
    with pytest.raises(ValueError, match="LBAAS_RENDERER_VERSION"):
        Settings.from_env({"LBAAS_RENDERER_TEMPLATE_DIR": "/tmp"})
