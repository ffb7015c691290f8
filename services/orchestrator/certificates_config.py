"""Settings of the certificate driver, read from the environment once (beside config.py, which
holds the rest of the orchestrator's settings)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DRIVERS = ("local", "barbican")


@dataclass(frozen=True)
class BarbicanSettings:
    """How the barbican driver reaches Barbican through openstacksdk. With endpoint and no
    auth_url, requests go to endpoint unauthenticated (auth type "none", for a Barbican behind
    noauth middleware); with auth_url, keystone password auth of the service user."""

    endpoint: str = ""
    auth_url: str = ""
    username: str = ""
    password: str = ""
    project_name: str = ""
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"
    region_name: str = ""
    interface: str = "public"
    timeout: float = 10.0
    verify: bool = True


@dataclass(frozen=True)
class CertificateSettings:
    driver: str
    key_file: Path
    barbican: BarbicanSettings

    @classmethod
    def from_env(cls, run_dir: Path, env: Mapping[str, str] | None = None) -> CertificateSettings:
        """run_dir: the orchestrator's run directory (LBAAS_RUN_DIR), where the key file goes
        unless LBAAS_CERT_KEY_FILE says otherwise."""
        env = os.environ if env is None else env
        driver = env.get("LBAAS_CERT_DRIVER", "local").strip().lower() or "local"
        if driver not in DRIVERS:
            raise ValueError(f"LBAAS_CERT_DRIVER must be one of {', '.join(DRIVERS)}: {driver!r}")
        key_file = Path(env.get("LBAAS_CERT_KEY_FILE") or run_dir / "cert-encryption.key")
        barbican = BarbicanSettings(
            endpoint=env.get("LBAAS_BARBICAN_ENDPOINT", ""),
            auth_url=env.get("LBAAS_BARBICAN_AUTH_URL", ""),
            username=env.get("LBAAS_BARBICAN_USERNAME", ""),
            password=env.get("LBAAS_BARBICAN_PASSWORD", ""),
            project_name=env.get("LBAAS_BARBICAN_PROJECT_NAME", ""),
            user_domain_name=env.get("LBAAS_BARBICAN_USER_DOMAIN_NAME", "Default"),
            project_domain_name=env.get("LBAAS_BARBICAN_PROJECT_DOMAIN_NAME", "Default"),
            region_name=env.get("LBAAS_BARBICAN_REGION_NAME", ""),
            interface=env.get("LBAAS_BARBICAN_INTERFACE", "public"),
            timeout=float(env.get("LBAAS_BARBICAN_TIMEOUT", "10")),
            verify=env.get("LBAAS_BARBICAN_VERIFY", "true").lower() not in ("0", "false", "no"),
        )
        if driver == "barbican" and not (barbican.endpoint or barbican.auth_url):
            raise ValueError(
                "LBAAS_CERT_DRIVER=barbican needs LBAAS_BARBICAN_ENDPOINT or _AUTH_URL"
            )
        return cls(driver=driver, key_file=key_file, barbican=barbican)
