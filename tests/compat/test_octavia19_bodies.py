"""Every request Octavia 19 answered in tests/compat/octavia19/recorded.json, sent again to this API
in the same order: the status code, the response keys (recursively: the envelope, the object,
nested objects, list items) and the values that must match, against what Octavia answered.

The recording comes from the real Octavia 19.0.0 with its noop drivers
(deploy/compat/record_octavia19.py, docs/compat-octavia19.md). Every difference we keep is in
KNOWN_DIFFERENCES with its reason (a defect of ours is fixed, not listed). A case fails when it differs in a way the table does not list, and when the table lists a difference
that is gone, so the table stays true.
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote

import httpx
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from lbaas.health.v1 import heartbeat_pb2

from services.common.heartbeat_keys import derive_amphora_key, parse_key_lines
from services.health.domain.envelope import seal
from tests.support.api import Api
from tests.support.stack import RunningStack

pytestmark = pytest.mark.compat

RECORDED = json.loads((Path(__file__).parent / "octavia19" / "recorded.json").read_text())
CASES: list[dict] = RECORDED["cases"]

# Values that differ between any two deployments: times, and what the network and compute drivers
# made up (addresses, ports, compute ids, certificate expiry). Of these only the key and whether
# the value is null are compared.
VOLATILE = frozenset(
    {
        "created_at",
        "updated_at",
        "vip_address",
        "vip_network_id",
        "vip_port_id",
        "compute_id",
        "lb_network_ip",
        "ha_ip",
        "ha_port_id",
        "vrrp_ip",
        "vrrp_port_id",
        "cert_expiration",
    }
)


class Known(NamedTuple):
    """A difference we keep. case and path match exactly, or with * standing for anything.
    kind: status (the status code), missing (a key Octavia sends and we do not), extra (a key we
    send and Octavia does not), value (a value that must match and does not), encoding (the
    same text once percent-decoded), null (a volatile value one side leaves null), length (a
    list of another length), capture (an id a later case needs is not where Octavia has it). A
    key path names list items with []. values: for a value difference, (Octavia's, ours) when
    the row is about exactly those. reason: why we keep it."""

    case: str
    path: str
    kind: str
    reason: str
    values: tuple[object, object] | None = None


def _wording(case: str, ours: str) -> Known:
    """The fault's text differs; its status code and envelope match."""
    return Known(case, "faultstring", "value", f"wording: {ours}")


HEARTBEATLESS = (
    "Octavia's recording has no amphora heartbeats (noop amphora driver, no health manager), so "
    "its operating statuses stay where the API and worker left them; ours are ONLINE once the "
    "change is applied, as Octavia's are after an amphora's first heartbeat"
)

KNOWN_DIFFERENCES: tuple[Known, ...] = (
    # --- on purpose, or from how the recording was made
    Known(
        "v2-root",
        "",
        "value",
        'Octavia\'s GET /v2 answers the bare JSON string "v2"; we serve the v2 version '
        "document there",
    ),
    Known(
        "v2.0-root",
        "",
        "value",
        "/v2.0 is also the root of the Neutron-shaped network view (networks, subnets, ports) "
        'that clients read here; Octavia answers "v2"',
    ),
    Known(
        "provider-flavor-capabilities",
        "flavor_capabilities",
        "length",
        "no SR-IOV here (Octavia's sriov_vip and allow_member_sriov); ours adds backend "
        "(haproxy or nginx)",
    ),
    Known(
        "provider-az-capabilities",
        "availability_zone_capabilities",
        "length",
        "no volume-backed amphorae here, so no volume_zone",
    ),
    Known("lb-*", "*operating_status", "value", HEARTBEATLESS, values=("OFFLINE", "ONLINE")),
    Known("listener-*", "*operating_status", "value", HEARTBEATLESS, values=("OFFLINE", "ONLINE")),
    Known("pool-*", "*operating_status", "value", HEARTBEATLESS, values=("OFFLINE", "ONLINE")),
    Known(
        "lb-status-tree",
        "statuses.loadbalancer.listeners[].pools[].members[].operating_status",
        "value",
        HEARTBEATLESS + " (the member keeps the NO_MONITOR of Octavia's fully populated create)",
        values=("NO_MONITOR", "ONLINE"),
    ),
    Known(
        "lb-create-fully-populated",
        "loadbalancer.pools[].members[].operating_status",
        "value",
        "Octavia's fully populated create gives a member NO_MONITOR even in a pool with a "
        "monitor; we answer OFFLINE, as Octavia's member create does in such a pool",
        values=("NO_MONITOR", "OFFLINE"),
    ),
    Known(
        "l7policy-list",
        "l7policies[].operating_status",
        "value",
        "Octavia leaves an L7 policy made by a fully populated create OFFLINE (that flow marks "
        "only its provisioning status); one made alone goes ONLINE, as all of ours do",
        values=("OFFLINE", "ONLINE"),
    ),
    *(
        Known(
            "lb-create-fully-populated",
            path,
            "extra",
            "Octavia answers a fully populated create with its *FullResponse types, which leave "
            "out the back references; we answer with the objects a GET shows",
        )
        for path in (
            "loadbalancer.listeners[].loadbalancers",
            "loadbalancer.pools[].loadbalancers",
            "loadbalancer.pools[].healthmonitor_id",
            "loadbalancer.pools[].healthmonitor.pools",
        )
    ),
    Known(
        "pool-*",
        "*healthmonitor_id",
        "extra",
        "Octavia leaves healthmonitor_id out while a pool has no monitor (wsme drops an unset "
        "attribute); its API reference lists the field, and we send null",
    ),
    Known(
        "*-list-*",
        "*_links[].href",
        "encoding",
        "we percent-encode ':' in the links' query (sort=name%3Aasc): the same URL",
    ),
    _wording("provider-missing-capabilities", "ours starts with the field (provider)"),
    _wording("flavorprofile-create-bad-data", "ours names the field and says it is not JSON"),
    _wording("flavor-create-duplicate-name", "\"A flavor named 'f1' already exists.\""),
    _wording("flavorprofile-delete-in-use", '"Flavor profile <id> is in use by a flavor."'),
    _wording("az-create-duplicate-name", "\"An availability zone named 'az1' already exists.\""),
    _wording("quota-update-bad-value", "ours gives the range (-1 to 2000000000)"),
    _wording("lb-create-unknown-attribute", "ours names the attribute as the field"),
    _wording(
        "lb-create-no-vip",
        "ours names vip_subnet_id and offers vip_subnet_id or vip_network_id (no vip_port_id: "
        "no Neutron ports here)",
    ),
    _wording("listener-create-duplicate-port", "ours names the load balancer and the port"),
    _wording("pool-create-listener-has-default", "ours names the listener"),
    _wording("member-create-duplicate", "ours names the pool"),
    _wording("hm-create-second-on-pool", "ours names the pool"),
    _wording("hm-create-bad-delay", "ours names the field (delay); Octavia quotes the whole body"),
)


# ----------------------------------------------------------------------------- comparing


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True)


@dataclass(frozen=True)
class Difference:
    """One difference; octavia and ours are the two values as JSON text, where they matter."""

    path: str
    kind: str
    octavia: str = ""
    ours: str = ""

    @classmethod
    def of_values(cls, path: str, kind: str, octavia: object, ours: object) -> Difference:
        return cls(path, kind, _json(octavia), _json(ours))

    def __str__(self) -> str:
        values = f": Octavia {self.octavia}, ours {self.ours}" if self.octavia or self.ours else ""
        return f"{self.kind} {self.path or '(the response)'}{values}"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _pairs(expected: list, actual: list) -> list[tuple[object, object]]:
    """List items side by side: by id, else by name, when every recorded one is there; else in
    order (lists of equal length only)."""
    for key in ("id", "name"):
        index = {item.get(key): item for item in actual if isinstance(item, dict)}
        index.pop(None, None)
        if all(isinstance(e, dict) and e.get(key) in index for e in expected):
            return [(e, index[e[key]]) for e in expected]
    return list(zip(expected, actual, strict=True))


def compare(expected: object, actual: object, path: str = "") -> set[Difference]:
    """What differs between Octavia's answer (its placeholders filled with our ids) and ours."""
    out: set[Difference] = set()
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in expected.keys() - actual.keys():
            out.add(Difference(_join(path, key), "missing"))
        for key in actual.keys() - expected.keys():
            out.add(Difference(_join(path, key), "extra"))
        for key in expected.keys() & actual.keys():
            e, a = expected[key], actual[key]
            if key not in VOLATILE:
                out |= compare(e, a, _join(path, key))
            elif (e is None) != (a is None):
                out.add(Difference.of_values(_join(path, key), "null", e, a))
        return out
    if (
        isinstance(expected, list)
        and isinstance(actual, list)
        and any(isinstance(item, dict) for item in expected + actual)
    ):
        items = path + "[]"
        if len(expected) == len(actual):
            for e, a in _pairs(expected, actual):
                out |= compare(e, a, items)
            return out
        out.add(Difference.of_values(path, "length", len(expected), len(actual)))
        # Still the keys, taken over all items of each side.
        keys_e = {k for item in expected if isinstance(item, dict) for k in item}
        keys_a = {k for item in actual if isinstance(item, dict) for k in item}
        out |= {Difference(_join(items, key), "missing") for key in keys_e - keys_a}
        out |= {Difference(_join(items, key), "extra") for key in keys_a - keys_e}
        return out
    if _canonical(expected) != _canonical(actual):
        same_url = (
            isinstance(expected, str)
            and isinstance(actual, str)
            and unquote(expected) == unquote(actual)
        )
        out.add(Difference.of_values(path, "encoding" if same_url else "value", expected, actual))
    return out


ONE_OF = "Value should be one of: "


def _canonical(value: object) -> object:
    """Octavia lists an enum's values in a Python set's order, which changes from run to run:
    compared as a set."""
    if isinstance(value, str) and ONE_OF in value:
        head, _, listed = value.partition(ONE_OF)
        return head + ONE_OF + ", ".join(sorted(listed.split(", ")))
    return value


def _glob(pattern: str, text: str) -> bool:
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), text) is not None


def explains(row: Known, case: str, found: Difference) -> bool:
    return (
        _glob(row.case, case)
        and _glob(row.path, found.path)
        and row.kind == found.kind
        and (row.values is None or tuple(map(_json, row.values)) == (found.octavia, found.ours))
    )


# ----------------------------------------------------------------------------- replaying

PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def fill(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def fill_data(data: object, values: dict[str, str]) -> object:
    return json.loads(fill(json.dumps(data), values))


def dig(data: object, dotted: str) -> object:
    for part in dotted.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]  # type: ignore[index]
    return data


def wait(http: httpx.Client, what: str, values: dict[str, str], timeout: float = 30) -> None:
    kind, _, arg = what.partition(":")
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if kind == "lb":
            r = http.get(f"/v2/lbaas/loadbalancers/{values[arg]}")
            last = (
                r.json()["loadbalancer"]["provisioning_status"] if r.is_success else r.status_code
            )
            if last in ("ACTIVE", "ERROR"):
                return
        else:
            r = http.get(fill(arg, values))
            last = r.status_code
            if last == 404:
                return
        time.sleep(0.05)
    raise AssertionError(f"{what}: not reached within {timeout}s (last: {last!r})")


def heartbeat(stack: RunningStack, http: httpx.Client, amphora_id: str, listener_id: str) -> None:
    """As the recording gave Octavia (a heartbeat with zero counters for the listener, through
    its health manager's code): the amphora's signed heartbeat to this stack's health service,
    until the amphora's stats show it."""
    keys = stack.env.get("LBAAS_HEARTBEAT_KEY_FILE") or stack.run_dir / "heartbeat.keys"
    key_id, master = parse_key_lines(Path(keys).read_text())[0]  # the first one signs
    host, port = stack.env["LBAAS_HEALTH_UDP_ADDR"].rsplit(":", 1)
    deadline = time.monotonic() + 15
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for sequence in itertools.count(1):
            sent_at = Timestamp()
            sent_at.GetCurrentTime()
            beat = heartbeat_pb2.Heartbeat(
                amphora_id=amphora_id,
                sequence=sequence,
                sent_at=sent_at,
                boot_id="octavia19-compat",
                listeners=[heartbeat_pb2.ListenerReport(listener_id=listener_id, status="OPEN")],
            )
            sock.sendto(
                seal(beat, key_id, derive_amphora_key(master, amphora_id)), (host, int(port))
            )
            time.sleep(0.2)
            r = http.get(f"/v2/octavia/amphorae/{amphora_id}/stats")
            if r.is_success and r.json()["amphora_stats"]:
                return
            assert time.monotonic() < deadline, (
                f"no stats after heartbeats: {r.status_code} {r.text}"
            )


def _needs(what: str) -> set[str]:
    """The placeholders a wait needs: lb:<name>, or those in gone:<path>."""
    kind, _, arg = what.partition(":")
    return {arg} if kind == "lb" else set(PLACEHOLDER.findall(arg))


@dataclass
class Observed:
    status: int
    body: object
    differences: set[Difference]


@pytest.fixture(scope="module")
def replayed(rest: Api, noop_stack: RunningStack, subnet_id: str) -> dict[str, Observed]:
    """Every recorded case sent to this API in order, with its differences."""
    values = {
        "subnet": subnet_id,
        "project": noop_stack.project("admin"),
        "base": str(rest.http.base_url).rstrip("/"),
    }
    observed: dict[str, Observed] = {}
    for case in CASES:
        path = fill(case["path"], values)
        unfilled = PLACEHOLDER.findall(path + fill(json.dumps(case["body"]), values))
        if unfilled:  # an earlier case made no such id here: that case has a capture difference
            missing = Difference(",".join(sorted(set(unfilled))), "capture")
            observed[case["name"]] = Observed(0, None, {missing})
            continue
        if "heartbeat" in case:
            beat = case["heartbeat"]
            heartbeat(noop_stack, rest.http, values[beat["amphora"]], values[beat["listener"]])
        body = fill_data(case["body"], values) if case["body"] is not None else None
        r = rest.http.request(case["method"], path, json=body)
        data = r.json() if r.content else None
        differences = set()
        if r.status_code != case["status"]:
            differences.add(Difference.of_values("", "status", case["status"], r.status_code))
        for name, dotted in case["capture"].items():
            try:
                values[name] = str(dig(data, dotted))
            except (KeyError, IndexError, TypeError, ValueError):
                differences.add(Difference(dotted, "capture"))
        differences |= compare(fill_data(case["response"], values), data)
        for what in case["wait"]:
            if not _needs(what) - values.keys():
                wait(rest.http, what, values)
        observed[case["name"]] = Observed(r.status_code, data, differences)
    return observed


@pytest.mark.parametrize("case", [c["name"] for c in CASES])
def test_matches_octavia19(replayed: dict[str, Observed], case: str):
    """Every difference of this case is one KNOWN_DIFFERENCES explains."""
    seen = replayed[case]
    rows = [row for row in KNOWN_DIFFERENCES if _glob(row.case, case)]
    new = sorted(
        (str(d) for d in seen.differences if not any(explains(r, case, d) for r in rows)),
    )
    assert not new, (
        f"{case}: differs from Octavia 19 in ways KNOWN_DIFFERENCES does not list:\n  "
        + "\n  ".join(new)
        + f"\nour answer: {seen.status} {json.dumps(seen.body)[:3000]}"
    )


def test_every_known_difference_is_still_there(replayed: dict[str, Observed]):
    """A row that explains nothing any more is removed, so the table stays true."""
    stale = [
        row
        for row in KNOWN_DIFFERENCES
        if not any(
            explains(row, case, d) for case, seen in replayed.items() for d in seen.differences
        )
    ]
    assert not stale, "no longer different from Octavia 19 (remove these rows):\n" + "\n".join(
        map(repr, stale)
    )


def test_the_table_names_recorded_cases():
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names))
    assert all(any(_glob(row.case, n) for n in names) for row in KNOWN_DIFFERENCES)
