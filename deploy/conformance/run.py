"""`make conformance`: Octavia's own API test suite against this system, with a real Keystone.

What it does, in order, all under one temporary directory that is removed at the end:

1. a virtualenv with the pinned Keystone, tempest and octavia-tempest-plugin
   (deploy/conformance/requirements.txt; kept in .conformance/ and reused while the pins match);
2. a throw-away Keystone: SQLite, fernet tokens, bootstrapped admin, served by gunicorn with one
   worker process and one thread (SQLite's write lock), on a free loopback port;
3. the catalog: `load-balancer` and `network` services, both at the API gateway (its Neutron-
   shaped, read-only /v2.0 view of the networks the network driver offers);
4. the whole system as `make run` starts it (deploy/local/stack.py), in keystone mode;
5. `tempest run` of octavia_tempest_plugin.tests.api.v2 with the plugin's default RBAC mode
   (keystone_default_roles) and --concurrency 2 (or as asked), then the passed, skipped and failed
   counts and every skip with its reason.

Everything started is stopped and everything made is removed on every exit path (Ctrl-C too).
The exit status is 0 when nothing failed. A person runs it by hand the same way:

    .venv/bin/python deploy/conformance/run.py [--regex R] [--concurrency N] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements.txt"
SUITE = r"^octavia_tempest_plugin\.tests\.api\.v2\."
ADMIN_PASSWORD = "conformance-admin"
REGION = "RegionOne"
HOST_SETTINGS = (Path("/proc/sys/net/ipv4/ping_group_range"),)


def log(message: str) -> None:
    print(f"[conformance {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited ({proc.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {timeout:.0f} s") from None
            time.sleep(0.3)


def request(method: str, url: str, token: str = "", body: dict | None = None) -> tuple[dict, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    with urllib.request.urlopen(req, timeout=30) as resp:
        raw = resp.read()
        return (json.loads(raw) if raw else {}), dict(resp.headers)


# ----------------------------------------------------------------------------- the virtualenv


def ensure_venv(venv: Path) -> Path:
    """The conformance virtualenv, (re)built when the pins changed; returns its bin dir."""
    stamp = venv / ".pins"
    pins = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if stamp.is_file() and stamp.read_text() == pins and (venv / "bin" / "tempest").exists():
        return venv / "bin"
    log(f"installing {REQUIREMENTS.relative_to(REPO)} into {venv}")
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
    stamp.write_text(pins)
    return venv / "bin"


# ----------------------------------------------------------------------------- the processes


class Processes:
    """What this run started: stopped in reverse order, by pid, on every exit path."""

    def __init__(self) -> None:
        # (name, process, signal its whole process group)
        self.started: list[tuple[str, subprocess.Popen, bool]] = []

    def start(
        self, name: str, argv: list[str], log_path: Path, group: bool = False, **kw
    ) -> subprocess.Popen:
        """Starts argv in a session of its own. group: stop it by its process group (its
        children too); otherwise the process alone (it stops its own children)."""
        out = open(log_path, "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kw
        )
        out.close()
        self.started.append((name, proc, group))
        return proc

    def stop_all(self) -> None:
        for name, proc, group in reversed(self.started):
            if proc.poll() is not None and not group:
                continue
            log(f"stopping {name} (pid {proc.pid})")
            with contextlib.suppress(ProcessLookupError):
                if group:
                    os.killpg(proc.pid, signal.SIGTERM)
                else:
                    proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.started.clear()


# ----------------------------------------------------------------------------- keystone


def start_keystone(bin_dir: Path, work: Path, procs: Processes) -> str:
    ks = work / "keystone"
    for d in ("fernet-keys", "credential-keys"):
        (ks / d).mkdir(parents=True, mode=0o700)
    conf = ks / "keystone.conf"
    conf.write_text(
        "[DEFAULT]\n"
        f"log_file = {ks / 'keystone.log'}\n"
        "[database]\n"
        f"connection = sqlite:///{ks / 'keystone.db'}\n"
        "[token]\nprovider = fernet\n"
        f"[fernet_tokens]\nkey_repository = {ks / 'fernet-keys'}\n"
        f"[fernet_receipts]\nkey_repository = {ks / 'fernet-keys'}\n"
        f"[credential]\nkey_repository = {ks / 'credential-keys'}\n"
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}/v3"
    manage = [str(bin_dir / "keystone-manage"), "--config-file", str(conf)]
    user = ["--keystone-user", str(os.getuid()), "--keystone-group", str(os.getgid())]
    run = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    log("keystone: creating the database and keys")
    subprocess.run([*manage, "db_sync"], **run)
    subprocess.run([*manage, "fernet_setup", *user], **run)
    subprocess.run([*manage, "credential_setup", *user], **run)
    subprocess.run(
        [
            *manage,
            "bootstrap",
            "--bootstrap-password",
            ADMIN_PASSWORD,
            "--bootstrap-admin-url",
            url,
            "--bootstrap-public-url",
            url,
            "--bootstrap-internal-url",
            url,
            "--bootstrap-region-id",
            REGION,
        ],
        **run,
    )
    env = {**os.environ, "OS_KEYSTONE_CONFIG_FILES": str(conf)}
    # Keystone parses sys.argv with oslo.config when imported: gunicorn's own arguments must
    # not reach it.
    (ks / "keystone_app.py").write_text(
        "import sys\nsys.argv = sys.argv[:1]\nfrom keystone.wsgi.api import application  # noqa\n"
    )
    proc = procs.start(
        "keystone",
        [
            str(bin_dir / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "1",
            "--timeout",
            "120",
            "--chdir",
            str(ks),
            "keystone_app:application",
        ],
        ks / "gunicorn.log",
        env=env,
        cwd=str(ks),
    )
    wait_http(url, 60, proc)
    log(f"keystone: serving at {url}")
    return url


def admin_token(keystone: str) -> str:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": "admin",
                        "domain": {"id": "default"},
                        "password": ADMIN_PASSWORD,
                    }
                },
            },
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
        }
    }
    _, headers = request("POST", f"{keystone}/auth/tokens", body=body)
    return headers["X-Subject-Token"]


def register_services(keystone: str, api_url: str) -> None:
    """`load-balancer` (octavia) and `network` (neutron) in the catalog, both at the gateway."""
    token = admin_token(keystone)
    for name, kind in (("octavia", "load-balancer"), ("neutron", "network")):
        service, _ = request(
            "POST", f"{keystone}/services", token, {"service": {"name": name, "type": kind}}
        )
        for interface in ("public", "internal", "admin"):
            endpoint = {
                "service_id": service["service"]["id"],
                "interface": interface,
                "url": api_url,
                "region_id": REGION,
            }
            request("POST", f"{keystone}/endpoints", token, {"endpoint": endpoint})
    log(f"keystone: load-balancer and network endpoints at {api_url}")


# ----------------------------------------------------------------------------- the system


def start_stack(
    work: Path, keystone: str, procs: Processes, compute_driver: str
) -> tuple[str, subprocess.Popen]:
    run_dir = work / "run"
    env = {
        **os.environ,
        "LBAAS_COMPUTE_DRIVER": compute_driver,
        "LBAAS_RUN_DIR": str(run_dir),
        "LBAAS_AUTH_STRATEGY": "keystone",
        "LBAAS_KEYSTONE_URL": keystone,
        "LBAAS_KEYSTONE_USERNAME": "admin",
        "LBAAS_KEYSTONE_PASSWORD": ADMIN_PASSWORD,
        "LBAAS_KEYSTONE_PROJECT_NAME": "admin",
        "LBAAS_LOG_LEVEL": os.environ.get("LBAAS_LOG_LEVEL", "WARNING"),
    }
    env.pop("DATABASE_URL", None)  # the launcher's embedded PostgreSQL, thrown away after
    python = REPO / ".venv" / "bin" / "python"
    proc = procs.start(
        "the system (deploy/local/stack.py)",
        [str(python if python.exists() else sys.executable), "-m", "deploy.local.stack"],
        work / "stack.log",
        env=env,
        cwd=str(REPO),
    )
    ready = run_dir / "ready"
    deadline = time.monotonic() + 300
    while not ready.exists():
        if proc.poll() is not None:
            raise RuntimeError(f"the system exited ({proc.returncode}); see {work / 'stack.log'}")
        if time.monotonic() > deadline:
            raise RuntimeError("the system was not ready within 300 s")
        time.sleep(0.3)
    api_url = f"http://{env.get('LBAAS_API_HOST', '127.0.0.1')}:{env.get('LBAAS_API_PORT', '9876')}"
    log(f"the system is up, its API at {api_url}")
    return api_url, proc


def network_id(api_url: str, keystone: str) -> str:
    body, _ = request("GET", f"{api_url}/v2.0/networks", admin_token(keystone))
    return body["networks"][0]["id"]


# ----------------------------------------------------------------------------- tempest


def tempest_conf(keystone: str, network: str) -> str:
    return f"""[DEFAULT]
log_file = tempest.log
debug = false

[auth]
use_dynamic_credentials = true
create_isolated_networks = false
admin_username = admin
admin_password = {ADMIN_PASSWORD}
admin_project_name = admin
admin_domain_name = Default
tempest_roles = member

[identity]
uri_v3 = {keystone}
auth_version = v3
region = {REGION}
v3_endpoint_type = public

[identity-feature-enabled]
api_v2 = false

[service_available]
load_balancer = true
neutron = true
# Not used by tests/api/v2 (validation is off: no web servers are booted), but the plugin's
# skip check requires compute and image unless test_with_noop, which would fake the networks.
nova = true
glance = true
cinder = false
swift = false

[network]
project_networks_reachable = true

[validation]
run_validation = false

[load_balancer]
provider = amphora
RBAC_test_type = keystone_default_roles
enabled_provider_drivers = amphora:The Octavia Amphora driver.,octavia:Deprecated alias of the Octavia Amphora driver.
# The network driver's network, shown through the gateway's /v2.0 view. test_subnet_override
# stays unset and test_with_ipv6 off: with test_network_override set, plugin 3.5.0 raises a
# KeyError on a subnet override (it keeps show_subnet's envelope) - a plugin bug, not patched.
test_network_override = {network}
test_with_ipv6 = false
# The compute zones the availability zone tests name in their profiles (zones are handed to the
# compute driver, not checked against a Nova; the local and netns drivers have one host).
availability_zone = lbaas-zone-1
availability_zone2 = lbaas-zone-2
availability_zone3 = lbaas-zone-3
# How often the tests poll for a status: the defaults (5 s, 10 s) are for clouds that boot VMs.
build_interval = 0.25
build_timeout = 60
check_interval = 0.25
check_timeout = 60
lb_build_interval = 0.25
lb_build_timeout = 60

[loadbalancer-feature-enabled]
# TLS termination tests need Barbican (none here).
terminated_tls_enabled = false
# What the provider cannot do is Octavia's 501 ("Provider 'amphora' does not support a requested
# option: ..."), and the test that asks for it is skipped with that text as its reason, as for
# any provider but Octavia's reference one. Every such skip is listed in docs/compat.md.
not_implemented_is_error = false
"""


def run_tempest(
    bin_dir: Path,
    work: Path,
    procs: Processes,
    keystone: str,
    network: str,
    regex: str,
    conc: int,
):
    ws = work / "tempest"
    # HOME: tempest records its workspaces in ~/.tempest; this run's stays in the work dir.
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}", "HOME": str(work)}
    env.pop("PYTHONPATH", None)
    subprocess.run(
        [str(bin_dir / "tempest"), "init", str(ws)],
        check=True,
        env=env,
        cwd=str(work),
        stdout=subprocess.DEVNULL,
    )
    (ws / "etc" / "tempest.conf").write_text(tempest_conf(keystone, network))
    log(f"tempest: running {regex} with concurrency {conc}")
    started = time.monotonic()
    # Its own process group: an interrupted run stops tempest's stestr workers with it.
    tempest = procs.start(
        "tempest",
        [str(bin_dir / "tempest"), "run", "--regex", regex, "--concurrency", str(conc)],
        work / "tempest-run.log",
        env=env,
        cwd=str(ws),
        group=True,
    )
    tempest.wait()
    elapsed = time.monotonic() - started
    stream = subprocess.run(
        [str(bin_dir / "stestr"), "last", "--subunit"],
        env=env,
        cwd=str(ws),
        capture_output=True,
    ).stdout
    return summarize(bin_dir, stream, env), elapsed


_SUMMARY = r"""
import json, sys, subunit, testtools
results = {}
class R(testtools.StreamResult):
    def status(self, test_id=None, test_status=None, file_name=None, file_bytes=None, **kw):
        if not test_id:
            return
        r = results.setdefault(test_id, {"status": None, "reason": ""})
        if test_status in ("success", "fail", "skip", "xfail", "uxsuccess"):
            r["status"] = test_status
        if file_name == "reason" and file_bytes:
            r["reason"] += bytes(file_bytes).decode("utf-8", "replace")
        if file_name == "traceback" and file_bytes:
            r["traceback"] = r.get("traceback", "") + bytes(file_bytes).decode("utf-8", "replace")
case = subunit.ByteStreamToStreamResult(sys.stdin.buffer, non_subunit_name="stdout")
result = R()
result.startTestRun(); case.run(result); result.stopTestRun()
json.dump(results, sys.stdout)
"""


def summarize(bin_dir: Path, stream: bytes, env: dict) -> dict:
    out = subprocess.run(
        [str(bin_dir / "python"), "-c", _SUMMARY],
        input=stream,
        capture_output=True,
        env=env,
        check=True,
    ).stdout
    return json.loads(out)


def report(results: dict, elapsed: float, work: Path, out_dir: Path) -> int:
    counts = Counter(r["status"] for r in results.values())
    passed, skipped = counts["success"], counts["skip"]
    failed = counts["fail"] + counts["uxsuccess"] + counts[None]
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "last-results.json").write_text(json.dumps(results, indent=1, sort_keys=True))
    skips = Counter(r["reason"].strip() for r in results.values() if r["status"] == "skip")
    print()
    print("Skipped, by reason:")
    for reason, n in skips.most_common():
        print(f"  {n:4d}  {reason}")
    fails = sorted(t for t, r in results.items() if r["status"] not in ("success", "skip", "xfail"))
    if fails:
        print("Failed:")
        for t in fails:
            print(f"  {t}")
    print()
    print(
        f"octavia_tempest_plugin api.v2: {passed} passed, {skipped} skipped, {failed} failed "
        f"({len(results)} in all) in {elapsed:.0f} s; details: {out_dir / 'last-results.json'}"
    )
    return 0 if failed == 0 and results else 1


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regex", default=SUITE, help="tests to run (default: api.v2)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--venv", type=Path, default=REPO / ".conformance" / "venv")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    parser.add_argument(
        "--compute-driver",
        default=os.environ.get("LBAAS_COMPUTE_DRIVER")
        or ("netns" if os.geteuid() == 0 else "local"),
        help="the amphorae's compute driver: netns as root (it builds SINGLE and ACTIVE_STANDBY "
        "load balancers), else local (SINGLE only: the ACTIVE_STANDBY flavor tests then skip "
        "with Octavia's 501)",
    )
    args = parser.parse_args(argv)

    saved = {p: p.read_text() for p in HOST_SETTINGS if p.exists()}
    bin_dir = ensure_venv(args.venv)
    # Short: the amphorae's unix sockets live under it.
    work = Path(tempfile.mkdtemp(prefix="lbaas-conf-", dir="/tmp"))
    procs = Processes()

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    status = 1
    try:
        keystone = start_keystone(bin_dir, work, procs)
        api_url, _ = start_stack(work, keystone, procs, args.compute_driver)
        register_services(keystone, api_url)
        results, elapsed = run_tempest(
            bin_dir,
            work,
            procs,
            keystone,
            network_id(api_url, keystone),
            args.regex,
            args.concurrency,
        )
        status = report(results, elapsed, work, REPO / ".conformance")
        if not results:
            log(f"no test ran; see {work / 'tempest-run.log'}")
    except KeyboardInterrupt:
        log("interrupted")
        status = 130
    except Exception as err:  # noqa: BLE001 - reported, then everything is cleaned up
        log(f"failed: {err}")
        status = 1
    finally:
        # A second signal (a supervisor's, or timeout's passing its own on) must not cut the
        # cleanup short.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        procs.stop_all()
        for path, value in saved.items():
            with contextlib.suppress(OSError):
                if path.read_text() != value:
                    path.write_text(value)
        logs = REPO / ".conformance" / "logs"
        shutil.rmtree(logs, ignore_errors=True)
        with contextlib.suppress(OSError):
            logs.mkdir(parents=True)
            for name in ("tempest-run.log", "stack.log", "tempest/tempest.log"):
                if (work / name).exists():
                    shutil.copy(work / name, logs / Path(name).name)
            if (work / "run" / "logs").is_dir():
                shutil.copytree(work / "run" / "logs", logs / "services")
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
