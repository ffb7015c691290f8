"""Operator RPCs of OrchestratorService (quotas, catalog, providers, amphorae): a mixin of the
servicer, thin over service_layer.{quotas,catalog,amphorae}."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from lbaas.orchestrator.v1 import admin_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from sqlalchemy.orm import Session

from services.common.errors import Unavailable
from services.orchestrator.adapters.db.admin_models import QUOTA_RESOURCES
from services.orchestrator.codec import encode
from services.orchestrator.service_layer import amphorae, catalog, quotas
from services.orchestrator.service_layer.common import Deps, Scope

T = TypeVar("T")


def _scope(request: Any) -> Scope:
    return Scope(project_id=request.scope.project_id, all_projects=request.scope.all_projects)


def _paths(message: Any, mask: Any, fields: Iterable[str]) -> list[str]:
    """The FieldMask's paths; without a mask, every field set to a non-default value."""
    if mask.paths:
        return list(mask.paths)
    return [f for f in fields if getattr(message, f)]


def _fields(message: Any, names: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(message, name) for name in names}


def _quota(project_id: str, limits: dict[str, int]) -> admin_pb2.Quota:
    return admin_pb2.Quota(project_id=project_id, **limits)


_FP_FIELDS = ("id", "name", "provider_name", "flavor_data")
_FLAVOR_FIELDS = ("id", "name", "description", "enabled", "flavor_profile_id")
_AZP_FIELDS = ("id", "name", "provider_name", "availability_zone_data")
_AZ_FIELDS = ("name", "description", "enabled", "availability_zone_profile_id")


class AdminHandlers:
    """Mixed into OrchestratorServicer, which provides _tx (one transaction on a worker thread)
    and _deps."""

    _deps: Deps
    _tx: Callable[..., Any]
    # jobs.roll.Roller (given to OrchestratorServicer): RefreshConfigs runs a minor update.
    _roller: Any = None

    # -- amphorae --------------------------------------------------------------------------

    async def GetAmphora(self, request, context):
        out = await self._tx(lambda s: amphorae.view(s, amphorae.get(s, request.id)))
        return pb.GetAmphoraResponse(amphora=out)

    async def ListAmphorae(self, request, context):
        out = await self._tx(
            lambda s: [amphorae.view(s, r) for r in amphorae.list_(s, request.loadbalancer_id)]
        )
        return pb.ListAmphoraeResponse(amphorae=out)

    async def ConfigureAmphora(self, request, context):
        claimed = await self._tx(
            lambda s: amphorae.configure(s, self._deps, request.id, drift=request.drift)
        )
        return pb.ConfigureAmphoraResponse(claimed=claimed)

    async def FailoverAmphora(self, request, context):
        automatic = request.trigger == pb.FAILOVER_TRIGGER_HEARTBEAT_STALE
        claimed = await self._tx(
            lambda s: amphorae.failover_amphora(s, self._deps, request.id, automatic=automatic)
        )
        return pb.FailoverAmphoraResponse(claimed=claimed)

    async def FailoverLoadBalancer(self, request, context):
        await self._tx(
            lambda s: amphorae.failover_loadbalancer(s, self._deps, _scope(request), request.id)
        )
        return pb.FailoverLoadBalancerResponse()

    async def ResizeLoadBalancer(self, request, context):
        await self._tx(
            lambda s: amphorae.resize_loadbalancer(
                s, self._deps, _scope(request), request.id, request.flavor_id
            )
        )
        return pb.ResizeLoadBalancerResponse()

    async def DeleteAmphora(self, request, context):
        await self._tx(lambda s: amphorae.delete(s, self._deps, request.id))
        return pb.DeleteAmphoraResponse()

    async def RefreshConfigs(self, request, context):
        if self._roller is None:
            raise Unavailable("Config refresh is not available on this orchestrator.")
        report = await self._roller.refresh(request.loadbalancer_id, force=request.force)
        return pb.RefreshConfigsResponse(
            rendered=report.rendered,
            pushed=report.pushed,
            unchanged=report.unchanged,
            skipped=report.skipped,
            failures=[
                pb.RefreshFailure(loadbalancer_id=lb_id, reason=reason)
                for lb_id, reason in report.failures
            ],
            stopped=report.stopped,
        )

    # -- quotas ----------------------------------------------------------------------------

    async def GetQuota(self, request, context):
        def work(s: Session) -> pb.GetQuotaResponse:
            limits = quotas.effective(s, request.project_id)
            used = quotas.usage_of(s, request.project_id)
            return pb.GetQuotaResponse(
                quota=_quota(request.project_id, limits),
                usage=admin_pb2.QuotaUsage(project_id=request.project_id, **used),
            )

        return await self._tx(work)

    async def ListQuotas(self, request, context):
        out = await self._tx(
            lambda s: [
                _quota(row.project_id, quotas.explicit(row))
                for row in quotas.list_explicit(s, request.project_id)
            ]
        )
        return pb.ListQuotasResponse(quotas=out)

    async def UpdateQuota(self, request, context):
        q = request.quota
        values = {r: getattr(q, r) if q.HasField(r) else None for r in QUOTA_RESOURCES}
        paths = list(request.update_mask.paths) or [r for r in QUOTA_RESOURCES if q.HasField(r)]
        limits = await self._tx(lambda s: quotas.update(s, q.project_id, values, paths))
        return pb.UpdateQuotaResponse(quota=_quota(q.project_id, limits))

    async def ResetQuota(self, request, context):
        await self._tx(lambda s: quotas.reset(s, request.project_id))
        return pb.ResetQuotaResponse()

    async def GetQuotaDefaults(self, request, context):
        defaults = await self._tx(quotas.session_defaults)
        return pb.GetQuotaDefaultsResponse(quota=_quota("", defaults))

    # -- flavor profiles -------------------------------------------------------------------

    async def CreateFlavorProfile(self, request, context):
        fields = _fields(request.flavorprofile, _FP_FIELDS)
        out = await self._tx(
            lambda s: encode.flavor_profile(catalog.create_flavor_profile(s, fields, self._deps))
        )
        return pb.CreateFlavorProfileResponse(flavorprofile=out)

    async def GetFlavorProfile(self, request, context):
        out = await self._tx(
            lambda s: encode.flavor_profile(catalog.get_flavor_profile(s, request.id))
        )
        return pb.GetFlavorProfileResponse(flavorprofile=out)

    async def ListFlavorProfiles(self, request, context):
        out = await self._tx(
            lambda s: [encode.flavor_profile(r) for r in catalog.list_flavor_profiles(s)]
        )
        return pb.ListFlavorProfilesResponse(flavorprofiles=out)

    async def UpdateFlavorProfile(self, request, context):
        m = request.flavorprofile
        paths = _paths(m, request.update_mask, _FP_FIELDS[1:])
        out = await self._tx(
            lambda s: encode.flavor_profile(
                catalog.update_flavor_profile(s, m.id, _fields(m, _FP_FIELDS), paths, self._deps)
            )
        )
        return pb.UpdateFlavorProfileResponse(flavorprofile=out)

    async def DeleteFlavorProfile(self, request, context):
        await self._tx(lambda s: catalog.delete_flavor_profile(s, request.id))
        return pb.DeleteFlavorProfileResponse()

    # -- flavors ---------------------------------------------------------------------------

    async def CreateFlavor(self, request, context):
        fields = _fields(request.flavor, _FLAVOR_FIELDS)
        out = await self._tx(lambda s: encode.flavor(catalog.create_flavor(s, fields)))
        return pb.CreateFlavorResponse(flavor=out)

    async def GetFlavor(self, request, context):
        out = await self._tx(lambda s: encode.flavor(catalog.get_flavor(s, request.id)))
        return pb.GetFlavorResponse(flavor=out)

    async def ListFlavors(self, request, context):
        out = await self._tx(lambda s: [encode.flavor(r) for r in catalog.list_flavors(s)])
        return pb.ListFlavorsResponse(flavors=out)

    async def UpdateFlavor(self, request, context):
        m = request.flavor
        paths = _paths(m, request.update_mask, ("name", "description"))
        out = await self._tx(
            lambda s: encode.flavor(
                catalog.update_flavor(s, m.id, _fields(m, _FLAVOR_FIELDS), paths)
            )
        )
        return pb.UpdateFlavorResponse(flavor=out)

    async def DeleteFlavor(self, request, context):
        await self._tx(lambda s: catalog.delete_flavor(s, request.id))
        return pb.DeleteFlavorResponse()

    # -- availability zone profiles --------------------------------------------------------

    async def CreateAvailabilityZoneProfile(self, request, context):
        fields = _fields(request.availability_zone_profile, _AZP_FIELDS)
        out = await self._tx(
            lambda s: encode.availability_zone_profile(
                catalog.create_availability_zone_profile(s, fields)
            )
        )
        return pb.CreateAvailabilityZoneProfileResponse(availability_zone_profile=out)

    async def GetAvailabilityZoneProfile(self, request, context):
        out = await self._tx(
            lambda s: encode.availability_zone_profile(
                catalog.get_availability_zone_profile(s, request.id)
            )
        )
        return pb.GetAvailabilityZoneProfileResponse(availability_zone_profile=out)

    async def ListAvailabilityZoneProfiles(self, request, context):
        out = await self._tx(
            lambda s: [
                encode.availability_zone_profile(r)
                for r in catalog.list_availability_zone_profiles(s)
            ]
        )
        return pb.ListAvailabilityZoneProfilesResponse(availability_zone_profiles=out)

    async def UpdateAvailabilityZoneProfile(self, request, context):
        m = request.availability_zone_profile
        paths = _paths(m, request.update_mask, _AZP_FIELDS[1:])
        out = await self._tx(
            lambda s: encode.availability_zone_profile(
                catalog.update_availability_zone_profile(s, m.id, _fields(m, _AZP_FIELDS), paths)
            )
        )
        return pb.UpdateAvailabilityZoneProfileResponse(availability_zone_profile=out)

    async def DeleteAvailabilityZoneProfile(self, request, context):
        await self._tx(lambda s: catalog.delete_availability_zone_profile(s, request.id))
        return pb.DeleteAvailabilityZoneProfileResponse()

    # -- availability zones ----------------------------------------------------------------

    async def CreateAvailabilityZone(self, request, context):
        fields = _fields(request.availability_zone, _AZ_FIELDS)
        out = await self._tx(
            lambda s: encode.availability_zone(catalog.create_availability_zone(s, fields))
        )
        return pb.CreateAvailabilityZoneResponse(availability_zone=out)

    async def GetAvailabilityZone(self, request, context):
        out = await self._tx(
            lambda s: encode.availability_zone(catalog.get_availability_zone(s, request.name))
        )
        return pb.GetAvailabilityZoneResponse(availability_zone=out)

    async def ListAvailabilityZones(self, request, context):
        out = await self._tx(
            lambda s: [encode.availability_zone(r) for r in catalog.list_availability_zones(s)]
        )
        return pb.ListAvailabilityZonesResponse(availability_zones=out)

    async def UpdateAvailabilityZone(self, request, context):
        m = request.availability_zone
        paths = _paths(m, request.update_mask, ("description",))
        out = await self._tx(
            lambda s: encode.availability_zone(
                catalog.update_availability_zone(s, m.name, _fields(m, _AZ_FIELDS), paths)
            )
        )
        return pb.UpdateAvailabilityZoneResponse(availability_zone=out)

    async def DeleteAvailabilityZone(self, request, context):
        await self._tx(lambda s: catalog.delete_availability_zone(s, request.name))
        return pb.DeleteAvailabilityZoneResponse()

    # -- providers -------------------------------------------------------------------------

    async def ListProviders(self, request, context):
        return pb.ListProvidersResponse(
            providers=[
                admin_pb2.Provider(name=n, description=d) for n, d in catalog.list_providers()
            ]
        )

    async def ListProviderFlavorCapabilities(self, request, context):
        caps = catalog.flavor_capabilities(request.provider)
        return pb.ListProviderCapabilitiesResponse(
            capabilities=[admin_pb2.ProviderCapability(name=n, description=d) for n, d in caps]
        )

    async def ListProviderAvailabilityZoneCapabilities(self, request, context):
        caps = catalog.availability_zone_capabilities(request.provider)
        return pb.ListProviderCapabilitiesResponse(
            capabilities=[admin_pb2.ProviderCapability(name=n, description=d) for n, d in caps]
        )
