"""Frozen agent settings, read once from the command line."""

from __future__ import annotations

import argparse
import os
import shutil
from dataclasses import dataclass

from services.common.log_offload import PROTOCOLS, SyslogTarget, parse_target

BACKENDS = ("haproxy", "nginx")


def split_host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


@dataclass(frozen=True)
class Settings:
    amphora_id: str
    listen: str
    tls_cert: str
    tls_key: str
    client_ca: str
    runtime_dir: str
    # Every health receiver (several health replicas each get every heartbeat).
    heartbeat_targets: tuple[tuple[str, int], ...]
    heartbeat_key_file: str
    heartbeat_interval: float
    backend: str
    haproxy_bin: str
    nginx_bin: str = "/usr/sbin/nginx"
    # "" when keepalived is not installed: the agent then refuses configs with keepalived.conf.
    keepalived_bin: str = ""
    # Drain: the nft binary (a name looked up on PATH, or a path) and how long a drain lasts
    # when the request does not say.
    nft_bin: str = "nft"
    drain_hold: float = 60.0
    # Log offload (services/common/log_offload.py): where the agent's own log records go
    # (syslog, facility local1), and whether nothing is logged on the appliance's disk: the
    # agent then logs nowhere else, and keeps haproxy's, nginx's and keepalived's output in
    # memory (for error details) instead of <runtime_dir>/<engine>.log.
    admin_log_targets: tuple[SyslogTarget, ...] = ()
    log_protocol: str = "udp"
    disable_local_log_storage: bool = False
    # Runtime plans (member changes over haproxy's runtime API instead of a reload): off, the
    # agent behaves as the release before them (no "runtime_plan" capability, plans ignored).
    runtime_plans: bool = True


def _default_haproxy() -> str:
    return shutil.which("haproxy") or "/usr/sbin/haproxy"


def _default_nginx() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


def _default_keepalived() -> str:
    found = shutil.which("keepalived")
    if found:
        return found
    return "/usr/sbin/keepalived" if os.access("/usr/sbin/keepalived", os.X_OK) else ""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m amphora_agent", description=__doc__)
    p.add_argument("--amphora-id", required=True)
    p.add_argument("--listen", required=True, help="HOST:PORT for the mTLS gRPC API (port 0: any)")
    p.add_argument("--tls-cert", required=True, help="PEM server certificate (CN = amphora id)")
    p.add_argument("--tls-key", required=True, help="PEM private key of --tls-cert")
    p.add_argument("--client-ca", required=True, help="PEM CA that issues controller certificates")
    p.add_argument("--runtime-dir", required=True, help="state, sockets and config (under conf/)")
    p.add_argument(
        "--heartbeat-target",
        required=True,
        type=split_host_port,
        action="append",
        help="HOST:PORT (UDP); repeat it to send every heartbeat to several health services",
    )
    p.add_argument("--heartbeat-key-file", required=True, help='lines "<key_id> <hex key>"')
    p.add_argument("--heartbeat-interval", type=float, default=1.0, help="seconds (default 1.0)")
    p.add_argument("--backend", choices=BACKENDS, default="haproxy")
    p.add_argument(
        "--haproxy-bin", default=None, help="default: haproxy on PATH, /usr/sbin/haproxy"
    )
    p.add_argument("--nginx-bin", default=None, help="default: nginx on PATH, /usr/sbin/nginx")
    p.add_argument(
        "--keepalived-bin",
        default=None,
        help="default: keepalived on PATH, /usr/sbin/keepalived (ACTIVE_STANDBY halves)",
    )
    p.add_argument(
        "--nft-bin", default="nft", help="nft for Drain (default: nft on PATH, /usr/sbin/nft)"
    )
    p.add_argument(
        "--drain-hold",
        type=float,
        default=60.0,
        help="seconds after which a drain lifts by itself when Drain gives no hold (default 60)",
    )
    p.add_argument(
        "--admin-log-target",
        action="append",
        default=[],
        type=_syslog_target,
        help="IP:PORT ([IPv6]:PORT) of a syslog receiver of the agent's own log; repeat it for more",
    )
    p.add_argument("--log-protocol", choices=PROTOCOLS, default="udp", help="to those targets")
    p.add_argument(
        "--disable-local-log-storage",
        action="store_true",
        help="write no log on this host: no stderr log, engine output kept in memory",
    )
    p.add_argument(
        "--no-runtime-plans",
        dest="runtime_plans",
        action="store_false",
        # LBAAS_AGENT_RUNTIME_PLANS=0 does the same (an operator holding a fleet back, a test
        # of agents one release behind).
        default=os.environ.get("LBAAS_AGENT_RUNTIME_PLANS", "1") != "0",
        help="do not offer or run runtime plans (haproxy runtime API); every change reloads",
    )
    return p


def _syslog_target(value: str) -> SyslogTarget:
    try:
        return parse_target(value, "--admin-log-target")
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def parse_settings(argv: list[str] | None = None) -> Settings:
    args = build_parser().parse_args(argv)
    split_host_port(args.listen)
    if args.heartbeat_interval <= 0:
        raise SystemExit("--heartbeat-interval must be positive")
    if args.drain_hold <= 0:
        raise SystemExit("--drain-hold must be positive")
    return Settings(
        amphora_id=args.amphora_id,
        listen=args.listen,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        client_ca=args.client_ca,
        runtime_dir=os.path.abspath(args.runtime_dir),
        heartbeat_targets=tuple(args.heartbeat_target),
        heartbeat_key_file=args.heartbeat_key_file,
        heartbeat_interval=args.heartbeat_interval,
        backend=args.backend,
        haproxy_bin=args.haproxy_bin or _default_haproxy(),
        nginx_bin=args.nginx_bin or _default_nginx(),
        keepalived_bin=args.keepalived_bin or _default_keepalived(),
        nft_bin=args.nft_bin,
        drain_hold=args.drain_hold,
        admin_log_targets=tuple(dict.fromkeys(args.admin_log_target)),
        log_protocol=args.log_protocol,
        disable_local_log_storage=args.disable_local_log_storage,
        runtime_plans=args.runtime_plans,
    )
