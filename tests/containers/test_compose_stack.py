"""The compose stack of deploy/docker, for real: images built on a base made from Debian packages,
every service in a container of its own (two replicas of the gateway, the orchestrator API, the
worker and health), a load balancer built through the REST API with two member containers,
traffic through its VIP, and one worker and one health replica killed while a change is under
way: every object still leaves PENDING_* and traffic keeps flowing; then an orchestrator API
replica killed and a crashed gateway restarted by its policy.

Run by `make test-containers` (and `.ci/run`), as root: it installs docker.io, docker-compose and
debootstrap when absent and starts dockerd when none runs (tests/containers/engine.py). No
timing assertion: every wait is bounded, and generous for a loaded 2-core machine.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from services.common.internal_tls import InternalTLS, blocking_channel
from tests.containers.stack import IMAGE_TAG, Compose
from tests.support.api import Api, wait_for

pytestmark = pytest.mark.timeout(3600)

LISTENER_PORT = 8080
BACKEND_PORT = 8000
# A member: answers every GET with its own name (python -c BACKEND NAME PORT).
BACKEND = """
import http.server, sys
name, port = sys.argv[1].encode(), int(sys.argv[2])
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(name)))
        self.end_headers()
        self.wfile.write(name)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()
"""
# Run inside the compute container, where the VIPs are: n requests on fresh connections,
# printed as a count of "<status> <body>" (or the error's name).
CLIENT = """
import collections, http.client, json, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seen = collections.Counter()
for _ in range(n):
    try:
        c = http.client.HTTPConnection(host, port, timeout=3)
        c.request("GET", "/", headers={"Connection": "close"})
        r = c.getresponse()
        seen["%d %s" % (r.status, r.read().decode())] += 1
        c.close()
    except OSError as err:
        seen[type(err).__name__] += 1
print(json.dumps(seen))
"""
# Generous: a loaded 2-core machine, a stalled worker's jobs released after its timeout, retries.
SETTLE = 300


def answers(compose: Compose, vip: str, n: int = 20) -> Counter:
    out = compose.exec("compute", "python", "-c", CLIENT, vip, str(LISTENER_PORT), str(n))
    return Counter(json.loads(out.strip().splitlines()[-1]))


def served_by(compose: Compose, vip: str, names: set[str]) -> bool:
    """Every answer a 200 from one of names, and every one of names seen."""
    seen = answers(compose, vip)
    return set(seen) == {f"200 {name}" for name in names}


def pending(admin: Api, lb_id: str) -> list[str]:
    """Every object still PENDING_*: the load balancer's tree, and every amphora."""
    tree = admin.status_tree(lb_id)
    found = [f"loadbalancer {tree['provisioning_status']}"]
    for listener in tree["listeners"]:
        found.append(f"listener {listener['provisioning_status']}")
        for pool in listener["pools"]:
            found.append(f"pool {pool['provisioning_status']}")
            found += [f"member {m['name']} {m['provisioning_status']}" for m in pool["members"]]
    amphorae = admin.get("/v2/octavia/amphorae")["amphorae"]
    found += [f"amphora {a['id']} {a['status']}" for a in amphorae]
    return [f for f in found if "PENDING_" in f]


def settled(admin: Api, lb_id: str) -> bool:
    lb = admin.lb(lb_id)
    assert lb["provisioning_status"] != "ERROR", lb
    return lb["provisioning_status"] == "ACTIVE" and not pending(admin, lb_id)


def admin_token(compose: Compose) -> str:
    """The init step prints the admin token on the last line of its output."""
    out = compose.docker("logs", compose.container("init")).stdout
    return out.strip().splitlines()[-1]


def crash(compose: Compose, service: str) -> None:
    """Kills the service's process from the host: to docker a crash, so its restart policy
    applies (`docker kill` counts as a deliberate stop, which it does not restart)."""
    pid = compose.inspect(compose.container(service))["State"]["Pid"]
    os.kill(pid, signal.SIGKILL)


def test_controller_services_run_as_their_user_on_a_state_volume_it_owns(compose: Compose) -> None:
    for service in ("gateway-1", "orchestrator-1", "orchestrator-worker-1", "health-1"):
        uid, state = compose.exec(
            service, "sh", "-c", "id -u; stat -c %u:%a /var/lib/lbaas"
        ).split()
        assert (uid, state) == ("10001", "10001:700"), service
        # Its identity and the CA's certificate, but not the CA's key (on init's volume only).
        tls = compose.exec(service, "ls", "/var/lib/lbaas/internal-tls").split()
        assert "ca.crt" in tls and "ca.key" not in tls, (service, tls)
    # The compute host is root (its agents start haproxy and nginx) and holds no controller
    # secret: its own certificate only.
    uid = compose.exec("compute", "id", "-u").strip()
    assert uid == "0"
    listed = compose.exec("compute", "ls", "/var/lib/lbaas-compute-tls").split()
    assert sorted(listed) == ["ca.crt", "compute.crt", "compute.key"]
    assert (
        "No such file"
        in compose.docker(
            "exec", compose.container("compute"), "ls", "/var/lib/lbaas/tokens.yaml", check=False
        ).stderr
    )


def test_an_operator_lists_a_services_methods_with_the_operator_certificate(
    compose: Compose,
) -> None:
    """What deploy/README.md tells an operator to do with grpcurl: the certificates copied out
    of the state volume, the orchestrator API's address on the compose network, the server
    checked by its identity (grpcurl's -servername), reflection's list."""
    container = compose.container("orchestrator-1")
    address = f"{compose.address(container)}:9890"
    with tempfile.TemporaryDirectory() as tmp:
        compose.docker("cp", f"{container}:/var/lib/lbaas/internal-tls/.", tmp)
        tls = InternalTLS(Path(tmp), "operator")
        with blocking_channel(address, "orchestrator", tls) as channel:
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)
            request = reflection_pb2.ServerReflectionRequest(list_services="")
            responses = stub.ServerReflectionInfo(iter([request]), timeout=30)
            listed = {s.name for r in responses for s in r.list_services_response.service}
    assert "lbaas.orchestrator.v1.OrchestratorService" in listed, listed


def test_load_balancer_through_the_stack_survives_a_worker_and_a_health_replica(
    compose: Compose, labelled_run
) -> None:
    admin = Api(f"http://{compose.published('gateway-1', 9876)}", admin_token(compose))
    try:
        run_scenario(compose, admin, labelled_run)
    finally:
        admin.close()


def run_scenario(compose: Compose, admin: Api, labelled_run) -> None:
    backend_image = f"lbaas/controller:{IMAGE_TAG}"
    addresses = {
        name: labelled_run(
            f"backend-{name}", backend_image, "python", "-c", BACKEND, name, str(BACKEND_PORT)
        )
        for name in ("alpha", "beta")
    }

    subnets = admin.get("/v2.0/subnets")["subnets"]
    assert len(subnets) == 1, subnets
    lb = admin.post(
        "/v2/lbaas/loadbalancers",
        {"loadbalancer": {"name": "web", "vip_subnet_id": subnets[0]["id"]}},
    )["loadbalancer"]
    admin.wait_lb(lb["id"], timeout=SETTLE)
    listener = admin.post(
        "/v2/lbaas/listeners",
        {
            "listener": {
                "loadbalancer_id": lb["id"],
                "protocol": "HTTP",
                "protocol_port": LISTENER_PORT,
                "name": "web-http",
            }
        },
    )["listener"]
    admin.wait_lb(lb["id"], timeout=SETTLE)
    pool = admin.post(
        "/v2/lbaas/pools",
        {
            "pool": {
                "listener_id": listener["id"],
                "protocol": "HTTP",
                "lb_algorithm": "ROUND_ROBIN",
                "name": "web-pool",
            }
        },
    )["pool"]
    admin.wait_lb(lb["id"], timeout=SETTLE)
    members = {}
    for name, address in addresses.items():
        members[name] = admin.post(
            f"/v2/lbaas/pools/{pool['id']}/members",
            {"member": {"name": name, "address": address, "protocol_port": BACKEND_PORT}},
        )["member"]
        admin.wait_lb(lb["id"], timeout=SETTLE)
    vip = admin.lb(lb["id"])["vip_address"]

    # Traffic through the VIP, from inside the compute container that holds it: both members.
    wait_for(lambda: served_by(compose, vip, {"alpha", "beta"}), 120, "both members serving")

    # The health replica the gateway asks for statistics (one gRPC connection behind the alias
    # `health`) is the one to kill: then the gateway has to find the other.
    stats = f"/v2/lbaas/listeners/{listener['id']}/stats"
    assert admin.http.get(stats).status_code == 200
    [health] = compose.connected_to("gateway-1", 9892, ["health-1", "health-2"])

    # A change under way, then one worker and that health replica die: the survivors finish it
    # (a job the dead worker held is released when it is seen stalled) and nothing stays
    # PENDING_*; the dead stay dead (`docker kill` is a deliberate stop).
    admin.delete(f"/v2/lbaas/pools/{pool['id']}/members/{members['beta']['id']}")
    compose.docker("kill", compose.container("orchestrator-worker-1"))
    compose.docker("kill", compose.container(health))
    wait_for(lambda: settled(admin, lb["id"]), SETTLE, "settled after the kills", interval=1)
    wait_for(lambda: served_by(compose, vip, {"alpha"}), 120, "alpha alone serving")

    # More changes with one worker and one health replica left.
    members["beta"] = admin.post(
        f"/v2/lbaas/pools/{pool['id']}/members",
        {"member": {"name": "beta", "address": addresses["beta"], "protocol_port": BACKEND_PORT}},
    )["member"]
    wait_for(lambda: settled(admin, lb["id"]), SETTLE, "member beta added", interval=1)
    admin.put(f"/v2/lbaas/pools/{pool['id']}", {"pool": {"lb_algorithm": "LEAST_CONNECTIONS"}})
    wait_for(lambda: settled(admin, lb["id"]), SETTLE, "pool updated", interval=1)
    wait_for(lambda: served_by(compose, vip, {"alpha", "beta"}), 120, "both members again")
    assert compose.state("orchestrator-worker-1")[0] == "exited"
    assert compose.state(health)[0] == "exited"
    # Heartbeats reach the surviving health replica, which keeps the statuses current.
    wait_for(lambda: admin.lb(lb["id"])["operating_status"] == "ONLINE", 120, "ONLINE", interval=1)

    # Statistics come through the gateway from the health replica left behind the alias,
    # counting the traffic above.
    def counted() -> bool:
        r = admin.http.get(stats)
        return r.status_code == 200 and r.json()["stats"]["total_connections"] > 0

    wait_for(counted, 120, "listener statistics from the other health replica", interval=1)

    # A crashed service comes back by its restart policy, and serves.
    crash(compose, "gateway-2")
    wait_for(
        lambda: compose.inspect(compose.container("gateway-2"))["RestartCount"] >= 1,
        120,
        "gateway-2 restarted",
        interval=1,
    )
    compose.wait_healthy(["gateway-2"], timeout=300)
    other = Api(
        f"http://{compose.published('gateway-2', 9876)}", admin.http.headers["X-Auth-Token"]
    )
    try:
        assert other.lb(lb["id"])["provisioning_status"] == "ACTIVE"
    finally:
        other.close()

    # The orchestrator API replica gateway-1 calls dies too: its calls move to the other one
    # behind the alias `orchestrator`.
    [api] = compose.connected_to("gateway-1", 9890, ["orchestrator-1", "orchestrator-2"])
    compose.docker("kill", compose.container(api))

    def api_answers() -> bool:
        return admin.http.get(f"/v2/lbaas/loadbalancers/{lb['id']}").status_code == 200

    wait_for(api_answers, 120, "the API through the other orchestrator replica", interval=1)

    # The whole graph goes, through the surviving replicas.
    admin.delete(f"/v2/lbaas/loadbalancers/{lb['id']}?cascade=true")

    def gone() -> bool:
        r = admin.http.get(f"/v2/lbaas/loadbalancers/{lb['id']}")
        return r.status_code == 404 or r.json()["loadbalancer"]["provisioning_status"] == "DELETED"

    wait_for(gone, SETTLE, "load balancer deleted", interval=1)

    def no_amphora_pending() -> bool:
        amphorae = admin.get("/v2/octavia/amphorae")["amphorae"]
        return not [a for a in amphorae if a["status"].startswith("PENDING_")]

    wait_for(no_amphora_pending, SETTLE, "no amphora PENDING_*", interval=1)
