"""Workers that drop root: whether the target's agent prepares for them, and what is rendered.

haproxy's and nginx's masters stay root (they reload, bind low ports and read the keys); their
workers switch to an unprivileged user named in the config (haproxy `user`/`group`, nginx
`user`), and haproxy's workers also `chroot` into an empty directory. Agents of API 1.1 and
later prepare the appliance for that (amphora_agent/privileges.py): the user exists, the
runtime dir and the config versions are searchable by its group, `<runtime_dir>/chroot` is an
empty root-owned directory, and the namespace's ping_group_range admits haproxy's group so PING
checks can ping without privileges. An older agent (or one that is not root, which reports
1.0) gets the config it always got: these directives would break its haproxy's start and its
PING checks. The agent's API version is the gate because Target carries no capabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

from lbaas.renderer.v1 import renderer_service_pb2

from services.renderer.domain import filters
from services.renderer.domain.versions import Version, parse_version

FIELD = "target.agent_api_version"
UNPRIVILEGED_SINCE: Version = (1, 1, 0)
# Under the runtime dir; the agent keeps it empty, root-owned, mode 0755.
CHROOT_DIR = "chroot"


@dataclass(frozen=True)
class RunAs:
    """Who the workers run as, and the directory under the runtime dir haproxy's are chrooted
    into (None: not chrooted)."""

    user: str
    group: str
    chroot: str | None


def drops_root(target: renderer_service_pb2.Target) -> bool:
    """Whether the target's agent prepares for unprivileged workers ("" is an older agent)."""
    if not target.agent_api_version:
        return False
    return parse_version(target.agent_api_version, field=FIELD) >= UNPRIVILEGED_SINCE


def run_as(
    target: renderer_service_pb2.Target,
    user: str,
    group: str,
    *,
    chroot: bool,
) -> RunAs | None:
    """None for an agent that does not prepare for it: nothing is rendered, as before."""
    if not drops_root(target):
        return None
    return RunAs(
        user=filters.token(user, "run_as.user"),
        group=filters.token(group, "run_as.group"),
        chroot=CHROOT_DIR if chroot else None,
    )
