"""The OpenAPI 3 document served at /openapi.json, made truthful about what the gateway sends."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")


def install(app: FastAPI) -> None:
    """Replaces app.openapi with a cached builder that removes FastAPI's 422 responses (this
    gateway answers every validation error with an Octavia 400 fault), adds the input guard's
    413 and 415 to operations that take a body, and declares token auth."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title="lbaas: Octavia v2-compatible load-balancer API",
                version="2.26",
                routes=app.routes,
            )
            for path, path_item in schema.get("paths", {}).items():
                for operation in path_item.values():
                    if isinstance(operation, dict):
                        operation.get("responses", {}).pop("422", None)
                        responses = operation.setdefault("responses", {})
                        if "requestBody" in operation:
                            _document(responses, _BODY_REFUSALS)
                        if "{" in path:
                            _document(responses, _PATH_REFUSALS)
                        _document(responses, _QUERY_REFUSALS)
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


# What the input guard (input_guard.py) answers to a body before a route sees it.
_BODY_REFUSALS = {
    "413": "The request body is larger than LBAAS_MAX_REQUEST_BODY.",
    "415": "The request body is not JSON by its Content-Type.",
}


# ... and to a path segment that cannot be an id (bad percent-encoding, control characters).
_PATH_REFUSALS = {"404": "The resource could not be found."}
# ... and to a malformed query string (bad encoding, a repeated or malformed paging parameter).
_QUERY_REFUSALS = {"400": "A query parameter is malformed."}


def _document(responses: dict[str, Any], refusals: dict[str, str]) -> None:
    fault = {"application/json": {"schema": {"$ref": "#/components/schemas/Fault"}}}
    for code, text in refusals.items():
        responses.setdefault(code, {"description": text, "content": fault})
