"""The OpenAPI document describes every operator route truthfully: request bodies, success
models, Octavia fault bodies, both /v2 and /v2.0."""

from __future__ import annotations

import pytest

from services.api_gateway.bootstrap import bootstrap
from services.api_gateway.config import Settings
from tests.support.memory_admin import MemoryAdmin

ADMIN_ROUTES = {
    ("get", "/lbaas/quotas"): "200",
    ("get", "/lbaas/quotas/defaults"): "200",
    ("get", "/lbaas/quotas/{project_id}"): "200",
    ("get", "/lbaas/quotas/{project_id}/default"): "200",
    ("put", "/lbaas/quotas/{project_id}"): "202",
    ("delete", "/lbaas/quotas/{project_id}"): "202",
    ("get", "/lbaas/providers"): "200",
    ("get", "/lbaas/providers/{provider}/flavor_capabilities"): "200",
    ("get", "/lbaas/providers/{provider}/availability_zone_capabilities"): "200",
    ("post", "/lbaas/flavors"): "201",
    ("get", "/lbaas/flavors"): "200",
    ("get", "/lbaas/flavors/{flavor_id}"): "200",
    ("put", "/lbaas/flavors/{flavor_id}"): "200",
    ("delete", "/lbaas/flavors/{flavor_id}"): "204",
    ("post", "/lbaas/flavorprofiles"): "201",
    ("get", "/lbaas/flavorprofiles"): "200",
    ("get", "/lbaas/flavorprofiles/{profile_id}"): "200",
    ("put", "/lbaas/flavorprofiles/{profile_id}"): "200",
    ("delete", "/lbaas/flavorprofiles/{profile_id}"): "204",
    ("post", "/lbaas/availabilityzones"): "201",
    ("get", "/lbaas/availabilityzones"): "200",
    ("get", "/lbaas/availabilityzones/{name}"): "200",
    ("put", "/lbaas/availabilityzones/{name}"): "200",
    ("delete", "/lbaas/availabilityzones/{name}"): "204",
    ("post", "/lbaas/availabilityzoneprofiles"): "201",
    ("get", "/lbaas/availabilityzoneprofiles"): "200",
    ("get", "/lbaas/availabilityzoneprofiles/{profile_id}"): "200",
    ("put", "/lbaas/availabilityzoneprofiles/{profile_id}"): "200",
    ("delete", "/lbaas/availabilityzoneprofiles/{profile_id}"): "204",
    ("get", "/octavia/amphorae"): "200",
    ("get", "/octavia/amphorae/{amphora_id}"): "200",
    ("get", "/octavia/amphorae/{amphora_id}/stats"): "200",
    ("put", "/octavia/amphorae/{amphora_id}/failover"): "202",
    ("put", "/octavia/amphorae/{amphora_id}/config"): "202",
    ("delete", "/octavia/amphorae/{amphora_id}"): "204",
    ("get", "/octavia/failover_status"): "200",
}


@pytest.fixture(scope="module")
def spec(tmp_path_factory) -> dict:
    tokens = tmp_path_factory.mktemp("t") / "tokens.yaml"
    return bootstrap(Settings(tokens_file=tokens), orchestrator=MemoryAdmin()).openapi()


@pytest.mark.parametrize(("method", "path"), sorted(ADMIN_ROUTES))
def test_route_is_fully_described(spec, method, path):
    for prefix in ("/v2", "/v2.0"):
        op = spec["paths"][prefix + path][method]
        responses = op["responses"]
        success = ADMIN_ROUTES[(method, path)]
        assert success in responses
        content = responses[success].get("content")
        if success in ("202", "204") and method != "put" or path.startswith("/octavia"):
            assert not content or success == "200", f"{success} has no body"
        else:
            ref = content["application/json"]["schema"]["$ref"]
            assert ref.endswith("Root")
        for code in ("401", "403", "500", "503"):
            assert responses[code]["content"]["application/json"]["schema"]["$ref"].endswith(
                "/Fault"
            )
        if method in ("post", "put") and not path.startswith("/octavia"):
            body = op["requestBody"]["content"]["application/json"]["schema"]
            (root,) = body["required"]
            assert body["properties"][root]["additionalProperties"] is False
            assert "400" in responses


def test_nullable_fields_are_nullable(spec):
    amphora = spec["components"]["schemas"]["Amphora"]["properties"]
    assert {"type": "null"} in amphora["vrrp_ip"]["anyOf"]
    quota = spec["components"]["schemas"]["Quota"]["properties"]
    assert {"type": "null"} in quota["load_balancer"]["anyOf"]
    limit = spec["paths"]["/v2/lbaas/quotas/{project_id}"]["put"]["requestBody"]
    props = limit["content"]["application/json"]["schema"]["properties"]["quota"]["properties"]
    assert {"type": "integer", "minimum": -1, "maximum": 2000000000} in props["member"]["anyOf"]
