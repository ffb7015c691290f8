"""The OpenAPI 3 document served at /openapi.json, made truthful about what the gateway sends."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")


def install(app: FastAPI) -> None:
    """Replaces app.openapi with a cached builder that removes FastAPI's 422 responses (this
    gateway answers every validation error with an Octavia 400 fault) and declares token auth."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title="lbaas: Octavia v2-compatible load-balancer API",
                version="2.26",
                routes=app.routes,
            )
            for path_item in schema.get("paths", {}).values():
                for operation in path_item.values():
                    if isinstance(operation, dict):
                        operation.get("responses", {}).pop("422", None)
            components = schema.setdefault("components", {})
            for name in _FASTAPI_VALIDATION:
                components.get("schemas", {}).pop(name, None)
            components["securitySchemes"] = {
                "token": {"type": "apiKey", "in": "header", "name": "X-Auth-Token"}
            }
            schema["security"] = [{"token": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]
