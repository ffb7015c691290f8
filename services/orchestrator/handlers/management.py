"""Management RPCs of OrchestratorService (config preview, resync, an amphora's diagnostics
and logs): a mixin of the servicer, thin over service_layer.management."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.common.errors import Unavailable
from services.orchestrator.service_layer import management
from services.orchestrator.service_layer.common import Deps, Scope


def _scope(request: Any) -> Scope:
    return Scope(project_id=request.scope.project_id, all_projects=request.scope.all_projects)


class ManagementHandlers:
    """Mixed into OrchestratorServicer, which provides _tx, _deps and _management."""

    _deps: Deps
    _tx: Callable[..., Any]
    # service_layer.management.Management (given to OrchestratorServicer).
    _management: management.Management | None = None

    def _managed(self) -> management.Management:
        if self._management is None:
            raise Unavailable("The management API is not available on this orchestrator.")
        return self._management

    async def PreviewLoadBalancerConfig(self, request, context):
        return await self._managed().preview(_scope(request), request.id)

    async def ResyncLoadBalancer(self, request, context):
        ids = await self._tx(
            lambda s: management.resync(s, self._deps, _scope(request), request.id)
        )
        return pb.ResyncLoadBalancerResponse(amphora_ids=ids)

    async def GetAmphoraDiagnostics(self, request, context):
        return await self._managed().diagnostics(request.id)

    async def GetAmphoraLogs(self, request, context):
        return await self._managed().logs(request.id, request.lines)
