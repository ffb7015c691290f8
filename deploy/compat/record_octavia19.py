"""Records what Octavia 19 answers on every endpoint of its v2 API, for
tests/compat/test_octavia19_bodies.py to compare this project's API with.

Run by hand, as root (it runs its own MariaDB server):

    python3 deploy/compat/record_octavia19.py [--keep]

What it does, all under one temporary directory that is removed at the end:

1. a virtualenv with Octavia 19.0.0 from PyPI (deploy/compat/requirements.txt, .compat/venv;
   reused while the pins match);
2. MariaDB from Debian's package (`apt-get install mariadb-server` when it is missing), as a
   private server of this run: its own data directory, a unix socket, no TCP port. Octavia's
   PostgreSQL migrations fail, so MariaDB it is;
3. `octavia-db-manage upgrade head`;
4. Octavia's API and its controller worker in one process (deploy/compat/octavia_in_process.py)
   with `auth_strategy = noauth`, oslo.messaging's `fake://` transport, the `amphora` provider
   and the noop compute, network, amphora, image and volume drivers: every object goes through
   Octavia's real API code, database and worker flows and reaches ACTIVE;
5. the scenario (octavia19_scenario.py), in order: each request's method, path, body, status
   code and response, with the ids it made replaced by their placeholders, into
   tests/compat/octavia19/recorded.json.

Everything started is stopped (by pid) and everything made is removed on every exit path.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

# Run as a file: its directory is on sys.path.
from octavia19_scenario import SCENARIO

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements.txt"
OUTPUT = REPO / "tests" / "compat" / "octavia19" / "recorded.json"
OCTAVIA_VERSION = "19.0.0"
# The one project the recording works in (noauth: Octavia takes it from X-Project-Id).
PROJECT = uuid.uuid4().hex
# A subnet id: Octavia's noop network driver makes up any subnet it is asked about.
SUBNET = str(uuid.uuid4())
HOST_SETTINGS = (Path("/proc/sys/net/ipv4/ping_group_range"),)


def log(message: str) -> None:
    print(f"[record-octavia19 {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ----------------------------------------------------------------------------- placeholders

PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def fill(text: str, values: dict[str, str]) -> str:
    """text with each {name} of values replaced by its value (others left as they are)."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def fill_body(body: dict | None, values: dict[str, str]) -> dict | None:
    return None if body is None else json.loads(fill(json.dumps(body), values))


def unfill(data, values: dict[str, str]):
    """data with each value of values (ids, the base URL) put back as its {name}."""
    # Longest first: the base URL before anything it might contain.
    pairs = sorted(values.items(), key=lambda kv: -len(kv[1]))

    def one(value):
        if isinstance(value, dict):
            return {k: one(v) for k, v in value.items()}
        if isinstance(value, list):
            return [one(v) for v in value]
        if isinstance(value, str):
            for name, real in pairs:
                if real and real in value:
                    value = value.replace(real, "{" + name + "}")
        return value

    return one(data)


def dig(data, dotted: str):
    """data["a"][0]["b"] for "a.0.b"."""
    for part in dotted.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


# ----------------------------------------------------------------------------- HTTP


def call(method: str, url: str, body: dict | None = None) -> tuple[int, object]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    req.add_header("X-Project-Id", PROJECT)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, (json.loads(raw) if raw else None)
    except ValueError:
        return status, raw.decode(errors="replace")


def wait_for(base: str, what: str, values: dict[str, str], timeout: float = 120) -> None:
    kind, _, arg = what.partition(":")
    deadline = time.monotonic() + timeout
    while True:
        if kind == "lb":
            status, body = call("GET", f"{base}/v2/lbaas/loadbalancers/{values[arg]}")
            state = body["loadbalancer"]["provisioning_status"] if status == 200 else status
            if state == "ACTIVE":
                return
            if state == "ERROR":
                raise RuntimeError(f"load balancer {arg} went to ERROR")
        elif kind == "gone":
            status, _ = call("GET", base + fill(arg, values))
            if status == 404:
                return
        else:
            raise ValueError(what)
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not reached within {timeout:.0f} s (last: {state!r})")
        time.sleep(0.2)


HEARTBEAT = r"""
import sys, time
from octavia.common import config
config.init(["--config-file", sys.argv[1]])
from octavia.amphorae.drivers.health import heartbeat_udp
zero = {"rx": 0, "tx": 0, "conns": 0, "totconns": 0, "ereq": 0}
heartbeat_udp.update_stats({
    "id": sys.argv[2], "ver": 3, "seq": 1, "recv_time": time.time(), "pools": {},
    "listeners": {sys.argv[3]: {"status": "OPEN", "stats": zero}},
})
"""


@dataclass
class Octavia:
    base: str
    python: Path
    conf: Path

    def heartbeat(self, amphora_id: str, listener_id: str) -> None:
        """What the health manager does with a heartbeat's counters (V3: deltas), by its own
        code: heartbeat_udp.update_stats -> the stats_db driver."""
        argv = [str(self.python), "-c", HEARTBEAT, str(self.conf), amphora_id, listener_id]
        subprocess.run(argv, check=True, capture_output=True)


def record(octavia: Octavia) -> list[dict]:
    base = octavia.base
    values = {"subnet": SUBNET, "project": PROJECT}
    cases = []
    for step in SCENARIO:
        if step.heartbeat_listener:
            octavia.heartbeat(values["amp"], values[step.heartbeat_listener])
        body = fill_body(step.body, values)
        status, response = call(step.method, base + fill(step.path, values), body)
        for name, dotted in step.capture.items():
            try:
                values[name] = dig(response, dotted)
            except (KeyError, IndexError, TypeError):
                raise RuntimeError(f"{step.name}: no {dotted} in {status} {response}") from None
        for what in step.wait:
            wait_for(base, what, values)
        log(f"{status} {step.method} {step.path} ({step.name})")
        known = {**values, "base": base}
        heartbeat = {"amphora": "amp", "listener": step.heartbeat_listener}
        cases.append(
            {
                **({"heartbeat": heartbeat} if step.heartbeat_listener else {}),
                "name": step.name,
                "method": step.method,
                "path": step.path,
                "body": step.body,
                "capture": step.capture,
                "wait": step.wait,
                "status": status,
                "response": unfill(response, known),
            }
        )
    return cases


# ----------------------------------------------------------------------------- the virtualenv


def ensure_venv(venv: Path) -> Path:
    """The compat virtualenv, (re)built when the pins changed; returns its bin dir."""
    stamp = venv / ".pins"
    pins = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if stamp.is_file() and stamp.read_text() == pins and (venv / "bin" / "octavia-api").exists():
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
        self.started: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, argv: list[str], log_path: Path, **kw) -> subprocess.Popen:
        out = open(log_path, "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kw
        )
        out.close()
        self.started.append((name, proc))
        return proc

    def stop_all(self) -> None:
        for name, proc in reversed(self.started):
            if proc.poll() is not None:
                continue
            log(f"stopping {name} (pid {proc.pid})")
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait()
        self.started.clear()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------- MariaDB


def ensure_mariadb() -> None:
    if shutil.which("mariadbd", path="/usr/sbin:/usr/bin"):
        return
    if os.geteuid() != 0:
        raise RuntimeError("mariadb-server is missing: apt-get install mariadb-server (as root)")
    log("installing mariadb-server")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "mariadb-server"], check=True, env=env)
    # The package enables its system service; this run starts its own server instead.
    subprocess.run(["systemctl", "disable", "mariadb"], check=False, capture_output=True)


def start_mariadb(work: Path, procs: Processes) -> str:
    """A private MariaDB server on a unix socket under work; returns its socket path."""
    data, sock = work / "mysql", work / "mysqld.sock"
    data.mkdir()
    user = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run(
        [
            "mariadb-install-db",
            "--no-defaults",
            *user,
            f"--datadir={data}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proc = procs.start(
        "mariadb",
        [
            shutil.which("mariadbd", path="/usr/sbin:/usr/bin") or "mariadbd",
            "--no-defaults",
            *user,
            f"--datadir={data}",
            f"--socket={sock}",
            f"--pid-file={work / 'mysqld.pid'}",
            "--skip-networking",
            "--innodb-buffer-pool-size=64M",
        ],
        work / "mariadb.log",
    )
    deadline = time.monotonic() + 60
    while not sock.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"MariaDB did not start; see {work / 'mariadb.log'}")
        time.sleep(0.2)
    subprocess.run(
        ["mariadb", "--no-defaults", f"--socket={sock}", "-uroot", "-e", "CREATE DATABASE octavia"],
        check=True,
    )
    log(f"mariadb: serving on {sock}")
    return str(sock)


# ----------------------------------------------------------------------------- Octavia


def make_ca(bin_dir: Path, work: Path) -> None:
    """A throw-away CA for the amphora certificates Octavia's create flow signs (the noop
    amphora driver never uses them). Made with the compat venv's cryptography."""
    script = r"""
import datetime, sys
from pathlib import Path
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
out = Path(sys.argv[1])
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "octavia-compat-ca")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
(out / "ca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
(out / "ca.key").write_bytes(key.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
    serialization.BestAvailableEncryption(b"compat-ca-passphrase")))
"""
    subprocess.run([str(bin_dir / "python"), "-c", script, str(work)], check=True)


def octavia_conf(work: Path, sock: str, port: int) -> Path:
    conf = work / "octavia.conf"
    conf.write_text(
        f"""[DEFAULT]
transport_url = fake:/
host = octavia-compat
debug = false
log_file = {work / "octavia.log"}

[api_settings]
bind_host = 127.0.0.1
bind_port = {port}
auth_strategy = noauth
default_provider_driver = amphora

[database]
connection = mysql+pymysql://root@localhost/octavia?unix_socket={sock}

[controller_worker]
amphora_driver = amphora_noop_driver
compute_driver = compute_noop_driver
network_driver = network_noop_driver
image_driver = image_noop_driver
volume_driver = volume_noop_driver
loadbalancer_topology = SINGLE
amp_active_wait_sec = 1
client_ca = {work / "ca.pem"}
event_notifications = false
# The noop drivers do not wait; a failed flow retries its database writes this often.
db_commit_retry_attempts = 5

[certificates]
cert_manager = noop_cert_manager
cert_generator = local_cert_generator
ca_certificate = {work / "ca.pem"}
ca_private_key = {work / "ca.key"}
ca_private_key_passphrase = compat-ca-passphrase

[task_flow]
jobboard_enabled = false
"""
    )
    return conf


def start_octavia(bin_dir: Path, work: Path, sock: str, procs: Processes) -> Octavia:
    port = free_port()
    conf = octavia_conf(work, sock, port)
    make_ca(bin_dir, work)
    log("octavia-db-manage upgrade head")
    with open(work / "db-manage.log", "wb") as out:
        subprocess.run(
            [str(bin_dir / "octavia-db-manage"), "--config-file", str(conf), "upgrade", "head"],
            check=True,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    proc = procs.start(
        "octavia (API and worker)",
        [str(bin_dir / "python"), str(HERE / "octavia_in_process.py"), str(conf), str(work)],
        work / "octavia-process.log",
        cwd=str(work),
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"octavia exited ({proc.returncode}); see octavia-process.log")
        try:
            with urllib.request.urlopen(base + "/", timeout=5):
                break
        except urllib.error.HTTPError:
            break
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("octavia did not answer within 120 s") from None
            time.sleep(0.3)
    log(f"octavia {OCTAVIA_VERSION}: serving at {base}")
    return Octavia(base, bin_dir / "python", conf)


# ----------------------------------------------------------------------------- main


def write(cases: list[dict]) -> None:
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "octavia": OCTAVIA_VERSION,
        "recorded_by": "deploy/compat/record_octavia19.py",
        "setup": "auth_strategy=noauth, provider amphora, noop compute/network/amphora drivers, "
        "MariaDB",
        "placeholders": "{name}: an id made by an earlier case's capture, or given: "
        "{subnet} (the VIP subnet), {project} (the caller's project), {base} (the API's URL)",
        "cases": cases,
    }
    OUTPUT.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    log(f"wrote {len(cases)} cases to {OUTPUT.relative_to(REPO)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=REPO / ".compat" / "venv")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args(argv)

    saved = {p: p.read_text() for p in HOST_SETTINGS if p.exists()}
    started = time.monotonic()
    bin_dir = ensure_venv(args.venv)
    ensure_mariadb()
    work = Path(tempfile.mkdtemp(prefix="lbaas-oct19-", dir="/tmp"))
    procs = Processes()

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    status = 1
    try:
        sock = start_mariadb(work, procs)
        write(record(start_octavia(bin_dir, work, sock, procs)))
        status = 0
    except KeyboardInterrupt:
        log("interrupted")
        status = 130
    except Exception as err:  # noqa: BLE001 - reported, then everything is cleaned up
        log(f"failed: {err}")
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        procs.stop_all()
        for path, value in saved.items():
            with contextlib.suppress(OSError):
                if path.read_text() != value:
                    path.write_text(value)
        if args.keep or status != 0:
            for name in ("octavia.log", "octavia-process.log", "mariadb.log", "db-manage.log"):
                if (work / name).exists():
                    log(f"--- {name} (last lines)")
                    lines = (work / name).read_text(errors="replace").splitlines()
                    print("\n".join(lines[-40:]))
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    log(f"done in {time.monotonic() - started:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
