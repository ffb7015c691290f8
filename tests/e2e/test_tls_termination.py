"""TLS end to end through haproxy, with every service as a process: certificates stored through
the API, HTTPS termination where SNI picks the certificate (checked with `openssl s_client
-servername` and `curl --resolve`), the default certificate otherwise, mutual TLS that refuses a
client without a certificate when MANDATORY, and an HTTP to HTTPS redirect.

The module runs once per compute driver: `local` (amphorae on the host's loopback) and, as
root, `netns` (each amphora a network namespace; members on the host's bridge address)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.api import Api, wait_for
from tests.support.backends import Backend
from tests.support.certs import make_ca, make_leaf
from tests.support.netns import member_host, netns_available, netns_env
from tests.support.stack import RunningStack, running_stack

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not shutil.which("openssl") or not shutil.which("curl"), reason="no tools"),
]

HTTPS_PORT = 8443
MTLS_PORT = 8444
SNI_ONLY_PORT = 8445
HTTP_PORT = 8080


@pytest.fixture(scope="module", params=["local", "netns"])
def stack(request):
    if request.param == "netns" and not netns_available():
        pytest.skip("the netns driver needs root, iproute2 and keepalived")
    env = netns_env() if request.param == "netns" else None
    with running_stack("lbaas-e2e-tls-", extra_env=env) as running:
        yield running


@pytest.fixture(scope="module")
def api(stack: RunningStack):
    client = Api(stack.api_url, stack.token("member"))
    yield client
    client.close()


@pytest.fixture(scope="module")
def backend(stack: RunningStack):
    b = Backend("tls-backend", host=member_host(stack.env)).start()
    yield b
    b.stop()


def store(api: Api, name: str, **parts: bytes | str) -> str:
    body = {"name": name}
    for key, value in parts.items():
        body[key] = value.decode() if isinstance(value, bytes) else value
    return api.post("/v2/lbaas/certificates", {"certificate": body})["certificate"]["ref"]


def served_subject(host: str, port: int, servername: str | None) -> str:
    """The subject line openssl s_client prints for the certificate the server sent."""
    cmd = ["openssl", "s_client", "-connect", f"{host}:{port}", "-brief"]
    if servername:
        cmd += ["-servername", servername]
    out = subprocess.run(cmd, input=b"", capture_output=True, timeout=20)
    text = (out.stdout + out.stderr).decode(errors="replace")
    for line in text.splitlines():
        if line.startswith("Peer certificate:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no peer certificate in openssl output: {text}")


def curl(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["curl", "-sS", "--max-time", "10", "-o", "-", "-w", "\n%{http_code}", *args, url],
        capture_output=True,
        timeout=30,
        text=True,
    )


def https_get(vip: str, port: int, host: str, pki) -> subprocess.CompletedProcess:
    """GET https://host:port/ through the VIP, verifying the chain and the name."""
    return curl(
        f"https://{host}:{port}/",
        "--resolve",
        f"{host}:{port}:{vip}",
        "--cacert",
        str(pki["files"] / "root.pem"),
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    root = make_ca("E2E Root CA")
    client_ca = make_ca("E2E Client CA")
    certs = {
        "default": make_leaf(root, "default.example.com"),
        "alpha": make_leaf(root, "alpha.example.com"),
        # Matched by its subjectAltName only: the CN is not a host name.
        "beta": make_leaf(root, "Beta Service", sans=["beta.example.com", "www.beta.example.com"]),
        "client": make_leaf(client_ca, "tenant-client", client=True),
    }
    files: Path = tmp_path_factory.mktemp("pki")
    (files / "root.pem").write_bytes(root.cert_pem)
    (files / "client.pem").write_bytes(certs["client"].cert_pem)
    (files / "client.key").write_bytes(certs["client"].key_pem)
    return {"root": root, "client_ca": client_ca, "certs": certs, "files": files}


@pytest.fixture(scope="module")
def tls_lb(api: Api, backend: Backend, pki):
    refs = {
        name: store(api, name, certificate=leaf.cert_pem, private_key=leaf.key_pem)
        for name, leaf in pki["certs"].items()
        if name != "client"
    }
    client_ca_ref = store(api, "client-ca", certificate=pki["client_ca"].cert_pem, type="CA")
    members = [{"address": backend.host, "protocol_port": backend.port}]
    subnet = api.get("/v2.0/subnets")["subnets"][0]["id"]
    body = {
        "loadbalancer": {
            "name": "tls",
            "vip_subnet_id": subnet,
            "listeners": [
                {
                    "name": "https",
                    "protocol": "TERMINATED_HTTPS",
                    "protocol_port": HTTPS_PORT,
                    "default_tls_container_ref": refs["default"],
                    "sni_container_refs": [refs["alpha"], refs["beta"]],
                    "default_pool": {
                        "name": "web",
                        "protocol": "HTTP",
                        "lb_algorithm": "ROUND_ROBIN",
                        "members": members,
                    },
                },
                {
                    "name": "mtls",
                    "protocol": "TERMINATED_HTTPS",
                    "protocol_port": MTLS_PORT,
                    "default_tls_container_ref": refs["default"],
                    "client_authentication": "MANDATORY",
                    "client_ca_tls_container_ref": client_ca_ref,
                    "default_pool": {
                        "name": "web-mtls",
                        "protocol": "HTTP",
                        "lb_algorithm": "ROUND_ROBIN",
                        "members": members,
                    },
                },
                {
                    "name": "http",
                    "protocol": "HTTP",
                    "protocol_port": HTTP_PORT,
                    "l7policies": [
                        {
                            "action": "REDIRECT_PREFIX",
                            "redirect_prefix": "https://alpha.example.com",
                            "redirect_http_code": 301,
                            "rules": [
                                {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/"}
                            ],
                        }
                    ],
                },
            ],
        }
    }
    lb = api.post("/v2/lbaas/loadbalancers", body)["loadbalancer"]
    lb = api.wait_lb(lb["id"], timeout=90)
    yield lb
    api.delete(f"/v2/lbaas/loadbalancers/{lb['id']}?cascade=true")


def test_sni_picks_the_certificate_and_the_default_answers_otherwise(tls_lb, pki) -> None:
    vip = tls_lb["vip_address"]
    wait_for(
        lambda: "default.example.com" in served_subject(vip, HTTPS_PORT, None),
        30,
        "the TLS listener serving",
        interval=0.5,
    )
    assert "CN = alpha.example.com" in served_subject(vip, HTTPS_PORT, "alpha.example.com")
    assert "CN = Beta Service" in served_subject(vip, HTTPS_PORT, "beta.example.com")
    assert "CN = Beta Service" in served_subject(vip, HTTPS_PORT, "www.beta.example.com")
    assert "CN = default.example.com" in served_subject(vip, HTTPS_PORT, "other.example.com")

    # curl verifies the chain and the host name, then gets the backend's answer.
    for host in ("alpha.example.com", "beta.example.com", "default.example.com"):
        out = https_get(vip, HTTPS_PORT, host, pki)
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines() == ["tls-backend", "200"], out.stdout
    # A name no certificate carries gets the default one, which curl refuses to trust for it.
    out = https_get(vip, HTTPS_PORT, "other.example.com", pki)
    assert out.returncode != 0
    assert "default.example.com" in out.stderr or "no alternative" in out.stderr, out.stderr


def test_sni_only_listener_carries_traffic(api: Api, backend: Backend, tls_lb, pki) -> None:
    """Octavia accepts a TERMINATED_HTTPS listener with SNI certificates and no default one;
    the first SNI certificate then answers clients without a name (or with an unknown one)."""
    alpha, beta = (
        store(api, f"sni-only-{n}", certificate=pki["certs"][n].cert_pem,
              private_key=pki["certs"][n].key_pem)
        for n in ("alpha", "beta")
    )  # fmt: skip
    # A pool of its own: a pool is the default pool of one listener at most.
    other = api.http.post(
        "/v2/lbaas/listeners",
        json={
            "listener": {
                "loadbalancer_id": tls_lb["id"],
                "protocol": "TERMINATED_HTTPS",
                "protocol_port": SNI_ONLY_PORT,
                "sni_container_refs": [alpha],
                "default_pool_id": tls_lb["pools"][0]["id"],
            }
        },
    )
    assert other.status_code == 409, other.text
    assert "already the default pool" in other.json()["faultstring"]
    listener = api.post(
        "/v2/lbaas/listeners",
        {
            "listener": {
                "loadbalancer_id": tls_lb["id"],
                "protocol": "TERMINATED_HTTPS",
                "protocol_port": SNI_ONLY_PORT,
                "sni_container_refs": [alpha, beta],
            }
        },
    )["listener"]
    api.post(
        "/v2/lbaas/pools",
        {
            "pool": {
                "listener_id": listener["id"],
                "protocol": "HTTP",
                "lb_algorithm": "ROUND_ROBIN",
                "members": [{"address": backend.host, "protocol_port": backend.port}],
            }
        },
    )
    assert listener["default_tls_container_ref"] is None
    api.wait_lb(tls_lb["id"], timeout=90)
    vip = tls_lb["vip_address"]
    wait_for(
        lambda: "alpha.example.com" in served_subject(vip, SNI_ONLY_PORT, None),
        30,
        "the SNI-only listener serving",
        interval=0.5,
    )
    assert "CN = Beta Service" in served_subject(vip, SNI_ONLY_PORT, "beta.example.com")
    assert "CN = alpha.example.com" in served_subject(vip, SNI_ONLY_PORT, "other.example.com")
    for host in ("alpha.example.com", "beta.example.com"):
        out = https_get(vip, SNI_ONLY_PORT, host, pki)
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines() == ["tls-backend", "200"], out.stdout
    api.delete(f"/v2/lbaas/listeners/{listener['id']}")
    api.wait_lb(tls_lb["id"], timeout=90)


def test_mandatory_client_authentication(tls_lb, pki) -> None:
    vip = tls_lb["vip_address"]
    files = pki["files"]
    url = f"https://default.example.com:{MTLS_PORT}/"
    resolve = ("--resolve", f"default.example.com:{MTLS_PORT}:{vip}")
    trust = ("--cacert", str(files / "root.pem"))

    def with_cert() -> bool:
        out = curl(
            url,
            *resolve,
            *trust,
            "--cert",
            str(files / "client.pem"),
            "--key",
            str(files / "client.key"),
        )
        return out.returncode == 0 and out.stdout.splitlines() == ["tls-backend", "200"]

    wait_for(with_cert, 30, "the mTLS listener accepting a client certificate", interval=0.5)
    without = curl(url, *resolve, *trust)
    assert without.returncode != 0 or not without.stdout.endswith("200"), without


def test_http_redirects_to_https(tls_lb) -> None:
    vip = tls_lb["vip_address"]
    out = curl(f"http://{vip}:{HTTP_PORT}/shop?item=1", "-D", "-")
    assert out.returncode == 0, out.stderr
    assert out.stdout.rstrip().endswith("301"), out.stdout
    location = [
        line.split(":", 1)[1].strip()
        for line in out.stdout.splitlines()
        if line.lower().startswith("location:")
    ]
    assert location == ["https://alpha.example.com/shop?item=1"], out.stdout


@pytest.fixture(scope="module")
def nginx_flavor(stack: RunningStack) -> str:
    admin = Api(stack.api_url, stack.token("admin"))
    try:
        profile = admin.post(
            "/v2/lbaas/flavorprofiles",
            {
                "flavorprofile": {
                    "name": "nginx-engine",
                    "provider_name": "amphora",
                    "flavor_data": '{"backend": "nginx"}',
                }
            },
        )["flavorprofile"]
        flavor = admin.post(
            "/v2/lbaas/flavors",
            {"flavor": {"name": "nginx", "flavor_profile_id": profile["id"], "enabled": True}},
        )["flavor"]
    finally:
        admin.close()
    return flavor["id"]


def test_nginx_amphora_http_https_sni_and_l7_by_path(
    stack: RunningStack, api: Api, pki, nginx_flavor: str
) -> None:
    """The same API, the same running system, an nginx-flavored load balancer: plain HTTP,
    HTTPS with SNI, and L7 routing by path."""
    host = member_host(stack.env)
    web, images = (
        Backend("nginx-web", host=host).start(),
        Backend("nginx-images", host=host).start(),
    )
    try:
        refs = {
            name: store(api, f"nx-{name}", certificate=leaf.cert_pem, private_key=leaf.key_pem)
            for name, leaf in pki["certs"].items()
            if name in ("default", "alpha", "beta")
        }

        def pool(name: str, backend: Backend) -> dict:
            return {
                "name": name,
                "protocol": "HTTP",
                "lb_algorithm": "ROUND_ROBIN",
                "members": [{"address": backend.host, "protocol_port": backend.port}],
            }

        l7 = [
            {
                "action": "REDIRECT_TO_POOL",
                "redirect_pool": pool("nx-images", images),
                "rules": [{"type": "PATH", "compare_type": "STARTS_WITH", "value": "/images/"}],
            }
        ]
        body = {
            "loadbalancer": {
                "name": "nginx-tls",
                "flavor_id": nginx_flavor,
                "vip_subnet_id": api.get("/v2.0/subnets")["subnets"][0]["id"],
                "listeners": [
                    {
                        "protocol": "HTTP",
                        "protocol_port": HTTP_PORT,
                        "default_pool": pool("nx-web", web),
                        "l7policies": l7,
                    },
                    {
                        "protocol": "TERMINATED_HTTPS",
                        "protocol_port": HTTPS_PORT,
                        "default_tls_container_ref": refs["default"],
                        "sni_container_refs": [refs["alpha"], refs["beta"]],
                        "default_pool": pool("nx-web-tls", web),
                    },
                ],
            }
        }
        lb = api.post("/v2/lbaas/loadbalancers", body)["loadbalancer"]
        lb = api.wait_lb(lb["id"], timeout=90)
        vip = lb["vip_address"]

        out = wait_for(
            lambda: (r := curl(f"http://{vip}:{HTTP_PORT}/")).returncode == 0 and r,
            30,
            "nginx HTTP listener",
            interval=0.5,
        )
        assert out.stdout.splitlines() == ["nginx-web", "200"], out.stdout
        by_path = curl(f"http://{vip}:{HTTP_PORT}/images/cat.png")
        assert by_path.stdout.splitlines() == ["nginx-images", "200"], by_path.stdout

        wait_for(
            lambda: "default.example.com" in served_subject(vip, HTTPS_PORT, None),
            30,
            "nginx TLS listener",
            interval=0.5,
        )
        assert "CN = alpha.example.com" in served_subject(vip, HTTPS_PORT, "alpha.example.com")
        assert "CN = Beta Service" in served_subject(vip, HTTPS_PORT, "www.beta.example.com")
        assert "CN = default.example.com" in served_subject(vip, HTTPS_PORT, "other.example.com")
        out = https_get(vip, HTTPS_PORT, "beta.example.com", pki)
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines() == ["nginx-web", "200"], out.stdout
        api.delete(f"/v2/lbaas/loadbalancers/{lb['id']}?cascade=true")
    finally:
        web.stop()
        images.stop()
