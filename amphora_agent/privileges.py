"""Workers that drop root: the user haproxy's and nginx's workers switch to, and what the agent
prepares on the appliance so they can (agent API 1.1).

The masters stay root: they reload, bind low ports, read the keys and the server state and own
the stats and master sockets (root, 0600). The renderer writes the user into the config (haproxy
`user`/`group` and, without PING monitors, `chroot <runtime_dir>/chroot`; nginx `user`) only for
agents reporting API 1.1, which this agent reports only when `prepare` succeeded:
  - it runs as root and the user and group exist (Debian's haproxy package creates
    haproxy:haproxy, base-passwd has www-data:www-data; `make system-deps` checks both);
  - the runtime dir is searchable by that group (haproxy: a PING check execs
    conf/ping-wrapper-*.sh relative to the worker's working directory, the runtime dir, so the
    applier makes configs/ and each config version searchable too; nginx: the temp paths its
    master creates under the runtime dir for the workers);
  - haproxy: `<runtime_dir>/chroot` is an empty root-owned directory, mode 0755 (`haproxy -c`
    does not look at it, a start does; it is checked again before each check, start and
    reload);
  - haproxy: the network namespace's net.ipv4.ping_group_range admits the group. haproxy sets
    no_new_privs on its workers, so ping's file capability (cap_net_raw) does not apply to a
    check; an ICMP datagram socket needs no privilege, only that range.
"""

from __future__ import annotations

import grp
import logging
import os
import pwd
import shutil
import stat
from dataclasses import dataclass

log = logging.getLogger(__name__)

# (user, group) per backend; the renderer writes the same names (its features.py).
USERS = {"haproxy": ("haproxy", "haproxy"), "nginx": ("www-data", "www-data")}
CHROOT_DIR = "chroot"
CHROOT_MODE = 0o755
PING_GROUP_RANGE = "/proc/sys/net/ipv4/ping_group_range"


@dataclass(frozen=True)
class Workers:
    """The unprivileged user a backend's workers run as, as this agent prepared for them."""

    user: str
    uid: int
    gid: int
    # haproxy: the directory its workers chroot into when the config says so; nginx: None.
    chroot: str | None
    # Whether the workers exec files from conf/ (haproxy's PING checks): config versions are
    # then made searchable by the group.
    reads_conf: bool


def prepare(
    backend: str, runtime_dir: str, ping_group_range: str = PING_GROUP_RANGE
) -> Workers | None:
    """Prepare the runtime dir (and haproxy's chroot and ping range) for unprivileged workers;
    None when this agent cannot drop its workers' privileges (then it reports API 1.0 and gets
    configs without the directives, as before)."""
    if os.geteuid() != 0:
        log.info("not running as root: %s workers run as the agent's own user", backend)
        return None
    user, group = USERS[backend]
    try:
        uid = pwd.getpwnam(user).pw_uid
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        log.error(
            "user %s or group %s does not exist (make system-deps): %s workers keep running "
            "as root",
            user,
            group,
            backend,
        )
        return None
    grant_search(runtime_dir, gid)
    if backend == "nginx":
        blocked = unreachable(runtime_dir, uid, gid)
        if blocked:
            log.warning(
                "%s is not searchable by %s: nginx's workers cannot reach their temp paths "
                "under %s, so a request body nginx had to spool to disk would fail",
                blocked,
                user,
                runtime_dir,
            )
        return Workers(user, uid, gid, chroot=None, reads_conf=False)
    chroot = os.path.join(runtime_dir, CHROOT_DIR)
    ensure_chroot(chroot)
    allow_ping(gid, ping_group_range)
    return Workers(user, uid, gid, chroot=chroot, reads_conf=True)


def grant_search(path: str, gid: int) -> None:
    """Give `gid` search (and only search) permission on the directory `path`: it may open
    what it knows the name of inside, nothing more (file modes still apply: keys are 0600)."""
    st = os.stat(path)
    if st.st_gid != gid:
        os.chown(path, -1, gid)
    mode = stat.S_IMODE(st.st_mode)
    wanted = (mode & ~0o070) | 0o010
    if wanted != mode:
        os.chmod(path, wanted)


def ensure_chroot(path: str) -> None:
    """`path` is an empty directory owned by root, mode 0755, whatever was there before."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        os.mkdir(path, CHROOT_MODE)
        st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):  # a symlink or a file: never chroot through it
        log.warning("%s is not a directory; replacing it with an empty one", path)
        os.unlink(path)
        os.mkdir(path, CHROOT_MODE)
        st = os.lstat(path)
    elif os.listdir(path):
        log.warning("%s is not empty; emptying it (haproxy's workers are chrooted there)", path)
        shutil.rmtree(path)
        os.mkdir(path, CHROOT_MODE)
        st = os.lstat(path)
    if (st.st_uid, st.st_gid) != (0, 0):
        os.chown(path, 0, 0)
    if stat.S_IMODE(st.st_mode) != CHROOT_MODE:
        os.chmod(path, CHROOT_MODE)


def allow_ping(gid: int, path: str = PING_GROUP_RANGE) -> bool:
    """Make this network namespace's ping_group_range admit `gid` when it admits nobody (the
    kernel's default "1 0", and that of every new namespace). A range an operator set that
    leaves the group out is left alone, with a warning: PING checks then mark members down.
    On the local compute driver the agents share the host's namespace, so this is the host's."""
    try:
        with open(path) as fh:
            low, high = (int(part) for part in fh.read().split())
    except (OSError, ValueError) as exc:
        log.warning("cannot read %s (%s): PING checks may fail", path, exc)
        return False
    if low <= gid <= high:
        return True
    if low <= high:
        log.warning(
            "%s is %d-%d, without group %d: PING checks cannot ping and mark members down",
            path,
            low,
            high,
            gid,
        )
        return False
    try:
        with open(path, "w") as fh:
            fh.write(f"{gid} {gid}\n")
    except OSError as exc:
        log.warning("cannot write %s (%s): PING checks cannot ping", path, exc)
        return False
    log.info("%s set to %d %d: PING checks ping without privileges", path, gid, gid)
    return True


def unreachable(path: str, uid: int, gid: int) -> str | None:
    """The first directory from / down to `path` that `uid` (primary group `gid`) may not
    search, by its mode bits (ACLs are not read); None when every one is searchable."""
    current = "/"
    for part in [""] + [p for p in os.path.abspath(path).split("/") if p]:
        current = os.path.join(current, part)
        st = os.stat(current)
        if st.st_uid == uid:
            bit = 0o100
        elif st.st_gid == gid or _member(uid, st.st_gid):
            bit = 0o010
        else:
            bit = 0o001
        if not st.st_mode & bit:
            return current
    return None


def _member(uid: int, gid: int) -> bool:
    try:
        name = pwd.getpwuid(uid).pw_name
        return name in grp.getgrgid(gid).gr_mem
    except KeyError:
        return False
