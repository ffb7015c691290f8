"""Refuses a create or update that needs a feature the renderer does not advertise, before
anything is written (so an unsupported option is a 501, as Octavia's, not a load balancer in ERROR later).

Each backend (haproxy, nginx) has its own renderer service; a change is checked against the
renderer of the backend its load balancer uses. The supported features come from that renderer's
Describe at run time (renderers gain features with every release), cached per renderer address
for `ttl` seconds. A renderer that cannot be reached does not block anything: the change is
accepted and the reconcile pass reports what the renderer refuses.

Two parts, so that a write finds its load balancer once: `ready()` (async, no database) makes the
cached Describe results fresh; `check_now(needs, backend)` (synchronous, from the cache only) runs
in the write's transaction where it has the load balancer and so its backend
(service_layer.common.lock_loadbalancer).
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
        # renderer address -> (expires at, backend type, supported features). An entry is
        # dropped when its renderer cannot be described again: it then blocks nothing.
        self._cache: dict[str, tuple[float, str, frozenset[str]]] = {}
        # renderer address -> the Describe under way, which every caller that needs it awaits.
        self._describing: dict[str, asyncio.Task[None]] = {}
        self.standing: tuple[features.Need, ...] = tuple(standing)
        # Each configured renderer once (one may serve several backends), by address.
        every = [self._only] if self._renderers is None else list(self._renderers.values())
        self._every: dict[str, Renderer] = {self._address(r): r for r in every if r is not None}

    @property
    def needs_backend(self) -> bool:
        """True when backends have different renderers, so a check must know which backend the
        load balancer uses (callers check in the write's transaction, which finds it; otherwise
        before it, with no backend)."""
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

    async def ready(self) -> None:
        """Describes, concurrently, every configured renderer whose cached Describe expired (no
        database), so that check_now answers from fresh results whatever the backend. One that
        cannot be described within the timeout is left undescribed: it blocks nothing."""
        now = self._clock()
        stale = [r for a, r in self._every.items() if not self._fresh(a, now)]
        if stale:
            await asyncio.gather(*(self._refresh(r) for r in stale))

    def _fresh(self, address: str, now: float) -> bool:
        hit = self._cache.get(address)
        return hit is not None and hit[0] > now

    async def _refresh(self, renderer: Renderer) -> None:
        address = self._address(renderer)
        if self._fresh(address, self._clock()):
            return
        task = self._describing.get(address)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._describe(renderer, address))
            self._describing[address] = task
        # Shielded: a caller that goes away (its deadline) does not cancel it for the others.
        await asyncio.shield(task)

    async def _describe(self, renderer: Renderer, address: str) -> None:
        try:
            backend, _version, supported = await asyncio.wait_for(
                renderer.describe(), self._timeout
            )
        except (DomainError, TimeoutError, OSError) as err:
            log.warning("renderer at %s not described (%s); features not checked", address, err)
            self._cache.pop(address, None)
        else:
            entry = (self._clock() + self._ttl, backend or "renderer", frozenset(supported))
            self._cache[address] = entry
        finally:
            self._describing.pop(address, None)

    def check_now(self, needs: Iterable[features.Need], backend: str | None = None) -> None:
        """Raises Unsupported (Octavia's 501 "does not support a requested option") naming the
        first needed feature (with the standing ones) the renderer of `backend` (None: the
        default backend) lacks, from the cached Describe only (ready() refreshes it). A renderer
        not described, or no renderer for the backend here, blocks nothing: the reconcile pass
        reports what it refuses."""
        needs = [*needs, *self.standing]
        if not needs:
            return
        renderer = self._renderer(backend)
        if renderer is None:
            return
        described = self._cache.get(self._address(renderer))
        if described is None:
            return
        _expires, name, supported = described
        lacking = features.missing(supported, needs)
        if lacking is not None:
            raise Unsupported.option(
                f"feature {lacking.feature} is not supported by the {name} backend",
                field=lacking.field,
            )

    async def check(self, needs: Iterable[features.Need], backend: str | None = None) -> None:
        """check_now, after refreshing the Describe of `backend`'s renderer only."""
        needs = list(needs)
        if not needs and not self.standing:
            return
        renderer = self._renderer(backend)
        if renderer is not None:
            await self._refresh(renderer)
        self.check_now(needs, backend)
