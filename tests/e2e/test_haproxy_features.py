"""haproxy features end to end, with every service as a process and real traffic through the VIP:
L7 routing by host, path, header and cookie (plus redirect and reject), cookie persistence, a
PROXY-protocol backend that receives the client's address, and a HEAD monitor whose expected
codes mark a member down when it answers 500."""

from __future__ import annotations

import socket
import threading
from collections import Counter

import httpx
import pytest

from tests.support.api import Api, member_of, wait_for
from tests.support.backends import Backend
from tests.support.stack import RunningStack, running_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack():
    with running_stack("lbaas-e2e-feat-") as running:
        yield running


@pytest.fixture
def api(stack: RunningStack):
    client = Api(stack.api_url, stack.token("member"))
    yield client
    client.close()


@pytest.fixture
def backends():
    started: list = []

    def make(name: str) -> Backend:
        b = Backend(name).start()
        started.append(b)
        return b

    yield make
    for b in started:
        b.stop()


class ProxyProtocolBackend:
    """An HTTP server that requires a PROXY protocol v1 header and answers with the source
    address it carried (what haproxy says the client was)."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.host, self.port = self._sock.getsockname()
        self.headers: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    data = b""
                    while b"\r\n\r\n" not in data and len(data) < 65536:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    first, _, _ = data.partition(b"\r\n")
                    line = first.decode("ascii", "replace")
                    if not line.startswith("PROXY "):
                        body = b"no proxy header"
                        status = b"400 Bad Request"
                    else:
                        self.headers.append(line)
                        # PROXY TCP4 <src> <dst> <sport> <dport>
                        body = line.split()[2].encode()
                        status = b"200 OK"
                    conn.sendall(
                        b"HTTP/1.1 " + status + b"\r\nContent-Length: "
                        + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
                    )  # fmt: skip
                except OSError:
                    pass

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()


def vip_subnet(api: Api) -> str:
    return api.get("/v2.0/subnets")["subnets"][0]["id"]


def get(url: str, **kwargs) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=5, **kwargs)
    except httpx.HTTPError:
        return None


def rule(type_: str, value: str, compare: str = "EQUAL_TO", key: str | None = None) -> dict:
    out = {"type": type_, "compare_type": compare, "value": value}
    if key:
        out["key"] = key
    return out


def test_l7_routing_redirect_reject_and_cookie_persistence(api: Api, backends) -> None:
    default, by_host, by_path, by_header, by_cookie = (
        backends(name) for name in ("default", "host", "path", "header", "cookie")
    )
    sticky = [backends("sticky-1"), backends("sticky-2")]

    def pool(name: str, members: list[Backend], **extra) -> dict:
        return {
            "name": name,
            "protocol": "HTTP",
            "lb_algorithm": "ROUND_ROBIN",
            "members": [{"address": b.host, "protocol_port": b.port} for b in members],
            **extra,
        }

    body = {
        "loadbalancer": {
            "name": "l7",
            "vip_subnet_id": vip_subnet(api),
            "listeners": [
                {
                    "name": "http",
                    "protocol": "HTTP",
                    "protocol_port": 8081,
                    "default_pool": pool("default", [default]),
                    "l7policies": [
                        {"action": "REJECT", "position": 1, "rules": [rule("PATH", "/forbidden")]},
                        {
                            "action": "REDIRECT_TO_URL",
                            "position": 2,
                            "redirect_url": "https://example.com/moved",
                            "redirect_http_code": 301,
                            "rules": [rule("PATH", "/old", "STARTS_WITH")],
                        },
                        {
                            "action": "REDIRECT_TO_POOL",
                            "position": 3,
                            "redirect_pool": pool("host", [by_host]),
                            "rules": [rule("HOST_NAME", "api.example.com")],
                        },
                        {
                            "action": "REDIRECT_TO_POOL",
                            "position": 4,
                            "redirect_pool": pool("path", [by_path]),
                            "rules": [rule("PATH", "/images/", "STARTS_WITH")],
                        },
                        {
                            "action": "REDIRECT_TO_POOL",
                            "position": 5,
                            "redirect_pool": pool("header", [by_header]),
                            "rules": [rule("HEADER", "beta", key="X-Tier")],
                        },
                        {
                            "action": "REDIRECT_TO_POOL",
                            "position": 6,
                            "redirect_pool": pool("cookie", [by_cookie]),
                            "rules": [rule("COOKIE", "blue", key="variant")],
                        },
                        {
                            "action": "REDIRECT_TO_POOL",
                            "position": 7,
                            "redirect_pool": pool(
                                "sticky",
                                sticky,
                                session_persistence={
                                    "type": "HTTP_COOKIE",
                                },
                            ),
                            "rules": [rule("PATH", "/app", "STARTS_WITH")],
                        },
                    ],
                }
            ],
        }
    }
    lb = api.post("/v2/lbaas/loadbalancers", body)["loadbalancer"]
    lb = api.wait_lb(lb["id"], timeout=90)
    base = f"http://{lb['vip_address']}:8081"

    def text(path: str = "/", **kwargs) -> str | None:
        r = get(base + path, **kwargs)
        return r.text if r is not None and r.status_code == 200 else None

    wait_for(lambda: text() == "default", 30, "default pool answering")
    assert text("/", headers={"Host": "api.example.com"}) == "host"
    assert text("/images/cat.png") == "path"
    assert text("/", headers={"X-Tier": "beta"}) == "header"
    assert text("/", headers={"X-Tier": "alpha"}) == "default"
    assert text("/", cookies={"variant": "blue"}) == "cookie"
    assert text("/", cookies={"variant": "green"}) == "default"

    rejected = get(base + "/forbidden")
    assert rejected is not None and rejected.status_code == 403
    moved = get(base + "/old/page")
    assert moved is not None and moved.status_code == 301
    assert moved.headers["location"] == "https://example.com/moved"

    # Without the cookie, requests are spread; with it, every request lands on one member.
    spread = Counter(text("/app") for _ in range(20))
    assert set(spread) == {"sticky-1", "sticky-2"}, spread
    with httpx.Client(base_url=base, timeout=5) as client:
        first = client.get("/app")
        assert first.status_code == 200
        assert client.cookies, "haproxy set no persistence cookie"
        pinned = Counter(client.get("/app").text for _ in range(20))
    assert pinned == Counter({first.text: 20}), pinned
    api.delete(f"/v2/lbaas/loadbalancers/{lb['id']}?cascade=true")


def test_proxy_protocol_backend_receives_the_client_address(api: Api) -> None:
    backend = ProxyProtocolBackend()
    try:
        body = {
            "loadbalancer": {
                "name": "proxy",
                "vip_subnet_id": vip_subnet(api),
                "listeners": [
                    {
                        "protocol": "HTTP",
                        "protocol_port": 8082,
                        "default_pool": {
                            "name": "proxied",
                            "protocol": "PROXY",
                            "lb_algorithm": "ROUND_ROBIN",
                            "members": [{"address": backend.host, "protocol_port": backend.port}],
                        },
                    }
                ],
            }
        }
        lb = api.post("/v2/lbaas/loadbalancers", body)["loadbalancer"]
        lb = api.wait_lb(lb["id"], timeout=90)
        url = f"http://{lb['vip_address']}:8082/"
        # Connect from a distinctive loopback source address: the backend must see it.
        source = "127.0.0.77"
        transport = httpx.HTTPTransport(local_address=source)
        with httpx.Client(transport=transport, timeout=5) as client:

            def through() -> str | None:
                try:
                    r = client.get(url)
                except httpx.HTTPError:
                    return None
                return r.text if r.status_code == 200 else None

            assert wait_for(through, 30, "PROXY backend answering") == source
        assert backend.headers and backend.headers[-1].startswith(f"PROXY TCP4 {source} ")
        api.delete(f"/v2/lbaas/loadbalancers/{lb['id']}?cascade=true")
    finally:
        backend.stop()


def test_head_monitor_with_expected_codes_marks_a_500_member_down(api: Api, backends) -> None:
    good, bad = backends("good"), backends("bad")
    body = {
        "loadbalancer": {
            "name": "monitored",
            "vip_subnet_id": vip_subnet(api),
            "listeners": [
                {
                    "protocol": "HTTP",
                    "protocol_port": 8083,
                    "default_pool": {
                        "name": "monitored",
                        "protocol": "HTTP",
                        "lb_algorithm": "ROUND_ROBIN",
                        "members": [
                            {"address": b.host, "protocol_port": b.port, "name": b.name}
                            for b in (good, bad)
                        ],
                        "healthmonitor": {
                            "type": "HTTP",
                            "http_method": "HEAD",
                            "url_path": "/health",
                            "expected_codes": "200-204",
                            "delay": 1,
                            "timeout": 1,
                            "max_retries": 1,
                            "max_retries_down": 1,
                        },
                    },
                }
            ],
        }
    }
    lb = api.post("/v2/lbaas/loadbalancers", body)["loadbalancer"]
    lb = api.wait_lb(lb["id"], timeout=90)
    pool_id = lb["pools"][0]["id"]
    members = {m["name"]: m["id"] for m in api.get(f"/v2/lbaas/pools/{pool_id}/members")["members"]}

    def status(name: str) -> str:
        return member_of(api.status_tree(lb["id"]), members[name])["operating_status"]

    wait_for(lambda: status("good") == status("bad") == "ONLINE", 30, "both members ONLINE")
    bad.status = 500
    wait_for(lambda: status("bad") == "ERROR", 30, "the 500 member ERROR")
    assert status("good") == "ONLINE"
    url = f"http://{lb['vip_address']}:8083/"
    seen = Counter(r.text for r in (get(url) for _ in range(20)) if r is not None)
    assert seen == Counter({"good": 20}), seen
    bad.status = 200
    wait_for(lambda: status("bad") == "ONLINE", 30, "the member back ONLINE")
    api.delete(f"/v2/lbaas/loadbalancers/{lb['id']}?cascade=true")


def test_a_member_enabled_again_without_a_monitor_serves_traffic(api: Api, backends) -> None:
    """A member disabled, then enabled, in a pool with no health monitor: haproxy restores a
    reloaded server's state from the last worker's, which had it stopped; with no check nothing
    brought it back up and it stayed DOWN for good (seen with Octavia's own API suite). Now it
    serves again, and shows NO_MONITOR."""
    one, two = backends("one"), backends("two")
    body = {
        "loadbalancer": {
            "name": "toggled",
            "vip_subnet_id": vip_subnet(api),
            "listeners": [
                {
                    "protocol": "HTTP",
                    "protocol_port": 8084,
                    "default_pool": {
                        "name": "toggled",
                        "protocol": "HTTP",
                        "lb_algorithm": "ROUND_ROBIN",
                        "members": [
                            {"address": b.host, "protocol_port": b.port, "name": b.name}
                            for b in (one, two)
                        ],
                    },
                }
            ],
        }
    }
    lb = api.wait_lb(api.post("/v2/lbaas/loadbalancers", body)["loadbalancer"]["id"], timeout=90)
    pool_id = lb["pools"][0]["id"]
    members = {m["name"]: m["id"] for m in api.get(f"/v2/lbaas/pools/{pool_id}/members")["members"]}
    url = f"http://{lb['vip_address']}:8084/"

    def served(n: int = 20) -> Counter:
        return Counter(r.text for r in (get(url) for _ in range(n)) if r is not None)

    wait_for(lambda: set(served()) == {"one", "two"}, 30, "both members serving")
    path = f"/v2/lbaas/pools/{pool_id}/members/{members['two']}"
    api.put(path, {"member": {"admin_state_up": False}})
    api.wait_lb(lb["id"])
    assert set(served()) == {"one"}
    api.put(path, {"member": {"admin_state_up": True}})
    api.wait_lb(lb["id"])
    wait_for(lambda: set(served()) == {"one", "two"}, 30, "the re-enabled member serving")
    wait_for(
        lambda: (
            member_of(api.status_tree(lb["id"]), members["two"])["operating_status"] == "NO_MONITOR"
        ),
        30,
        "the re-enabled member NO_MONITOR",
    )
    api.delete(f"/v2/lbaas/loadbalancers/{lb['id']}?cascade=true")
