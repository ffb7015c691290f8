"""Compute sizes: what a flavor's `compute_flavor` names.

The operator's catalog (LBAAS_COMPUTE_FLAVORS, a JSON object) maps a name to how much an
amphora of that size may use: worker threads and concurrent connections, rendered into its
config (lbaas.renderer.v1.Size). A flavor without `compute_flavor` builds amphorae of the
default size (nothing rendered: the engine's defaults). A name the catalog lacks is refused
where it enters: the flavor profile, and a create or resize whose flavor names it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from services.common.errors import InvalidInput

DEFAULT = ""  # the compute_flavor of an amphora of the default size
MAX_THREADS = 64
MAX_CONNECTIONS = 10_000_000


@dataclass(frozen=True)
class Size:
    threads: int = 0  # 0: the engine's default
    max_connections: int = 0  # 0: the engine's default


# Shipped so a fresh system can be resized at once; LBAAS_COMPUTE_FLAVORS replaces it. Small
# enough for a development machine: haproxy raises its open-file limit to about twice its
# maxconn at start and refuses to start when it cannot (strict-limits), and a container's hard
# limit is often 20,000 or less. An operator sizes real appliances with LBAAS_COMPUTE_FLAVORS.
DEFAULT_CATALOG: dict[str, Size] = {
    "small": Size(threads=1, max_connections=2_000),
    "medium": Size(threads=2, max_connections=4_000),
    "large": Size(threads=4, max_connections=8_000),
}


def parse_catalog(raw: str) -> dict[str, Size]:
    """LBAAS_COMPUTE_FLAVORS: {"name": {"threads": 2, "max_connections": 50000}, ...}."""
    variable = "LBAAS_COMPUTE_FLAVORS"
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ValueError(f"{variable} is not valid JSON: {err.msg}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{variable} must be a JSON object of name -> size")
    out = {}
    for name, spec in data.items():
        if not name or not isinstance(spec, dict) or set(spec) - {"threads", "max_connections"}:
            raise ValueError(
                f"{variable}: {name!r} must map to an object with threads and/or max_connections"
            )
        threads = spec.get("threads", 0)
        conns = spec.get("max_connections", 0)
        for key, value, top in (
            ("threads", threads, MAX_THREADS),
            ("max_connections", conns, MAX_CONNECTIONS),
        ):
            if type(value) is not int or not 0 <= value <= top:
                raise ValueError(f"{variable}: {name}.{key} must be an integer 0 to {top}")
        out[name] = Size(threads, conns)
    return out


def check(catalog: dict[str, Size], compute_flavor: str, field: str) -> str:
    """compute_flavor itself when the catalog has it (or it is the default), else a 400."""
    if compute_flavor != DEFAULT and compute_flavor not in catalog:
        known = ", ".join(sorted(catalog)) or "none"
        raise InvalidInput(
            f"compute_flavor {compute_flavor!r} is not a size the configured compute driver "
            f"can build (available: {known}).",
            field=field,
        )
    return compute_flavor


def of(catalog: dict[str, Size], compute_flavor: str) -> Size | None:
    """The size to render for an amphora built as compute_flavor (None: the default)."""
    if compute_flavor == DEFAULT:
        return None
    return catalog.get(compute_flavor)
