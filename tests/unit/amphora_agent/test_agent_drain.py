"""amphora_agent.drain without I/O: /proc/net/tcp{,6} lines as the kernel prints them, which
states count, the nftables ruleset, which addresses are refused, and the capability."""

from __future__ import annotations

import asyncio
import ipaddress
from types import SimpleNamespace

import grpc
import pytest
from lbaas.amphora.v1 import amphora_service_pb2 as pb

from amphora_agent import drain
from amphora_agent.applier import Applier
from amphora_agent.config import parse_settings
from amphora_agent.service import CAPABILITIES, DRAIN_CAPABILITY, AgentService

ip = ipaddress.ip_address

# Taken from a real /proc/net/tcp: a listener on 127.0.0.5, a connection to it from 127.0.0.1
# (both ends, the server's not accept()ed yet: inode 0) and one from 127.0.0.1 to 127.0.0.9.
TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1302 1 000000000dac30bd 100 0 0 10 0
   1: 0500007F:A2DD 00000000:0000 0A 00000000:00000001 00:00000000 00000000     0        0 1897831 2 0000000022e5b521 100 0 0 10 0
   2: 0100007F:C9F4 0500007F:A2DD 01 00000000:00000000 00:00000000 00000000     0        0 1897833 2 00000000e3573bb2 20 0 0 10 -1
   3: 0500007F:A2DD 0100007F:C9F4 01 00000000:00000000 00:00000000 00000000     0        0 0 1 00000000ba5a7eda 20 0 0 10 -1
   4: 0100007F:B6E0 0900007F:CECB 01 00000000:00000000 00:00000000 00000000     0        0 1897834 2 000000001658ba31 20 0 0 10 -1
"""  # noqa: E501
# A real /proc/net/tcp6: a listener on ::1 and a connection to it (both ends), a dual-stack
# listener on :: with an IPv4 client of it (local ::ffff:127.0.0.9), and a line for 2001:db8::1.
TCP6 = """\
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:E3F7 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1897828 1 00000000188c2f78 100 0 0 10 0
   1: 00000000000000000000000000000000:CECB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1897832 1 000000007cf47204 100 0 0 10 0
   2: 00000000000000000000000001000000:E3F7 00000000000000000000000001000000:B2BE 01 00000000:00000000 00:00000000 00000000     0        0 1897830 1 00000000cbd5bae5 20 0 0 10 -1
   3: 0000000000000000FFFF00000900007F:CECB 0000000000000000FFFF00000100007F:B6E0 01 00000000:00000000 00:00000000 00000000     0        0 1897835 1 00000000d09d702c 20 0 0 10 -1
   4: 00000000000000000000000001000000:B2BE 00000000000000000000000001000000:E3F7 01 00000000:00000000 00:00000000 00000000     0        0 1897829 2 0000000088a385c7 20 0 0 10 -1
   5: B80D0120000000000000000001000000:0050 B80D0120000000000000000002000000:D431 08 00000000:00000000 00:00000000 00000000     0        0 1897840 1 0000000000000000 20 0 0 10 -1
"""  # noqa: E501


def _line(local: str, state: str) -> str:
    return f"   0: {local} 0A01A8C0:D431 {state} 00000000:00000000 00:00000000 00000000     0 0 1"


@pytest.mark.parametrize(
    ("hex_address", "address"),
    [
        ("0100007F", "127.0.0.1"),
        ("0A01A8C0", "192.168.1.10"),  # byte order: the first octet is the last pair
        ("00000000", "0.0.0.0"),
        ("00000000000000000000000001000000", "::1"),
        ("B80D0120000000000000000001000000", "2001:db8::1"),
        ("B80D01200000000000000000FFFFFFFF", "2001:db8::ffff:ffff"),
        ("000080FE00000000FF0000023E5E00FE", "fe80::200:ff:fe00:5e3e"),
        ("0000000000000000FFFF00000900007F", "127.0.0.9"),  # IPv4 client of a dual-stack socket
        ("0000000000000000ffff00000900007f", "127.0.0.9"),
    ],
)
def test_decode_address(hex_address: str, address: str) -> None:
    assert drain.decode_address(hex_address) == ip(address)


def test_decode_refuses_other_lengths() -> None:
    with pytest.raises(ValueError):
        drain.decode_address("0100007F00")


def test_sockets_of_real_tables() -> None:
    assert list(drain.sockets(TCP)) == [
        (ip("0.0.0.0"), 2024, "0A"),
        (ip("127.0.0.5"), 0xA2DD, "0A"),
        (ip("127.0.0.1"), 0xC9F4, "01"),
        (ip("127.0.0.5"), 0xA2DD, "01"),
        (ip("127.0.0.1"), 0xB6E0, "01"),
    ]
    assert list(drain.sockets(TCP6)) == [
        (ip("::1"), 0xE3F7, "0A"),
        (ip("::"), 0xCECB, "0A"),
        (ip("::1"), 0xE3F7, "01"),
        (ip("127.0.0.9"), 0xCECB, "01"),
        (ip("::1"), 0xB2BE, "01"),
        (ip("2001:db8::1"), 80, "08"),
    ]
    assert list(drain.sockets(TCP.splitlines()[0] + "\n\n")) == []


def test_busy_count_is_by_local_address() -> None:
    # The listener does not count; the connection accepted by the kernel but not by the server
    # does (inode 0); the client end of a connection to the address does not (local 127.0.0.1).
    assert drain.busy_count(TCP, [ip("127.0.0.5")]) == 1
    assert drain.busy_count(TCP, [ip("127.0.0.1")]) == 2
    assert drain.busy_count(TCP, [ip("10.0.0.1")]) == 0
    assert drain.busy_count(TCP6, [ip("::1")]) == 2
    assert drain.busy_count(TCP6, [ip("127.0.0.9")]) == 1  # through the dual-stack socket
    assert drain.busy_count(TCP6, [ip("2001:db8::1"), ip("::1")]) == 3


@pytest.mark.parametrize(
    ("state", "busy"),
    [
        ("01", True),  # ESTABLISHED
        ("02", False),  # SYN_SENT: an outgoing connect, not a client's
        ("03", True),  # SYN_RECV
        ("04", True),  # FIN_WAIT1
        ("05", False),  # FIN_WAIT2
        ("06", False),  # TIME_WAIT
        ("07", False),  # CLOSE
        ("08", True),  # CLOSE_WAIT
        ("09", True),  # LAST_ACK
        ("0A", False),  # LISTEN
        ("0B", True),  # CLOSING
        ("0b", True),
    ],
)
def test_which_states_count(state: str, busy: bool) -> None:
    header = TCP.splitlines()[0]
    v4 = f"{header}\n{_line('0A01A8C0:0050', state)}\n"
    v6 = f"{header}\n{_line('B80D0120000000000000000001000000:0050', state)}\n"
    assert drain.busy_count(v4, [ip("192.168.1.10")]) == int(busy)
    assert drain.busy_count(v6, [ip("2001:db8::1")]) == int(busy)


def test_ruleset_replaces_the_table_in_one_transaction() -> None:
    addresses = drain.parse_addresses(["10.0.0.5", "2001:db8::1"])
    assert drain.ruleset("lbaas_drain_x", addresses) == (
        "table inet lbaas_drain_x {}\n"
        "delete table inet lbaas_drain_x\n"
        "table inet lbaas_drain_x {\n"
        "\tchain input {\n"
        "\t\ttype filter hook input priority filter; policy accept;\n"
        "\t\tip daddr 10.0.0.5 tcp flags & (syn | ack) == syn counter drop\n"
        "\t\tip6 daddr 2001:db8::1 tcp flags & (syn | ack) == syn counter drop\n"
        "\t}\n"
        "}\n"
    )
    # Lifting: gone, whether it was there or not.
    assert drain.ruleset("lbaas_drain_x", ()) == (
        "table inet lbaas_drain_x {}\ndelete table inet lbaas_drain_x\n"
    )


def test_table_name() -> None:
    assert drain.table_name("1c0ffee0-0000-4000-8000-00000000B001") == (
        "lbaas_drain_1c0ffee000004000800000000000b001"
    )
    assert drain.table_name("") == "lbaas_drain"
    assert drain.table_name("-;}\n") == "lbaas_drain"
    assert len(drain.table_name("a" * 200)) == 64
    for bad in ("", "1abc", "x y", "x;flush ruleset", "a" * 65):
        with pytest.raises(ValueError):
            drain.ruleset(bad, ())


def test_parse_addresses() -> None:
    assert drain.parse_addresses(
        ["10.0.0.5", "2001:DB8::1", "10.0.0.5", "::ffff:10.0.0.6", "2001:db8:0::1"]
    ) == (ip("10.0.0.5"), ip("2001:db8::1"), ip("10.0.0.6"))
    assert drain.parse_addresses([]) == ()


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("10.0.0.5/32", "not an IP address"),
        (" 10.0.0.5", "not an IP address"),
        ("10.0.0.5\n", "not an IP address"),
        ("", "not an IP address"),
        ("vip.example", "not an IP address"),
        ("fe80::1%eth0", "scope"),
        ("fe80::1%x}\nflush ruleset", "scope"),
        ("0.0.0.0", "not a unicast address"),
        ("::", "not a unicast address"),
        ("224.0.0.18", "not a unicast address"),
        ("ff02::1", "not a unicast address"),
    ],
)
def test_refused_addresses(value: str, why: str) -> None:
    with pytest.raises(drain.AddressError, match=why):
        drain.parse_addresses(["10.0.0.1", value])


def test_too_many_addresses() -> None:
    many = [f"10.0.{i // 250}.{i % 250 + 1}" for i in range(drain.MAX_ADDRESSES + 1)]
    assert len(drain.parse_addresses(many[:-1])) == drain.MAX_ADDRESSES
    with pytest.raises(drain.AddressError, match="at most"):
        drain.parse_addresses(many)


def test_flags() -> None:
    base = ["--amphora-id", "a", "--listen", "127.0.0.1:0", "--tls-cert", "c", "--tls-key", "k",
            "--client-ca", "ca", "--runtime-dir", "/tmp/x", "--heartbeat-target", "127.0.0.1:1",
            "--heartbeat-key-file", "h"]  # fmt: skip
    defaults = parse_settings(base)
    assert defaults.nft_bin == "nft" and defaults.drain_hold == 60.0
    given = parse_settings([*base, "--nft-bin", "/opt/nft", "--drain-hold", "2.5"])
    assert given.nft_bin == "/opt/nft" and given.drain_hold == 2.5
    with pytest.raises(SystemExit):
        parse_settings([*base, "--drain-hold", "0"])


class _Aborted(Exception):
    pass


class _Context:
    code: grpc.StatusCode | None = None

    async def abort(self, code, details):
        self.code, self.details = code, details
        raise _Aborted


def drain_request(addresses: list[str]) -> pb.DrainRequest:
    return pb.DrainRequest(addresses=addresses, timeout_ms=100)


def _service(tmp_path, drainer) -> AgentService:
    return AgentService(
        amphora_id="a", runtime_dir=str(tmp_path), backend="haproxy",
        versions={"haproxy": "2.6.12"},
        applier=Applier(str(tmp_path), SimpleNamespace(main_file="haproxy.cfg")),
        stats=None, certificate=None, drainer=drainer,
    )  # fmt: skip


def test_capability_only_when_drain_works(tmp_path) -> None:
    drainer = drain.Drainer("/nonexistent/nft", "lbaas_drain_a", 60.0)
    assert not drainer.available  # no such binary
    info = asyncio.run(_service(tmp_path, drainer).GetInfo(None, None))
    assert list(info.capabilities) == list(CAPABILITIES)
    drainer.available = True  # as after start() ran nft once
    info = asyncio.run(_service(tmp_path, drainer).GetInfo(None, None))
    assert list(info.capabilities) == [*CAPABILITIES, DRAIN_CAPABILITY]
    info = asyncio.run(_service(tmp_path, None).GetInfo(None, None))
    assert DRAIN_CAPABILITY not in info.capabilities


@pytest.mark.parametrize(
    ("drainer_available", "addresses", "code"),
    [
        (True, ["10.0.0.1", "10.0.0.1/24"], grpc.StatusCode.INVALID_ARGUMENT),
        (False, ["10.0.0.1/24"], grpc.StatusCode.INVALID_ARGUMENT),
        (False, ["10.0.0.1"], grpc.StatusCode.UNIMPLEMENTED),
        (None, ["10.0.0.1"], grpc.StatusCode.UNIMPLEMENTED),
    ],
)
def test_drain_errors(tmp_path, drainer_available, addresses, code) -> None:
    drainer = None
    if drainer_available is not None:
        drainer = drain.Drainer("/nonexistent/nft", "lbaas_drain_a", 60.0)
        drainer.available = drainer_available  # refused before nft would run
    context = _Context()
    request = drain_request(addresses)
    with pytest.raises(_Aborted):
        asyncio.run(_service(tmp_path, drainer).Drain(request, context))
    assert context.code == code


def test_lifting_where_nothing_can_drain_succeeds(tmp_path) -> None:
    drainer = drain.Drainer("/nonexistent/nft", "lbaas_drain_a", 60.0)
    reply = asyncio.run(_service(tmp_path, drainer).Drain(drain_request([]), _Context()))
    assert reply.remaining == 0
