"""An in-memory fake of the orchestrator's operator RPCs (quotas, flavors, availability zones,
providers, amphorae) and of the health service's GetAmphoraStats and GetFailoverStatus, for the
gateway's tests.

It extends MemoryOrchestrator, so one object serves every RPC the gateway calls and records
them all in `calls`; it follows Octavia's rules where the orchestrator owns them (uniqueness,
objects in use, unknown providers), so route tests see the errors real callers would.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from lbaas.amphora.v1 import amphora_service_pb2 as apb
from lbaas.health.v1 import health_service_pb2 as hpb
from lbaas.health.v1 import stats_pb2
from lbaas.orchestrator.v1 import admin_pb2, management_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.common.errors import Conflict, InvalidInput, NotFound, Precondition
from tests.support.memory_orchestrator import MemoryOrchestrator

QUOTA_LIMITS = (
    "load_balancer",
    "listener",
    "pool",
    "health_monitor",
    "member",
    "l7policy",
    "l7rule",
)
_WRITES = ("Create", "Update", "Delete", "Reset", "Failover", "Configure", "Resync")


def _now() -> Timestamp:
    ts = Timestamp()
    ts.GetCurrentTime()
    ts.nanos = 0
    return ts


class MemoryAdmin(MemoryOrchestrator):
    def __init__(self) -> None:
        super().__init__()
        self.providers: dict[str, str] = {"amphora": "The Octavia Amphora driver."}
        self.flavor_capabilities: dict[str, dict[str, str]] = {
            "amphora": {
                "loadbalancer_topology": "The load balancer topology. One of: SINGLE.",
                "compute_flavor": "The compute driver flavor ID.",
            }
        }
        self.az_capabilities: dict[str, dict[str, str]] = {
            "amphora": {"compute_zone": "The compute availability zone."}
        }
        self.quota_defaults = admin_pb2.Quota(**{f: -1 for f in QUOTA_LIMITS})
        self.quotas: dict[str, admin_pb2.Quota] = {}
        self.flavor_profiles: dict[str, admin_pb2.FlavorProfile] = {}
        self.flavors: dict[str, admin_pb2.Flavor] = {}
        self.az_profiles: dict[str, admin_pb2.AvailabilityZoneProfile] = {}
        self.zones: dict[str, admin_pb2.AvailabilityZone] = {}
        self.amphorae: dict[str, pb.Amphora] = {}
        self.stats_by_amphora: dict[str, list[stats_pb2.ListenerStatsEntry]] = {}
        self.failover = hpb.FailoverStatus()
        self._admin: dict[str, Callable[[Message], Message]] = {
            name[len("_rpc_") :]: getattr(self, name)
            for name in dir(self)
            if name.startswith("_rpc_")
        }

    @property
    def writes(self) -> list[tuple[str, Message]]:
        return [(rpc, req) for rpc, req in self.calls if rpc.startswith(_WRITES)]

    async def call(self, rpc: str, request: Message) -> Message:
        handler = self._admin.get(rpc)
        if handler is None:
            return await super().call(rpc, request)
        self.calls.append((rpc, copy.deepcopy(request)))
        if self.fail_next is not None:
            err, self.fail_next = self.fail_next, None
            raise err
        return handler(request)

    # -- helpers for tests --------------------------------------------------------------
    def add_amphora(self, loadbalancer_id: str = "", **fields: object) -> pb.Amphora:
        values: dict[str, object] = {
            "id": str(uuid.uuid4()),
            "loadbalancer_id": loadbalancer_id,
            "status": "ALLOCATED",
            "role": "STANDALONE",
            "compute_id": str(uuid.uuid4()),
            "lb_network_ip": "127.0.0.1",
            "vip_address": "203.0.113.10",
            "created_at": _now(),
            "cert_expiration": _now(),
        }
        amp = pb.Amphora(**{**values, **fields})  # type: ignore[arg-type]
        self.amphorae[amp.id] = amp
        return amp

    # -- quotas -------------------------------------------------------------------------
    def _effective(self, project_id: str) -> admin_pb2.Quota:
        out = admin_pb2.Quota(project_id=project_id)
        own = self.quotas.get(project_id, admin_pb2.Quota())
        for f in QUOTA_LIMITS:
            source = own if own.HasField(f) else self.quota_defaults
            setattr(out, f, getattr(source, f))
        return out

    def _rpc_GetQuota(self, req: pb.GetQuotaRequest) -> pb.GetQuotaResponse:
        return pb.GetQuotaResponse(
            quota=self._effective(req.project_id),
            usage=admin_pb2.QuotaUsage(project_id=req.project_id),
        )

    def _rpc_ListQuotas(self, req: pb.ListQuotasRequest) -> pb.ListQuotasResponse:
        items = [q for p, q in self.quotas.items() if not req.project_id or p == req.project_id]
        return pb.ListQuotasResponse(quotas=items)

    def _rpc_UpdateQuota(self, req: pb.UpdateQuotaRequest) -> pb.UpdateQuotaResponse:
        stored = self.quotas.setdefault(
            req.quota.project_id, admin_pb2.Quota(project_id=req.quota.project_id)
        )
        for path in req.update_mask.paths:
            if path not in QUOTA_LIMITS:
                raise InvalidInput(f"Unknown quota {path}", field=path)
            if req.quota.HasField(path):
                setattr(stored, path, getattr(req.quota, path))
            else:
                stored.ClearField(path)
        return pb.UpdateQuotaResponse(quota=stored)

    def _rpc_ResetQuota(self, req: pb.ResetQuotaRequest) -> pb.ResetQuotaResponse:
        if self.quotas.pop(req.project_id, None) is None:
            raise NotFound(f"Quota {req.project_id} not found.")
        return pb.ResetQuotaResponse()

    def _rpc_GetQuotaDefaults(self, req: pb.GetQuotaDefaultsRequest) -> pb.GetQuotaDefaultsResponse:
        return pb.GetQuotaDefaultsResponse(quota=self.quota_defaults)

    # -- providers ----------------------------------------------------------------------
    def _provider(self, name: str) -> str:
        if name not in self.providers:
            raise InvalidInput(f"Provider '{name}' is not enabled.", field="provider")
        return name

    def _rpc_ListProviders(self, req: pb.ListProvidersRequest) -> pb.ListProvidersResponse:
        return pb.ListProvidersResponse(
            providers=[admin_pb2.Provider(name=n, description=d) for n, d in self.providers.items()]
        )

    def _capabilities(self, table: dict[str, dict[str, str]], provider: str) -> Message:
        caps = table.get(self._provider(provider), {})
        return pb.ListProviderCapabilitiesResponse(
            capabilities=[
                admin_pb2.ProviderCapability(name=n, description=d) for n, d in caps.items()
            ]
        )

    def _rpc_ListProviderFlavorCapabilities(
        self, req: pb.ListProviderCapabilitiesRequest
    ) -> Message:
        return self._capabilities(self.flavor_capabilities, req.provider)

    def _rpc_ListProviderAvailabilityZoneCapabilities(
        self, req: pb.ListProviderCapabilitiesRequest
    ) -> Message:
        return self._capabilities(self.az_capabilities, req.provider)

    # -- flavor profiles and flavors ----------------------------------------------------
    def _flavor_profile(self, profile_id: str) -> admin_pb2.FlavorProfile:
        if profile_id not in self.flavor_profiles:
            raise NotFound(f"Flavor profile {profile_id} not found.")
        return self.flavor_profiles[profile_id]

    def _rpc_CreateFlavorProfile(self, req: pb.CreateFlavorProfileRequest) -> Message:
        profile = copy.deepcopy(req.flavorprofile)
        self._provider(profile.provider_name)
        profile.id = str(uuid.uuid4())
        self.flavor_profiles[profile.id] = profile
        return pb.CreateFlavorProfileResponse(flavorprofile=profile)

    def _rpc_GetFlavorProfile(self, req: pb.GetFlavorProfileRequest) -> Message:
        return pb.GetFlavorProfileResponse(flavorprofile=self._flavor_profile(req.id))

    def _rpc_ListFlavorProfiles(self, req: pb.ListFlavorProfilesRequest) -> Message:
        return pb.ListFlavorProfilesResponse(flavorprofiles=list(self.flavor_profiles.values()))

    def _rpc_UpdateFlavorProfile(self, req: pb.UpdateFlavorProfileRequest) -> Message:
        profile = self._flavor_profile(req.flavorprofile.id)
        paths = set(req.update_mask.paths)
        in_use = any(f.flavor_profile_id == profile.id for f in self.flavors.values())
        if in_use and paths & {"provider_name", "flavor_data"}:
            raise Conflict(f"Flavor profile {profile.id} is in use and cannot be modified.")
        if "provider_name" in paths:
            self._provider(req.flavorprofile.provider_name)
        req.update_mask.MergeMessage(req.flavorprofile, profile)
        return pb.UpdateFlavorProfileResponse(flavorprofile=profile)

    def _rpc_DeleteFlavorProfile(self, req: pb.DeleteFlavorProfileRequest) -> Message:
        profile = self._flavor_profile(req.id)
        if any(f.flavor_profile_id == profile.id for f in self.flavors.values()):
            raise Conflict(f"Flavor profile {profile.id} is in use and cannot be modified.")
        del self.flavor_profiles[profile.id]
        return pb.DeleteFlavorProfileResponse()

    def _flavor(self, flavor_id: str) -> admin_pb2.Flavor:
        if flavor_id not in self.flavors:
            raise NotFound(f"Flavor {flavor_id} not found.")
        return self.flavors[flavor_id]

    def _rpc_CreateFlavor(self, req: pb.CreateFlavorRequest) -> Message:
        flavor = copy.deepcopy(req.flavor)
        if flavor.flavor_profile_id not in self.flavor_profiles:
            raise InvalidInput(
                f"Invalid input for field/attribute flavor_profile_id. Value: "
                f"'{flavor.flavor_profile_id}'. Flavor profile not found.",
                field="flavor_profile_id",
            )
        if any(f.name == flavor.name for f in self.flavors.values()):
            raise Conflict(f"A flavor named {flavor.name} already exists.")
        flavor.id = str(uuid.uuid4())
        self.flavors[flavor.id] = flavor
        return pb.CreateFlavorResponse(flavor=flavor)

    def _rpc_GetFlavor(self, req: pb.GetFlavorRequest) -> Message:
        return pb.GetFlavorResponse(flavor=self._flavor(req.id))

    def _rpc_ListFlavors(self, req: pb.ListFlavorsRequest) -> Message:
        return pb.ListFlavorsResponse(flavors=list(self.flavors.values()))

    def _rpc_UpdateFlavor(self, req: pb.UpdateFlavorRequest) -> Message:
        flavor = self._flavor(req.flavor.id)
        req.update_mask.MergeMessage(req.flavor, flavor)
        return pb.UpdateFlavorResponse(flavor=flavor)

    def _rpc_DeleteFlavor(self, req: pb.DeleteFlavorRequest) -> Message:
        flavor = self._flavor(req.id)
        if any(lb.flavor_id == flavor.id for lb in self.objects["LoadBalancer"].values()):
            raise Conflict(f"Flavor {flavor.id} is in use and cannot be modified.")
        del self.flavors[flavor.id]
        return pb.DeleteFlavorResponse()

    # -- availability zone profiles and zones -------------------------------------------
    def _az_profile(self, profile_id: str) -> admin_pb2.AvailabilityZoneProfile:
        if profile_id not in self.az_profiles:
            raise NotFound(f"Availability Zone Profile {profile_id} not found.")
        return self.az_profiles[profile_id]

    def _rpc_CreateAvailabilityZoneProfile(self, req: Message) -> Message:
        profile = copy.deepcopy(req.availability_zone_profile)
        self._provider(profile.provider_name)
        profile.id = str(uuid.uuid4())
        self.az_profiles[profile.id] = profile
        return pb.CreateAvailabilityZoneProfileResponse(availability_zone_profile=profile)

    def _rpc_GetAvailabilityZoneProfile(self, req: Message) -> Message:
        return pb.GetAvailabilityZoneProfileResponse(
            availability_zone_profile=self._az_profile(req.id)
        )

    def _rpc_ListAvailabilityZoneProfiles(self, req: Message) -> Message:
        return pb.ListAvailabilityZoneProfilesResponse(
            availability_zone_profiles=list(self.az_profiles.values())
        )

    def _rpc_UpdateAvailabilityZoneProfile(self, req: Message) -> Message:
        incoming = req.availability_zone_profile
        profile = self._az_profile(incoming.id)
        paths = set(req.update_mask.paths)
        in_use = any(z.availability_zone_profile_id == profile.id for z in self.zones.values())
        if in_use and paths & {"provider_name", "availability_zone_data"}:
            raise Conflict(
                f"Availability Zone Profile {profile.id} is in use and cannot be modified."
            )
        if "provider_name" in paths:
            self._provider(incoming.provider_name)
        req.update_mask.MergeMessage(incoming, profile)
        return pb.UpdateAvailabilityZoneProfileResponse(availability_zone_profile=profile)

    def _rpc_DeleteAvailabilityZoneProfile(self, req: Message) -> Message:
        profile = self._az_profile(req.id)
        if any(z.availability_zone_profile_id == profile.id for z in self.zones.values()):
            raise Conflict(
                f"Availability Zone Profile {profile.id} is in use and cannot be modified."
            )
        del self.az_profiles[profile.id]
        return pb.DeleteAvailabilityZoneProfileResponse()

    def _zone(self, name: str) -> admin_pb2.AvailabilityZone:
        if name not in self.zones:
            raise NotFound(f"Availability Zone {name} not found.")
        return self.zones[name]

    def _rpc_CreateAvailabilityZone(self, req: Message) -> Message:
        zone = copy.deepcopy(req.availability_zone)
        if zone.availability_zone_profile_id not in self.az_profiles:
            raise InvalidInput(
                "Invalid input for field/attribute availability_zone_profile_id. Value: "
                f"'{zone.availability_zone_profile_id}'. Availability Zone Profile not found.",
                field="availability_zone_profile_id",
            )
        if zone.name in self.zones:
            raise Conflict(f"An availability zone named {zone.name} already exists.")
        self.zones[zone.name] = zone
        return pb.CreateAvailabilityZoneResponse(availability_zone=zone)

    def _rpc_GetAvailabilityZone(self, req: Message) -> Message:
        return pb.GetAvailabilityZoneResponse(availability_zone=self._zone(req.name))

    def _rpc_ListAvailabilityZones(self, req: Message) -> Message:
        return pb.ListAvailabilityZonesResponse(availability_zones=list(self.zones.values()))

    def _rpc_UpdateAvailabilityZone(self, req: Message) -> Message:
        zone = self._zone(req.availability_zone.name)
        req.update_mask.MergeMessage(req.availability_zone, zone)
        return pb.UpdateAvailabilityZoneResponse(availability_zone=zone)

    def _rpc_DeleteAvailabilityZone(self, req: Message) -> Message:
        zone = self._zone(req.name)
        if any(lb.availability_zone == zone.name for lb in self.objects["LoadBalancer"].values()):
            raise Conflict(f"Availability Zone {zone.name} is in use and cannot be modified.")
        del self.zones[zone.name]
        return pb.DeleteAvailabilityZoneResponse()

    # -- amphorae -----------------------------------------------------------------------
    def _amphora(self, amphora_id: str) -> pb.Amphora:
        if amphora_id not in self.amphorae:
            raise NotFound(f"Amphora {amphora_id} not found.")
        return self.amphorae[amphora_id]

    def _rpc_GetAmphora(self, req: pb.GetAmphoraRequest) -> Message:
        return pb.GetAmphoraResponse(amphora=self._amphora(req.id))

    def _rpc_ListAmphorae(self, req: pb.ListAmphoraeRequest) -> Message:
        items = [
            a
            for a in self.amphorae.values()
            if not req.loadbalancer_id or a.loadbalancer_id == req.loadbalancer_id
        ]
        return pb.ListAmphoraeResponse(amphorae=items)

    def _rpc_FailoverAmphora(self, req: pb.FailoverAmphoraRequest) -> Message:
        self._amphora(req.id).updated_at.CopyFrom(_now())
        return pb.FailoverAmphoraResponse()

    def _rpc_ConfigureAmphora(self, req: pb.ConfigureAmphoraRequest) -> Message:
        self._amphora(req.id)
        return pb.ConfigureAmphoraResponse()

    def _rpc_DeleteAmphora(self, req: pb.DeleteAmphoraRequest) -> Message:
        del self.amphorae[self._amphora(req.id).id]
        return pb.DeleteAmphoraResponse()

    # -- the management API -------------------------------------------------------------
    def _serving(self, scope: pb.Scope, lb_id: str) -> list[pb.Amphora]:
        self._find("LoadBalancer", scope, lb_id)
        found = [a for a in self.amphorae.values() if a.loadbalancer_id == lb_id]
        if not found:
            raise Precondition(f"Load Balancer {lb_id} has no amphora serving it yet.")
        return found

    def _rpc_PreviewLoadBalancerConfig(self, req: pb.PreviewLoadBalancerConfigRequest) -> Message:
        previews = [
            management_pb2.AmphoraConfigPreview(
                amphora_id=a.id,
                role=a.role,
                config_hash="0" * 64,
                renderer_version="memory-1",
                files=[
                    management_pb2.PreviewFile(
                        path="haproxy.cfg", mode=0o644, content="global\n", sha256="0" * 64
                    )
                ],
                applied_config_hash="0" * 64,
                applied_renderer_version="memory-1",
            )
            for a in self._serving(req.scope, req.id)
        ]
        return pb.PreviewLoadBalancerConfigResponse(loadbalancer_id=req.id, amphorae=previews)

    def _rpc_ResyncLoadBalancer(self, req: pb.ResyncLoadBalancerRequest) -> Message:
        ids = [a.id for a in self._serving(req.scope, req.id)]
        return pb.ResyncLoadBalancerResponse(amphora_ids=ids)

    def _rpc_GetAmphoraDiagnostics(self, req: pb.GetAmphoraDiagnosticsRequest) -> Message:
        amp = self._amphora(req.id)
        info = apb.GetInfoResponse(
            amphora_id=amp.id,
            api_version="1.1",
            haproxy_version="2.6.12",
            openssl_version="3.0.2",
            backend_type="haproxy",
            applied_config_hash=amp.applied_config_hash,
            capabilities=["apply-config", "diagnostics", "logs"],
        )
        return pb.GetAmphoraDiagnosticsResponse(
            amphora_id=amp.id,
            loadbalancer_id=amp.loadbalancer_id,
            diagnostics=apb.GetDiagnosticsResponse(info=info, engine_running=True),
        )

    def _rpc_GetAmphoraLogs(self, req: pb.GetAmphoraLogsRequest) -> Message:
        amp = self._amphora(req.id)
        if req.lines > 1000:
            raise InvalidInput(f"lines must be at most 1000, not {req.lines}.", field="lines")
        tail = apb.LogTail(source="agent", path="agent.log", lines=["started"], found=True)
        return pb.GetAmphoraLogsResponse(amphora_id=amp.id, logs=[tail])

    # -- the health port: amphora statistics, failover status ----------------------------
    async def amphora_stats(self, amphora_id: str) -> list[stats_pb2.ListenerStatsEntry]:
        """HealthPort.amphora_stats: this fake also stands in for the health service."""
        self.calls.append(("GetAmphoraStats", hpb.GetAmphoraStatsRequest(amphora_id=amphora_id)))
        return list(self.stats_by_amphora.get(amphora_id, []))

    async def listener_stats(self, listener_ids: list[str]) -> list[stats_pb2.ListenerStatsEntry]:
        return []

    async def failover_status(self) -> hpb.FailoverStatus:
        """HealthPort.failover_status."""
        self.calls.append(("GetFailoverStatus", hpb.GetFailoverStatusRequest()))
        return copy.deepcopy(self.failover)
