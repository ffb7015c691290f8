"""The images' health check: is this container's service serving, where its own settings bind it?

    python -m deploy.docker.probe SERVICE    (api-gateway, orchestrator, renderer, health, compute)

Exit status 0 when it is. The gRPC services are asked grpc.health.v1 over the internal mutual TLS
(services/common/healthcheck.py), as their own identity; the gateway is asked `GET /` (version
discovery: no token, no backend call). The address comes from the service's own settings object,
so the bind rules keep one owner (the orchestrator's worker role binds
LBAAS_ORCHESTRATOR_WORKER_ADDR, each renderer its backend's variable) and an operator who moves a
port in the environment moves the probe with it; a wildcard bind is probed on loopback.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from collections.abc import Callable, Mapping

from services.common import internal_tls
from services.common.healthcheck import probe

_WILDCARDS = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]", "": "127.0.0.1"}  # noqa: S104


def local_address(bind: str) -> str:
    host, sep, port = bind.rpartition(":")
    if not sep:
        raise ValueError(f"not a host:port address: {bind!r}")
    return f"{_WILDCARDS.get(host, host)}:{port}"


def _orchestrator(env: Mapping[str, str]) -> tuple[str, str]:
    from services.orchestrator.config import bind_address, role

    serves_api = role(env.get("LBAAS_ORCHESTRATOR_ROLE", "all")) in ("all", "api")
    return bind_address(env), internal_tls.ORCHESTRATOR if serves_api else internal_tls.WORKER


def _renderer(env: Mapping[str, str]) -> tuple[str, str]:
    from services.renderer.config import Settings

    return Settings.from_env(env).bind_address, internal_tls.RENDERER


def _health(env: Mapping[str, str]) -> tuple[str, str]:
    from services.health.config import Settings

    return Settings.from_env(env).grpc_addr, internal_tls.HEALTH


def _compute(env: Mapping[str, str]) -> tuple[str, str]:
    from services.orchestrator.compute_host.config import Settings

    return Settings.from_env(env).bind_address, internal_tls.COMPUTE


GRPC_SERVICES: dict[str, Callable[[Mapping[str, str]], tuple[str, str]]] = {
    "orchestrator": _orchestrator,
    "renderer": _renderer,
    "health": _health,
    "compute": _compute,
}


def gateway_serving(env: Mapping[str, str], timeout: float) -> bool:
    from services.api_gateway.config import Settings

    settings = Settings.from_env(env)
    url = f"http://{local_address(f'{settings.api_host}:{settings.api_port}')}/"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - http only
            return 200 <= response.status < 400
    except OSError as err:
        print(f"{url}: {err}", file=sys.stderr)
        return False


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    env = os.environ if env is None else env
    services = ["api-gateway", *GRPC_SERVICES]
    if len(argv) != 1 or argv[0] not in services:
        print(f"usage: python -m deploy.docker.probe {{{','.join(services)}}}", file=sys.stderr)
        return 2
    timeout = 3.0
    if argv[0] == "api-gateway":
        return 0 if gateway_serving(env, timeout) else 1
    bind, identity = GRPC_SERVICES[argv[0]](env)
    return 0 if probe(local_address(bind), identity, identity, timeout) else 1


if __name__ == "__main__":
    sys.exit(main())
