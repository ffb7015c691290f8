"""RBAC with oslo.policy: Octavia's rule names and defaults, enforced for every v2 route.

`PolicyEngine.authorize_request` is called by the `authenticate` dependency (every Octavia
route takes `Caller`, and app.py adds the dependency to each Octavia router as well). It
maps the matched route's path template + method to Octavia's rule, builds the credentials
(roles, project_id, system_scope, is_admin = context_is_admin) and the target
({"project_id": ...}) and either raises a 403 Octavia fault or returns the principal with
the per-request scope decision:

* list endpoints with a `*-global` rule (Octavia's `_auth_get_all`): the global rule
  passing = all projects; otherwise `get_all` with the caller's project (or the
  `?project_id=` asked for) as target;
* quota endpoints with `{project_id}` in the path: the target is that project;
* everything else: the rule is first tried against another project's object (passing =
  the caller acts on all projects, e.g. admins, global observers on reads), then against
  the caller's own project. The orchestrator enforces the resulting Scope, so a project
  never sees another's objects (404).

Operators override rules with a YAML/JSON policy file (`LBAAS_POLICY_FILE`, oslo.policy
format); a change to it takes effect within RULES_CHECK_INTERVAL (oslo.policy re-reads it
when its modification time changes).
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Any

from fastapi import Request
from oslo_config import cfg
from oslo_policy import policy as oslo_policy

from services.api_gateway.auth import Principal
from services.api_gateway.faults import ApiFault
from services.api_gateway.policy_rules import API, BASE_RULES, ENDPOINT_RULES
from services.common.errors import POLICY_FORBIDDEN

log = logging.getLogger(__name__)

FORBIDDEN = POLICY_FORBIDDEN
# How often (seconds) a request looks at the policy file for changes.
RULES_CHECK_INTERVAL = 1.0
# A project id no caller has: "may act on someone else's object".
_OTHER_PROJECT = "\x00another-project"
_PARAM = re.compile(r"\{[^}]*\}")
_VERSION_PREFIX = re.compile(r"^/v2(\.0)?(?=/)")

# Octavia paths that share a rule with another (batch member update, quota defaults).
EXTRA_OPERATIONS: dict[tuple[str, str], str] = {
    ("PUT", "/v2/lbaas/pools/{pool_id}/members"): f"{API}:member:put",
    ("GET", "/v2/lbaas/quotas/defaults"): f"{API}:quota:get_defaults",
}


def normalize(path: str) -> str:
    """`/v2.0/lbaas/pools/{pool_id}/members` -> `/lbaas/pools/{}/members`."""
    return _PARAM.sub("{}", _VERSION_PREFIX.sub("", path)).rstrip("/") or "/"


def default_rules() -> list[oslo_policy.RuleDefault]:
    rules: list[oslo_policy.RuleDefault] = [
        oslo_policy.RuleDefault(name, check) for name, check in BASE_RULES.items()
    ]
    for r in ENDPOINT_RULES:
        ops = [{"method": m, "path": p} for m, p in r.operations]
        rules.append(oslo_policy.DocumentedRuleDefault(r.name, r.check, r.description, ops))
    return rules


def route_table() -> dict[tuple[str, str], dict[str, str]]:
    """(method, normalized path) -> {"rule": name, ["global": name]}."""
    table: dict[tuple[str, str], dict[str, str]] = {}
    for r in ENDPOINT_RULES:
        for method, path in r.operations:
            entry = table.setdefault((method, normalize(path)), {})
            if r.name.endswith("-global"):
                entry["global"] = r.name
            else:
                entry["rule"] = r.name
    for (method, path), name in EXTRA_OPERATIONS.items():
        table[(method, normalize(path))] = {"rule": name}
    return table


class PolicyEngine:
    def __init__(self, policy_file: str | Path | None = None):
        conf = cfg.ConfigOpts()
        conf([], project="lbaas-api", default_config_files=[], default_config_dirs=[])
        path = str(Path(policy_file).absolute()) if policy_file else None
        if path and not Path(path).is_file():
            raise FileNotFoundError(f"LBAAS_POLICY_FILE {path} does not exist")
        self.enforcer = oslo_policy.Enforcer(conf, policy_file=path or "lbaas-policy-absent.yaml")
        self.enforcer.register_defaults(default_rules())
        self.enforcer.load_rules()
        self.table = route_table()
        self._unmapped_warned: set[tuple[str, str]] = set()
        # Decisions of authorize_request by (principal, route, target project): a decision only
        # depends on those and the rules, so it is cached until the rules change (oslo.policy
        # calls set_rules/clear whenever it (re)loads a policy file or directory).
        self._decisions: dict[tuple, Principal | None] = {}
        # When the policy file is next looked at (see _refresh_rules).
        self._next_check = time.monotonic() + RULES_CHECK_INTERVAL
        for name in ("set_rules", "clear"):
            setattr(self.enforcer, name, self._forgetting(getattr(self.enforcer, name)))

    # ------------------------------------------------------------------ primitives

    def credentials(self, principal: Principal) -> dict[str, Any]:
        creds = principal.credentials()
        creds["is_admin"] = False
        creds["is_admin"] = self.check("context_is_admin", {}, creds)
        return creds

    def check(self, rule: str, target: dict[str, Any], creds: dict[str, Any]) -> bool:
        return bool(self.enforcer.enforce(rule, target, creds, do_raise=False))

    def allowed(self, rule: str, principal: Principal, project_id: str | None = None) -> bool:
        """Convenience for tests/routes: may `principal` do `rule` on `project_id`?"""
        target = {"project_id": principal.project_id if project_id is None else project_id}
        return self.check(rule, target, self.credentials(principal))

    # ------------------------------------------------------------------ decision

    def decide(
        self,
        principal: Principal,
        method: str,
        path_template: str,
        path_params: dict[str, Any] | None = None,
        query: Any = None,
    ) -> Principal:
        """The principal with its scope for this endpoint, or ApiFault(403)."""
        key = (method.upper(), normalize(path_template))
        if key[0] == "HEAD":
            key = ("GET", key[1])
        entry = self.table.get(key)
        if entry is None:
            if key not in self._unmapped_warned:
                self._unmapped_warned.add(key)
                log.warning("no policy rule for %s %s; authentication only", *key)
            return principal
        creds = self.credentials(principal)
        own = principal.project_id
        rule = entry["rule"]
        path_params = path_params or {}

        if "global" in entry:
            asked = (query.get("project_id") if query is not None else None) or None
            if self.check(entry["global"], {"project_id": asked or own}, creds):
                return principal.with_scope(True)
            target = asked or own
            if not target or not self.check(rule, {"project_id": target}, creds):
                raise ApiFault(403, FORBIDDEN)
            return principal.with_scope(False)

        if rule.startswith(f"{API}:quota:") and "project_id" in path_params:
            target = str(path_params["project_id"])
            if not self.check(rule, {"project_id": target}, creds):
                raise ApiFault(403, FORBIDDEN)
            return principal.with_scope(target != own or self._cross_project(rule, creds))

        if self._cross_project(rule, creds):
            return principal.with_scope(True)
        if own and self.check(rule, {"project_id": own}, creds):
            return principal.with_scope(False)
        raise ApiFault(403, FORBIDDEN)

    def _cross_project(self, rule: str, creds: dict[str, Any]) -> bool:
        return self.check(rule, {"project_id": _OTHER_PROJECT}, creds)

    MAX_CACHED_DECISIONS = 10000

    def _forgetting(self, method: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self._decisions.clear()
            return method(*args, **kwargs)

        return wrapper

    def _refresh_rules(self) -> None:
        """enforcer.load_rules() at most every RULES_CHECK_INTERVAL: it stats the policy file
        (and policy directories) and walks every registered default, which cost more than the
        rest of an authorization; a changed policy file still takes effect within that time."""
        now = time.monotonic()
        if now >= self._next_check:
            self.enforcer.load_rules()
            self._next_check = now + RULES_CHECK_INTERVAL

    def authorize_request(self, request: Request, principal: Principal) -> Principal:
        route = request.scope.get("route")
        template = getattr(route, "path", None)
        if not template:
            return principal
        # Picks up a changed policy file (which clears the cached decisions) as enforce would.
        self._refresh_rules()
        path_params = request.path_params
        query = request.query_params
        key = (
            principal,
            request.method,
            template,
            path_params.get("project_id"),
            query.get("project_id"),
        )
        try:
            decided = self._decisions[key]
        except KeyError:
            try:
                decided = self.decide(principal, request.method, template, dict(path_params), query)
            except ApiFault as fault:
                if fault.status != 403:
                    raise
                decided = None
            if len(self._decisions) >= self.MAX_CACHED_DECISIONS:
                self._decisions.clear()
            self._decisions[key] = decided
        if decided is None:
            raise ApiFault(403, FORBIDDEN)
        return decided
