"""Certificate rotation end to end: with certificates that live 30 s (renewed in their last
20 s, with housekeeping every 2 s), a load balancer keeps its amphora and its traffic past its first certificate's expiry,
the orchestrator still pushes changes to it over mTLS, and the controller's own certificate was
renewed on disk."""

from __future__ import annotations

import datetime as dt
import threading
import time

import httpx
import pytest
from cryptography import x509

from tests.support.api import Api, wait_for
from tests.support.backends import Backend
from tests.support.stack import running_stack

pytestmark = pytest.mark.e2e
PORT = 8080
VALIDITY = 30


class Traffic:
    """Fresh-connection requests to the VIP in a loop until stopped; counts failures."""

    def __init__(self, url: str):
        self.url = url
        self.ok = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=5, headers={"Connection": "close"}) as client:
            while not self._stop.wait(0.1):
                try:
                    r = client.get(self.url)
                except httpx.HTTPError as err:
                    self.failures.append(repr(err))
                    continue
                if r.status_code == 200:
                    self.ok += 1
                else:
                    self.failures.append(str(r.status_code))

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def _controller_not_after(stack) -> dt.datetime:
    pem = (stack.run_dir / "ca" / "controller.crt").read_bytes()
    return x509.load_pem_x509_certificate(pem).not_valid_after_utc


def _amphorae(admin: Api, lb_id: str) -> list[dict]:
    return admin.get(f"/v2/octavia/amphorae?loadbalancer_id={lb_id}")["amphorae"]


def _expiration(amphora: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(amphora["cert_expiration"]).replace(tzinfo=dt.UTC)


def _answers(url: str, n: int) -> set[str]:
    seen = set()
    for _ in range(n):
        r = httpx.get(url, headers={"Connection": "close"}, timeout=5)
        if r.status_code == 200:
            seen.add(r.text)
    return seen


@pytest.mark.timeout(480)
def test_certificates_rotate_with_no_failover_and_no_traffic_gap():
    backends = [Backend("rot-1").start(), Backend("rot-2").start()]
    env = {
        "LBAAS_CERT_VALIDITY": str(VALIDITY),
        "LBAAS_CERT_RENEW_BEFORE": "20",
        "LBAAS_SPARE_POOL_SIZE": "0",
    }
    try:
        with running_stack("lbaas-rot-", extra_env=env) as stack:
            member = Api(stack.api_url, stack.token("member"))
            admin = Api(stack.api_url, stack.token("admin"))
            try:
                # The worker's first housekeeping run makes the controller certificate.
                wait_for(
                    lambda: (stack.run_dir / "ca" / "controller.crt").exists(),
                    30,
                    "the controller certificate",
                )
                controller_before = _controller_not_after(stack)
                subnet = member.get("/v2.0/subnets")["subnets"][0]["id"]
                body = {
                    "loadbalancer": {
                        "name": "rotating",
                        "vip_subnet_id": subnet,
                        "listeners": [
                            {
                                "name": "rotating-l",
                                "protocol": "HTTP",
                                "protocol_port": PORT,
                                "default_pool": {
                                    "name": "rotating-p",
                                    "protocol": "HTTP",
                                    "lb_algorithm": "ROUND_ROBIN",
                                    "members": [
                                        {
                                            "address": backends[0].host,
                                            "protocol_port": backends[0].port,
                                        }
                                    ],
                                },
                            }
                        ],
                    }
                }
                lb = member.post("/v2/lbaas/loadbalancers", body)["loadbalancer"]
                lb = member.wait_lb(lb["id"], timeout=90)
                url = f"http://{lb['vip_address']}:{PORT}/"
                wait_for(lambda: _answers(url, 1) == {"rot-1"}, 30, "traffic through the VIP")
                (amphora,) = _amphorae(admin, lb["id"])
                first_expiration = _expiration(amphora)
                assert first_expiration - dt.datetime.now(dt.UTC) <= dt.timedelta(
                    seconds=VALIDITY
                ), "the amphora's certificate does not have the configured lifetime"

                with Traffic(url) as traffic:
                    # Past the first certificate's expiry (bounded: at most VALIDITY + 30 s).
                    deadline = time.monotonic() + VALIDITY + 30
                    while dt.datetime.now(dt.UTC) < first_expiration + dt.timedelta(seconds=5):
                        assert time.monotonic() < deadline, "the clock did not reach the expiry"
                        time.sleep(1)

                    # Same amphora (no failover) and the same agent process (not restarted
                    # with a new certificate), with a certificate valid beyond the first.
                    (after,) = _amphorae(admin, lb["id"])
                    assert after["id"] == amphora["id"]
                    assert after["compute_id"] == amphora["compute_id"]
                    assert after["status"] == "ALLOCATED"
                    assert _expiration(after) > first_expiration
                    assert _expiration(after) > dt.datetime.now(dt.UTC)

                    # A change still reaches the amphora: the orchestrator's new handshakes
                    # with it work (renewed controller certificate, rotated server one).
                    pools = member.get("/v2/lbaas/pools")["pools"]
                    pool_id = next(p["id"] for p in pools if p["name"] == "rotating-p")
                    member.post(
                        f"/v2/lbaas/pools/{pool_id}/members",
                        {
                            "member": {
                                "address": backends[1].host,
                                "protocol_port": backends[1].port,
                            }
                        },
                    )
                    member.wait_lb(lb["id"], timeout=60)
                    wait_for(lambda: "rot-2" in _answers(url, 4), 30, "the new member serving")
                assert traffic.failures == [], traffic.failures[:5]
                assert traffic.ok > 0

                (final,) = _amphorae(admin, lb["id"])
                assert (final["id"], final["compute_id"]) == (amphora["id"], amphora["compute_id"])
                assert _controller_not_after(stack) > controller_before
                assert f"amphora {amphora['id']}: certificate rotated" in stack.log(
                    "orchestrator-worker"
                )
            finally:
                member.close()
                admin.close()
    finally:
        for b in backends:
            b.stop()
