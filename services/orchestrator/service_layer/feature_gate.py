"""Refuses a create or update that needs a feature the renderer does not advertise, before
anything is written (so an unsupported option is a 400, not a load balancer in ERROR later).

The supported features come from the renderer's Describe at run time (renderers gain features
with every release), cached per renderer address for `ttl` seconds. A renderer that cannot be
reached does not block anything: the change is accepted and the reconcile pass reports what the
renderer refuses.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

from services.common.errors import DomainError, InvalidInput
from services.orchestrator.domain import features
from services.orchestrator.domain.ports import Renderer

log = logging.getLogger(__name__)

DEFAULT_TTL = 60.0
DESCRIBE_TIMEOUT = 3.0


class FeatureGate:
    def __init__(
        self,
        renderer: Renderer,
        *,
        ttl: float = DEFAULT_TTL,
        timeout: float = DESCRIBE_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._renderer = renderer
        self._ttl = ttl
        self._timeout = timeout
        self._clock = clock
        # renderer address -> (expires at, backend type, supported features)
        self._cache: dict[str, tuple[float, str, frozenset[str]]] = {}
        self._lock = asyncio.Lock()

    def _address(self) -> str:
        return str(getattr(self._renderer, "address", "") or id(self._renderer))

    async def _described(self) -> tuple[str, frozenset[str]] | None:
        address = self._address()
        hit = self._cache.get(address)
        if hit is not None and hit[0] > self._clock():
            return hit[1], hit[2]
        async with self._lock:
            hit = self._cache.get(address)
            if hit is not None and hit[0] > self._clock():
                return hit[1], hit[2]
            try:
                backend, _version, supported = await asyncio.wait_for(
                    self._renderer.describe(), self._timeout
                )
            except (DomainError, TimeoutError, OSError) as err:
                log.warning("renderer at %s not described (%s); features not checked", address, err)
                return None
            entry = (self._clock() + self._ttl, backend or "renderer", frozenset(supported))
            self._cache[address] = entry
            return entry[1], entry[2]

    async def check(self, needs: Iterable[features.Need]) -> None:
        """Raises InvalidInput naming the first needed feature the renderer lacks."""
        needs = list(needs)
        if not needs:
            return
        described = await self._described()
        if described is None:
            return
        backend, supported = described
        lacking = features.missing(supported, needs)
        if lacking is not None:
            raise InvalidInput(
                f"feature {lacking.feature} is not supported by the {backend} backend",
                field=lacking.field,
            )
