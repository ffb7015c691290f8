"""Log offload in nginx.conf: what the template renders for a LogPlan (domain/log_offload.py).

nginx sends syslog itself, over UDP only (its `syslog:` destinations have no TCP), so a plan
asking for TCP is refused (FAILED_PRECONDITION naming target.log_offload.protocol) and the
renderer does not advertise `log_offload.tcp`: the orchestrator refuses nginx load balancers
with a 400 while the operator asks for TCP. Tenant targets: one `access_log syslog:` per target
in every listener's server block, with a log_format per listener holding Octavia's access line;
admin targets: `error_log syslog:` lines beside the error log (notice and above). With local
storage off the error log goes to nginx's stderr, which the agent keeps in memory, instead of
<runtime_dir>/nginx.log.
"""

from __future__ import annotations

from typing import Any

from services.common.errors import Precondition
from services.renderer.backends.nginx import features as f
from services.renderer.domain.log_offload import FIELD, TCP, LogPlan

# The variable the http context's map sets from $proxy_host ("pool-<id>"): the pool id alone,
# as haproxy logs its backend name, "-" when nothing was proxied (a 403, a redirect).
POOL_VARIABLE = "lbaas_log_pool"


def transform(plan: LogPlan | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    if plan.protocol == TCP and (plan.tenant or plan.admin):
        raise Precondition(
            f"feature log_offload.tcp not supported by renderer {f.RENDERER_VERSION}: "
            "nginx sends syslog over UDP only",
            field=f"{FIELD}.protocol",
        )
    return {
        "project": plan.project,
        "local_storage": plan.local_storage,
        "tenant": [{"address": e.address, "port": e.port} for e in plan.tenant],
        "admin": [{"address": e.address, "port": e.port} for e in plan.admin],
        "pool_variable": POOL_VARIABLE,
    }
