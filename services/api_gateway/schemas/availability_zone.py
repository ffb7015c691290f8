"""Availability zone and availability zone profile request models, and their translation to
the contract. Availability zones are named (the name is their key), as in Octavia."""

from __future__ import annotations

from lbaas.orchestrator.v1 import admin_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from pydantic import model_validator

from services.api_gateway.schemas.body import FieldError
from services.api_gateway.schemas.fields import Strict
from services.api_gateway.schemas.flavor import (
    DescriptionText,
    Flag,
    JsonObjectText,
    NameText,
    ProviderName,
    UuidText,
    mask_of,
    no_nulls,
)


# -- availability zones -------------------------------------------------------------------
class AvailabilityZoneCreate(Strict):
    name: NameText | None = None
    description: DescriptionText | None = None
    enabled: Flag | None = None
    availability_zone_profile_id: UuidText | None = None

    @model_validator(mode="after")
    def _mandatory(self) -> AvailabilityZoneCreate:
        no_nulls(self, ("enabled",))
        for field in ("name", "availability_zone_profile_id"):
            if getattr(self, field) is None:
                raise FieldError(field, None, "Mandatory field missing.")
        return self


class AvailabilityZoneUpdate(Strict):
    """Only the description and the enabled flag change; the name is the key."""

    description: DescriptionText | None = None
    enabled: Flag | None = None

    @model_validator(mode="after")
    def _not_null(self) -> AvailabilityZoneUpdate:
        no_nulls(self, ("enabled",))
        return self


AZ_UPDATE_FIELDS = ("description", "enabled")


def az_create_request(body: AvailabilityZoneCreate) -> pb.CreateAvailabilityZoneRequest:
    return pb.CreateAvailabilityZoneRequest(
        availability_zone=admin_pb2.AvailabilityZone(
            name=body.name or "",
            description=body.description or "",
            enabled=True if body.enabled is None else body.enabled,
            availability_zone_profile_id=body.availability_zone_profile_id or "",
        )
    )


def az_update_request(name: str, body: AvailabilityZoneUpdate) -> pb.UpdateAvailabilityZoneRequest:
    zone = admin_pb2.AvailabilityZone(
        name=name, description=body.description or "", enabled=bool(body.enabled)
    )
    return pb.UpdateAvailabilityZoneRequest(
        availability_zone=zone, update_mask=mask_of(body, AZ_UPDATE_FIELDS)
    )


# -- availability zone profiles -----------------------------------------------------------
AZ_PROFILE_FIELDS = ("name", "provider_name", "availability_zone_data")


class AvailabilityZoneProfileCreate(Strict):
    name: NameText | None = None
    provider_name: ProviderName | None = None
    availability_zone_data: JsonObjectText | None = None

    @model_validator(mode="after")
    def _mandatory(self) -> AvailabilityZoneProfileCreate:
        for field in AZ_PROFILE_FIELDS:
            if getattr(self, field) is None:
                raise FieldError(field, None, "Mandatory field missing.")
        return self


class AvailabilityZoneProfileUpdate(Strict):
    name: NameText | None = None
    provider_name: ProviderName | None = None
    availability_zone_data: JsonObjectText | None = None

    @model_validator(mode="after")
    def _not_null(self) -> AvailabilityZoneProfileUpdate:
        no_nulls(self, AZ_PROFILE_FIELDS)
        return self


def az_profile_create_request(
    body: AvailabilityZoneProfileCreate,
) -> pb.CreateAvailabilityZoneProfileRequest:
    return pb.CreateAvailabilityZoneProfileRequest(
        availability_zone_profile=admin_pb2.AvailabilityZoneProfile(
            name=body.name or "",
            provider_name=body.provider_name or "",
            availability_zone_data=body.availability_zone_data or "",
        )
    )


def az_profile_update_request(
    profile_id: str, body: AvailabilityZoneProfileUpdate
) -> pb.UpdateAvailabilityZoneProfileRequest:
    profile = admin_pb2.AvailabilityZoneProfile(
        id=profile_id,
        name=body.name or "",
        provider_name=body.provider_name or "",
        availability_zone_data=body.availability_zone_data or "",
    )
    return pb.UpdateAvailabilityZoneProfileRequest(
        availability_zone_profile=profile, update_mask=mask_of(body, AZ_PROFILE_FIELDS)
    )
