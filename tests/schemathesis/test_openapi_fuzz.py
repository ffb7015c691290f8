"""Property-based fuzzing of the running gateway from its own /openapi.json (schemathesis).

One stack on the noop compute driver; every operation the gateway documents gets a bounded,
derandomized number of generated requests as the admin, each checked for no 5xx
(not_a_server_error) and for a response that matches the documented schema
(response_schema_conformance, status_code_conformance, content_type_conformance).
At least MIN_REQUESTS requests are sent in total, within a time budget.
"""

from __future__ import annotations

import os
import time

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.osclients import NOOP_ENV
from tests.support.stack import RunningStack, running_stack

pytestmark = pytest.mark.e2e

MIN_REQUESTS = 2000
BUDGET_SECONDS = float(os.environ.get("LBAAS_FUZZ_BUDGET", "200"))
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


def _provider_refusal(response) -> bool:
    if response.status_code != 501:
        return False
    try:
        text = response.json().get("faultstring") or ""
    except ValueError:
        return False
    return text.startswith("Provider '") and "does not support a requested" in text


@pytest.fixture(scope="module")
def stack():
    with running_stack("lbaas-fuzz-", extra_env=NOOP_ENV) as running:
        yield running


def test_generated_requests_get_no_5xx_and_match_the_schema(stack: RunningStack):
    token = stack.token("admin")
    schema = schemathesis.openapi.from_url(f"{stack.api_url}/openapi.json")
    operations = [r.ok() for r in schema.get_all_operations()]
    assert operations, "the gateway documents no operation"
    # Enough examples per operation to reach MIN_REQUESTS, bounded so the run stays short.
    # (Every operation gets at least 15: with the ~190 operations documented now, that floor sets it.)
    per_op = max(15, min(200, -(-MIN_REQUESTS * 12 // 10 // len(operations))))
    session = requests.Session()
    session.headers["X-Auth-Token"] = token
    sent = 0
    failures: dict[str, list[str]] = {}
    deadline = time.monotonic() + BUDGET_SECONDS

    for op in operations:
        if time.monotonic() > deadline:
            break

        @settings(
            max_examples=per_op,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],  # no shrinking: report, don't minimise
            suppress_health_check=list(HealthCheck),
        )
        @given(case=op.as_strategy())
        def run(case) -> None:
            nonlocal sent
            if time.monotonic() > deadline:
                return
            response = case.call(base_url=stack.api_url, session=session, timeout=30)
            sent += 1
            checks = CHECKS
            if _provider_refusal(response):
                # Octavia's documented 501 for an option the provider cannot do: an answer, not
                # a server failure (every other check still applies).
                checks = [c for c in CHECKS if c is not not_a_server_error]
            try:
                case.validate_response(response, checks=checks, headers={"X-Auth-Token": token})
            except (Exception, BaseExceptionGroup) as err:  # noqa: BLE001 - collect them all
                found = failures.setdefault(case.operation.label, [])
                if len(found) < 3:
                    found.append(f"{case.method} {case.formatted_path} -> "
                                 f"{response.status_code}: {str(err)[:400]}")  # fmt: skip

        run()

    report = "\n".join(f"{label}:\n  " + "\n  ".join(msgs) for label, msgs in failures.items())
    print(f"schemathesis: {sent} requests over {len(operations)} operations ({per_op} each)")
    assert not failures, f"{len(failures)} operations failed checks:\n{report}"
    assert sent >= MIN_REQUESTS, f"only {sent} requests within {BUDGET_SECONDS}s"
