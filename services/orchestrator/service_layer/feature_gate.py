"""Refuses a create or update that needs a feature the renderer does not advertise, before
anything is written (so an unsupported option is a 501, as Octavia's, not a load balancer in ERROR later).

Each backend (haproxy, nginx) has its own renderer service; a change is checked against the
renderer of the backend its load balancer uses. The supported features come from that renderer's
Describe at run time (renderers gain features with every release), cached per renderer address
for `ttl` seconds. A renderer that cannot be reached does not block anything: the change is
accepted and the reconcile pass reports what the renderer refuses.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping

from services.common.errors import DomainError, Unsupported
from services.orchestrator.domain import features
from services.orchestrator.domain.ports import Renderer

log = logging.getLogger(__name__)

DEFAULT_TTL = 60.0
DESCRIBE_TIMEOUT = 3.0


DEFAULT_BACKEND = "haproxy"


class FeatureGate:
    def __init__(
        self,
        renderers: Renderer | Mapping[str, Renderer],
        *,
        ttl: float = DEFAULT_TTL,
        timeout: float = DESCRIBE_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
        standing: Iterable[features.Need] = (),
    ):
        """standing: what the deployment needs of every load balancer whatever the change (the
        operator's settings: log offload over TCP), checked with every create and update."""
        # One renderer (tests, a single-backend deployment) serves every backend.
        self._renderers: Mapping[str, Renderer] | None = (
            dict(renderers) if isinstance(renderers, Mapping) else None
        )
        self._only: Renderer | None = None if isinstance(renderers, Mapping) else renderers
        self._ttl = ttl
        self._timeout = timeout
        self._clock = clock
        # renderer address -> (expires at, backend type, supported features)
        self._cache: dict[str, tuple[float, str, frozenset[str]]] = {}
        self._lock = asyncio.Lock()
        self.standing: tuple[features.Need, ...] = tuple(standing)

    @property
    def needs_backend(self) -> bool:
        """True when backends have different renderers, so a check must know which backend the
        load balancer uses (callers skip the database lookup otherwise)."""
        if self._renderers is None:
            return False
        return len({id(r) for r in self._renderers.values()}) > 1

    def _renderer(self, backend: str | None) -> Renderer | None:
        if self._renderers is None:
            return self._only
        return self._renderers.get(backend or DEFAULT_BACKEND)

    @staticmethod
    def _address(renderer: Renderer) -> str:
        return str(getattr(renderer, "address", "") or id(renderer))

    async def _described(self, renderer: Renderer) -> tuple[str, frozenset[str]] | None:
        address = self._address(renderer)
        hit = self._cache.get(address)
        if hit is not None and hit[0] > self._clock():
            return hit[1], hit[2]
        async with self._lock:
            hit = self._cache.get(address)
            if hit is not None and hit[0] > self._clock():
                return hit[1], hit[2]
            try:
                backend, _version, supported = await asyncio.wait_for(
                    renderer.describe(), self._timeout
                )
            except (DomainError, TimeoutError, OSError) as err:
                log.warning("renderer at %s not described (%s); features not checked", address, err)
                return None
            entry = (self._clock() + self._ttl, backend or "renderer", frozenset(supported))
            self._cache[address] = entry
            return entry[1], entry[2]

    async def check(self, needs: Iterable[features.Need], backend: str | None = None) -> None:
        """Raises Unsupported (Octavia's 501 "does not support a requested option") naming the
        first needed feature the renderer of `backend` (None: the default backend) lacks."""
        needs = [*needs, *self.standing]
        if not needs:
            return
        renderer = self._renderer(backend)
        if renderer is None:
            return  # no renderer for that backend here: the reconcile pass reports it
        described = await self._described(renderer)
        if described is None:
            return
        backend, supported = described
        lacking = features.missing(supported, needs)
        if lacking is not None:
            raise Unsupported.option(
                f"feature {lacking.feature} is not supported by the {backend} backend",
                field=lacking.field,
            )
