"""Config hash and path safety of the amphora agent."""

import pytest

from amphora_agent.applier import Applier, ConfigFile, RequestError
from amphora_agent.confighash import UnsafePathError, check_relative_path, config_hash

# sha256 of b"a.cfg\0" + u64be(3) + b"abc" + b"haproxy.cfg\0" + u64be(5) + b"hello", computed
# with sha256sum, independently of this code.
KNOWN = "5a7ce7a6af3dca931fb96aff6efea4061cd7f7ef7d3b453fb9e3153d757a72ca"


def test_hash_matches_the_documented_construction_in_any_input_order():
    assert config_hash([("haproxy.cfg", b"hello"), ("a.cfg", b"abc")]) == KNOWN
    assert config_hash([("a.cfg", b"abc"), ("haproxy.cfg", b"hello")]) == KNOWN


def test_hash_separates_path_and_content():
    assert config_hash([("ab", b"c")]) != config_hash([("a", b"bc")])


@pytest.mark.parametrize(
    "path",
    ["", "/etc/passwd", "../x", "a/../../x", "a/./b", "a//b", "a/", "a\\b", "x\x00y", ".."],
)
def test_unsafe_paths_are_refused(path):
    with pytest.raises(UnsafePathError):
        check_relative_path(path)


@pytest.mark.parametrize("path", ["haproxy.cfg", "certs/listener.pem", "a/b/c.map", "..hidden"])
def test_plain_relative_paths_pass(path):
    assert check_relative_path(path) == path


def _files(**named):
    return [ConfigFile(path, content) for path, content in named.items()]


def test_request_checks():
    files = _files(**{"haproxy.cfg": b"global\n"})
    good = config_hash((f.path, f.content) for f in files)
    Applier.check_request(files, good)
    with pytest.raises(RequestError, match="mismatch"):
        Applier.check_request(files, "0" * 64)
    with pytest.raises(RequestError, match="haproxy.cfg"):
        other = _files(**{"other.cfg": b"x"})
        Applier.check_request(other, config_hash([("other.cfg", b"x")]))
    twice = files + files
    with pytest.raises(RequestError, match="duplicate"):
        Applier.check_request(twice, config_hash((f.path, f.content) for f in twice))
    with pytest.raises(UnsafePathError):
        Applier.check_request(files + _files(**{"/abs": b""}), good)
