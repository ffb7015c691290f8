"""Flavor and flavor profile request models and their translation to the contract.

Shared with the availability zone models: typed field aliases that carry both the WSME-style
validator and the JSON schema the OpenAPI document shows, and the "JSON object as text" type of
flavor_data / availability_zone_data.
"""

from __future__ import annotations

from typing import Annotated, Any

from google.protobuf.field_mask_pb2 import FieldMask
from lbaas.orchestrator.v1 import admin_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from pydantic import BaseModel, PlainValidator, WithJsonSchema, model_validator

from services.api_gateway import input_guard
from services.api_gateway.schemas.body import FieldError
from services.api_gateway.schemas.fields import UUID, Bool, Strict, text

MAX_DATA_LENGTH = 4096

NameText = Annotated[text(255), WithJsonSchema({"type": "string", "maxLength": 255})]
DescriptionText = NameText
ProviderName = NameText
UuidText = Annotated[UUID, WithJsonSchema({"type": "string", "format": "uuid"})]
Flag = Annotated[Bool, WithJsonSchema({"type": "boolean"})]


def _json_object_text(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError("Wrong type. Expected a string.")
    if len(v) > MAX_DATA_LENGTH:
        raise ValueError(f"Value should have a maximum character requirement of {MAX_DATA_LENGTH}.")
    try:
        parsed = input_guard.loads(v)
    except input_guard.JsonInputError as err:
        if err.path is None:
            raise ValueError("Value is not valid JSON.") from None
        where = ".".join(err.path) or "top level"
        raise ValueError(f"Value is not acceptable JSON ({where}): {err.reason}") from None
    if not isinstance(parsed, dict):
        raise ValueError("Value must be a JSON object.")
    return v


# A JSON object carried as a string, as Octavia's API has it.
JsonObjectText = Annotated[
    str,
    PlainValidator(_json_object_text),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": MAX_DATA_LENGTH,
            "description": "A JSON object, serialized as a string.",
        }
    ),
]


def no_nulls(model: BaseModel, fields: tuple[str, ...]) -> None:
    """A field with no "unset" state sent as null is refused, as Octavia does."""
    for field in fields:
        if field in model.model_fields_set and getattr(model, field) is None:
            raise FieldError(field, None, "Mandatory field missing.")


def mask_of(model: BaseModel, fields: tuple[str, ...]) -> FieldMask:
    return FieldMask(paths=sorted(f for f in fields if f in model.model_fields_set))


# -- flavors ------------------------------------------------------------------------------
class FlavorCreate(Strict):
    name: NameText | None = None
    description: DescriptionText | None = None
    enabled: Flag | None = None
    flavor_profile_id: UuidText | None = None

    @model_validator(mode="after")
    def _mandatory(self) -> FlavorCreate:
        no_nulls(self, ("name", "flavor_profile_id", "enabled"))
        for field in ("name", "flavor_profile_id"):
            if field not in self.model_fields_set:
                raise FieldError(field, None, "Mandatory field missing.")
        return self


class FlavorUpdate(Strict):
    name: NameText | None = None
    description: DescriptionText | None = None
    enabled: Flag | None = None

    @model_validator(mode="after")
    def _not_null(self) -> FlavorUpdate:
        no_nulls(self, ("name", "enabled"))
        return self


FLAVOR_UPDATE_FIELDS = ("name", "description", "enabled")


def flavor_create_request(body: FlavorCreate) -> pb.CreateFlavorRequest:
    return pb.CreateFlavorRequest(
        flavor=admin_pb2.Flavor(
            name=body.name or "",
            description=body.description or "",
            enabled=True if body.enabled is None else body.enabled,
            flavor_profile_id=body.flavor_profile_id or "",
        )
    )


def flavor_update_request(flavor_id: str, body: FlavorUpdate) -> pb.UpdateFlavorRequest:
    flavor = admin_pb2.Flavor(
        id=flavor_id,
        name=body.name or "",
        description=body.description or "",
        enabled=bool(body.enabled),
    )
    return pb.UpdateFlavorRequest(flavor=flavor, update_mask=mask_of(body, FLAVOR_UPDATE_FIELDS))


# -- flavor profiles ----------------------------------------------------------------------
class FlavorProfileCreate(Strict):
    name: NameText | None = None
    provider_name: ProviderName | None = None
    flavor_data: JsonObjectText | None = None

    @model_validator(mode="after")
    def _mandatory(self) -> FlavorProfileCreate:
        for field in ("name", "provider_name", "flavor_data"):
            if getattr(self, field) is None:
                raise FieldError(field, None, "Mandatory field missing.")
        return self


class FlavorProfileUpdate(Strict):
    name: NameText | None = None
    provider_name: ProviderName | None = None
    flavor_data: JsonObjectText | None = None

    @model_validator(mode="after")
    def _not_null(self) -> FlavorProfileUpdate:
        no_nulls(self, FLAVOR_PROFILE_FIELDS)
        return self


FLAVOR_PROFILE_FIELDS = ("name", "provider_name", "flavor_data")


def flavor_profile_create_request(body: FlavorProfileCreate) -> pb.CreateFlavorProfileRequest:
    return pb.CreateFlavorProfileRequest(
        flavorprofile=admin_pb2.FlavorProfile(
            name=body.name or "",
            provider_name=body.provider_name or "",
            flavor_data=body.flavor_data or "",
        )
    )


def flavor_profile_update_request(
    profile_id: str, body: FlavorProfileUpdate
) -> pb.UpdateFlavorProfileRequest:
    profile = admin_pb2.FlavorProfile(
        id=profile_id,
        name=body.name or "",
        provider_name=body.provider_name or "",
        flavor_data=body.flavor_data or "",
    )
    return pb.UpdateFlavorProfileRequest(
        flavorprofile=profile, update_mask=mask_of(body, FLAVOR_PROFILE_FIELDS)
    )
