"""The log offload golden configs pass the real `haproxy -c` and `nginx -t` (syslog targets over
UDP and haproxy's TCP rings, nginx's error log on stderr), and an invalid one does not."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parents[2] / "unit" / "renderer" / "golden_log_offload"
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
RUNTIME = "/var/lib/lbaas/run"


def _haproxy_check(text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(text.replace(RUNTIME, str(tmp_path)))
    return subprocess.run(
        [HAPROXY, "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=30, check=False
    )


@pytest.mark.skipif(not os.path.exists(HAPROXY), reason="haproxy is not installed")
@pytest.mark.parametrize("golden", sorted(p.name for p in GOLDEN.glob("haproxy_*.cfg")))
def test_haproxy_golden_passes_haproxy_c(golden: str, tmp_path: Path) -> None:
    done = _haproxy_check((GOLDEN / golden).read_text(), tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0 and "[ALERT]" not in output, output
    warnings = [line for line in output.splitlines() if "[WARNING]" in line]
    assert all("server state file" in line for line in warnings), output


@pytest.mark.skipif(not os.path.exists(HAPROXY), reason="haproxy is not installed")
def test_haproxy_c_can_fail_on_a_log_line(tmp_path: Path) -> None:
    text = (GOLDEN / "haproxy_udp.cfg").read_text().replace("local1 notice", "local99 notice")
    assert _haproxy_check(text, tmp_path).returncode != 0


@pytest.mark.skipif(
    not os.path.exists(NGINX) or not os.path.exists("/usr/lib/nginx/modules/ngx_stream_module.so"),
    reason="nginx with the stream module is not installed (make system-deps)",
)
@pytest.mark.parametrize("golden", sorted(p.name for p in GOLDEN.glob("nginx_*.conf")))
def test_nginx_golden_passes_nginx_t(golden: str, tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    (runtime / "conf").mkdir(parents=True)
    text = (GOLDEN / golden).read_text().replace(RUNTIME, str(runtime))
    # `nginx -t` binds the listeners: the VIP moves to loopback.
    text = text.replace("203.0.113.20", "127.12.0.1").replace("[2001:db8::20]", "[::1]")
    (runtime / "conf" / "nginx.conf").write_text(text)
    done = subprocess.run(
        [NGINX, "-t", "-q", "-p", f"{runtime}/", "-c", str(runtime / "conf" / "nginx.conf"),
         "-g", "daemon off;"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
