"""Every nginx golden config passes a real `nginx -t` (with its certificate files, the runtime
dir moved to a temp dir and the VIP moved to loopback: `nginx -t` binds the listeners), and a
sized config (Target.size) starts as many workers as it names."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from lbaas.renderer.v1 import renderer_service_pb2

from services.renderer.backends.nginx.renderer import NginxRenderer
from services.renderer.domain import tls
from tests.unit.renderer import nginx_samples as samples

GOLDEN = Path(__file__).parents[2] / "unit" / "renderer" / "golden_nginx"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(
        not os.path.exists(NGINX)
        or not os.path.exists("/usr/lib/nginx/modules/ngx_stream_module.so"),
        reason="nginx with the stream module is not installed (make system-deps)",
    ),
]


def _materials_by_file() -> dict[str, bytes]:
    issued = samples.tls_issued()
    return {
        f"certs/{tls.ref_name(ref)}.pem": issued[ref].cert_pem + issued[ref].key_pem
        for ref in (samples.DEFAULT_REF, *samples.SNI_REFS)
    }


@pytest.mark.parametrize("golden", sorted(p.name for p in GOLDEN.glob("*.conf")))
def test_golden_passes_nginx_t(golden: str, tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    conf = runtime / "conf"
    (conf / "certs").mkdir(parents=True)
    text = (GOLDEN / golden).read_text()
    text = text.replace("/var/lib/lbaas/run", str(runtime))
    text = text.replace("203.0.113.20", "127.12.0.1").replace("[2001:db8::20]", "[::1]")
    (conf / "nginx.conf").write_text(text)
    certs = _materials_by_file()
    for path in re.findall(r"ssl_certificate (certs/[0-9a-f]+\.pem);", text):
        target = conf / path
        target.write_bytes(certs[path])
        target.chmod(0o600)
    done = subprocess.run(
        [NGINX, "-t", "-q", "-p", f"{runtime}/", "-c", str(conf / "nginx.conf"),
         "-g", "daemon off;"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_broken_config_fails_nginx_t(tmp_path: Path) -> None:
    """The check above can fail."""
    conf = tmp_path / "nginx.conf"
    conf.write_text((GOLDEN / "empty.conf").read_text().replace("/var/lib/lbaas/run", str(tmp_path))
                    .replace("worker_processes auto;", "worker_processes many;"))  # fmt: skip
    done = subprocess.run(
        [NGINX, "-t", "-q", "-p", f"{tmp_path}/", "-c", str(conf), "-g", "daemon off;"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode != 0 and "worker_processes" in done.stderr


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as fh:
                state, ppid = fh.read().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue
        if int(ppid) == pid and state != "Z":
            found.add(int(entry))
    return found


def test_a_sized_config_starts_its_number_of_workers(tmp_path: Path) -> None:
    """Target.size reaches the running nginx: worker_processes replaces one worker per CPU."""
    cpus = len(os.sched_getaffinity(0))
    threads = cpus + 1 if cpus < 64 else cpus - 1
    runtime = tmp_path / "run"
    (runtime / "conf").mkdir(parents=True)
    target = samples.target(runtime_dir=str(runtime))
    target.size.CopyFrom(renderer_service_pb2.Size(threads=threads, max_connections=1000))
    rendering = NginxRenderer().render(samples.empty_lb(), target)
    conf = runtime / "conf" / "nginx.conf"
    conf.write_bytes(rendering.files[0].content)
    assert f"worker_processes {threads};" in conf.read_text()
    argv = [NGINX, "-p", f"{runtime}/", "-c", str(conf), "-g", "daemon off;"]
    master = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while len(_children(master.pid)) < threads and time.monotonic() < deadline:
            assert master.poll() is None, (runtime / "nginx.log").read_text()
            time.sleep(0.05)
        time.sleep(0.2)  # no more than that many either
        assert len(_children(master.pid)) == threads, (runtime / "nginx.log").read_text()
    finally:
        master.terminate()
        master.wait(timeout=10)
