"""Config application: stage, validate, swap the conf symlink atomically, reload, roll back.

A config that contains keepalived.conf (a half of an ACTIVE_STANDBY pair) also runs keepalived:
validated with `keepalived -t` beside the main process's check, started after the main process
reloaded, sent SIGHUP when its file changed (or on a forced apply), left alone otherwise, and
stopped by a config without it. A new config that differs from the applied one only in
keepalived's files does not reload the running main process (see _apply_locked). A failure of
either rolls both back.

An apply with a runtime plan (runtime.py, haproxy only) takes the new config live over haproxy's
runtime API instead of a reload when the running haproxy runs exactly the plan's starting config:
the new files are staged, the plan's commands are sent and checked, the servers it touches are
compared with what it expects, the new files are validated as always, and they are swapped in
with no reload, so the next reload starts from the config the running haproxy already matches.
The commands go before the validation (`haproxy -c` takes some 20 ms, the commands about one):
a member change serves at once. New files that do not validate after the commands took are
answered INVALID as ever, and the applied config is reloaded, which undoes the commands. When the
plan cannot be used or does not take, the full path runs with the same files (a reload from them
converges whatever commands haproxy took) and the outcome says why in runtime_fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import dataclass, replace

from amphora_agent.confighash import check_relative_path, config_hash
from amphora_agent.history import History
from amphora_agent.keepalived import CONFIG_FILE as KEEPALIVED_FILE
from amphora_agent.keepalived import ONLY_FILES as KEEPALIVED_ONLY_FILES
from amphora_agent.keepalived import Keepalived
from amphora_agent.process import ManagedProcess, ProcessError, yielding_checks
from amphora_agent.runtime import PlanFailed, RuntimePlan, check_commands, run_plan

log = logging.getLogger(__name__)

# The main file of a haproxy config; a process manager names its own (nginx: "nginx.conf").
MAIN_FILE = "haproxy.cfg"


class Result(enum.Enum):
    APPLIED = "APPLIED"
    UNCHANGED = "UNCHANGED"
    INVALID = "INVALID"
    ROLLED_BACK = "ROLLED_BACK"
    BROKEN = "BROKEN"


class RequestError(ValueError):
    """The request itself is malformed (hash mismatch, unsafe path): nothing was attempted."""


@dataclass(frozen=True)
class ConfigFile:
    path: str
    content: bytes
    mode: int = 0


@dataclass(frozen=True)
class AppliedConfig:
    files: tuple[ConfigFile, ...]
    config_hash: str
    renderer_version: str


@dataclass(frozen=True)
class Outcome:
    result: Result
    applied_hash: str
    detail: str = ""
    # Applied over the runtime API, with no reload.
    runtime: bool = False
    # A runtime plan was given and not used, or failed part way and a reload followed: why.
    runtime_fallback: str = ""


class Applier:
    """Layout: {dir}/conf -> configs/<version>/ (symlink); configs/<version>.json holds metadata.

    The process (haproxy or nginx) runs with cwd {dir}, so companion files can be referenced
    as conf/<path>; validation runs with cwd {dir}/validate whose conf link points at the staged
    version.

    search_gid: the group of workers that exec files from conf/ as an unprivileged user
    (haproxy's PING checks, privileges.py): configs/ and each version's top directory are made
    searchable by it (root:<gid>, 0710); subdirectories (certs/) stay 0700 and files keep their
    modes. None: everything stays root's.
    """

    def __init__(
        self,
        runtime_dir: str,
        process: ManagedProcess,
        vrrp: Keepalived | None = None,
        search_gid: int | None = None,
        history: History | None = None,
    ) -> None:
        self.dir = runtime_dir
        # The last apply and (re)loads, for GetDiagnostics (None: not recorded).
        self.history = history
        self.process = process
        self.vrrp = vrrp
        self.search_gid = search_gid
        # The keepalived.conf keepalived last started or reloaded with (None: none or unknown).
        self._vrrp_loaded: bytes | None = None
        # Whether the main process last (re)loaded the files conf/ points at, give or take
        # keepalived's (False: not running or unknown, e.g. after a failed reload).
        self._main_loaded = False
        self.main_file = process.main_file
        self.conf_link = os.path.join(runtime_dir, "conf")
        self.versions = os.path.join(runtime_dir, "configs")
        self._lock = asyncio.Lock()
        os.makedirs(self.versions, exist_ok=True)
        self._share(self.versions)

    # -- state -------------------------------------------------------------------------------

    def _current_version(self) -> str | None:
        try:
            return os.path.basename(os.readlink(self.conf_link))
        except OSError:
            return None

    def _meta(self, version: str | None) -> dict:
        if not version:
            return {}
        try:
            with open(os.path.join(self.versions, version + ".json")) as fh:
                return json.load(fh)
        except (OSError, ValueError):
            return {}

    @property
    def applied_hash(self) -> str:
        return self._meta(self._current_version()).get("config_hash", "")

    @property
    def applied_renderer_version(self) -> str:
        return self._meta(self._current_version()).get("renderer_version", "")

    def _write_meta(self, version: str, meta: dict) -> None:
        path = os.path.join(self.versions, version + ".json")
        with open(path + ".tmp", "w") as fh:
            json.dump(meta, fh)
        os.replace(path + ".tmp", path)

    def applied(self) -> AppliedConfig | None:
        version = self._current_version()
        meta = self._meta(version)
        if not version or not meta:
            return None
        root = os.path.join(self.versions, version)
        files = []
        for entry in meta.get("files", []):
            with open(os.path.join(root, entry["path"]), "rb") as fh:
                files.append(ConfigFile(entry["path"], fh.read(), entry.get("mode", 0)))
        return AppliedConfig(tuple(files), meta["config_hash"], meta.get("renderer_version", ""))

    # -- start-up ----------------------------------------------------------------------------

    async def recover(self) -> None:
        """Agent (re)start: drop leftovers, and run the process with the last applied config."""
        current = self._current_version()
        for name in os.listdir(self.versions):
            if name.startswith(".staging-"):
                shutil.rmtree(os.path.join(self.versions, name), ignore_errors=True)
        shutil.rmtree(os.path.join(self.dir, "validate"), ignore_errors=True)
        if current and os.path.isdir(os.path.join(self.versions, current)):
            self._share(os.path.join(self.versions, current))  # written by an older agent
        self.process.stop_stale()
        if self.vrrp is not None:
            self.vrrp.stop_stale()
        if current and os.path.exists(os.path.join(self.conf_link, self.main_file)):
            try:
                await self._load_main(start=True)
            except ProcessError as exc:
                log.error("could not start the process with the applied config: %s", exc)
            try:
                await self._sync_vrrp(current)
            except ProcessError as exc:  # it keeps being retried while it is wanted
                log.error("could not start keepalived with the applied config: %s", exc)

    # -- apply -------------------------------------------------------------------------------

    @staticmethod
    def check_request(
        files: list[ConfigFile], declared_hash: str, main_file: str = MAIN_FILE
    ) -> None:
        seen = set()
        for item in files:
            check_relative_path(item.path)
            if item.path in seen:
                raise RequestError(f"duplicate config file path {item.path!r}")
            seen.add(item.path)
        if main_file not in seen:
            raise RequestError(f"the config must contain {main_file}")
        actual = config_hash((f.path, f.content) for f in files)
        if actual != declared_hash:
            raise RequestError(f"config_hash mismatch: declared {declared_hash}, computed {actual}")

    async def apply(
        self,
        files: list[ConfigFile],
        declared_hash: str,
        renderer_version: str,
        force: bool = False,
        plan: RuntimePlan | None = None,
    ) -> Outcome:
        """force: validate, swap and reload even when declared_hash is already applied.
        plan: apply over the engine's runtime API instead of a reload when it can (see the module
        docstring); force never uses it."""
        self.check_request(files, declared_hash, self.main_file)
        async with self._lock:
            outcome = await self._apply_locked(files, declared_hash, renderer_version, force, plan)
            if self.history is not None:
                self.history.record_apply(
                    outcome.result.value,
                    declared_hash,
                    outcome.applied_hash,
                    renderer_version,
                    force,
                    outcome.detail,
                    runtime=outcome.runtime,
                    runtime_fallback=outcome.runtime_fallback,
                )
            return outcome

    async def _apply_locked(
        self,
        files: list[ConfigFile],
        new_hash: str,
        renderer_version: str,
        force: bool,
        plan: RuntimePlan | None = None,
    ) -> Outcome:
        previous = self._current_version()
        if new_hash == self.applied_hash and not force:
            outcome = await self._apply_same(previous, new_hash, renderer_version)
            if plan is not None and outcome.result != Result.UNCHANGED:
                outcome = replace(outcome, runtime_fallback=f"config {new_hash} is already applied")
            return outcome

        started = time.monotonic()
        fallback = "" if plan is None else self._runtime_refusal(plan, previous, files, force)
        if fallback:
            log.warning("runtime plan for %s not used: %s", new_hash, fallback)
        tried = False  # commands were sent: the running haproxy may have taken some
        plan_took: float | None = None
        send = getattr(self.process, "runtime_commands", None)
        if plan is not None and not fallback and send is not None:
            tried = True
            try:
                plan_took = await run_plan(plan, send)
            except PlanFailed as exc:
                fallback = str(exc)
                log.warning("runtime plan for %s failed, reloading instead: %s", new_hash, fallback)

        version = f"{new_hash[:16]}-{uuid.uuid4().hex[:8]}"
        staging = os.path.join(self.versions, ".staging-" + version)
        self._write_tree(staging, files)
        # After commands that took, traffic to the new servers flows already: the check yields
        # the CPU to it (process.yielding_checks).
        with yielding_checks() if plan_took is not None else contextlib.nullcontext():
            ok, output = await self._validate(staging)
        if not ok:
            shutil.rmtree(staging, ignore_errors=True)
            if plan is not None and not fallback:
                fallback = "the new files do not validate"
            if tried:
                output = await self._undo_commands(output)
            return Outcome(Result.INVALID, self.applied_hash, output, runtime_fallback=fallback)
        meta = {
            "config_hash": new_hash,
            "renderer_version": renderer_version,
            "files": [{"path": f.path, "mode": f.mode} for f in files],
        }
        if plan_took is not None:
            # Swapped in with no reload: the running haproxy matches these files now (the
            # renderer made the plan to cover their change), and its next reload starts from
            # them (the server-state dump it saves leaves maintenance, weights and ports to
            # them: stats.restorable_server_state).
            self._write_meta(version, meta)
            os.rename(staging, os.path.join(self.versions, version))
            self._point_conf_at(version)
            self._prune(keep={version, previous})
            log.info(
                "applied config %s over the runtime API: %d commands, no reload "
                "(%.1f ms, %.1f ms of them the plan)",
                new_hash,
                len(plan.commands),
                (time.monotonic() - started) * 1000,
                plan_took * 1000,
            )
            detail = f"applied over the runtime API: {len(plan.commands)} commands, no reload"
            return Outcome(Result.APPLIED, new_hash, detail, runtime=True)

        self._write_meta(version, meta)
        os.rename(staging, os.path.join(self.versions, version))
        outcome = await self._swap_and_load(previous, version, new_hash, files, force, tried)
        return replace(outcome, runtime_fallback=fallback)

    async def _undo_commands(self, output: str) -> str:
        """The running haproxy took a plan's commands for files that do not validate: reload the
        applied config, which it runs again from then on."""
        try:
            await self._load_main(action="rollback")
        except ProcessError as exc:
            log.error("reloading the applied config after an invalid plan failed: %s", exc)
            return (
                f"{output}\nreloading the applied config to undo the runtime commands failed: {exc}"
            )
        return f"{output}\n(the runtime commands were undone: the applied config was reloaded)"

    def _runtime_refusal(
        self,
        plan: RuntimePlan,
        previous: str | None,
        files: list[ConfigFile],
        force: bool,
    ) -> str:
        """Why the plan cannot be tried ("": it can)."""
        if force:
            return "force asks for a full reload"
        if getattr(self.process, "runtime_commands", None) is None:
            return f"this agent's engine ({self.main_file}) has no runtime API"
        if plan.from_config_hash != self.applied_hash:
            return (
                f"applied config hash {self.applied_hash or '(none)'} "
                f"is not the plan's {plan.from_config_hash or '(none)'}"
            )
        if not (self.process.running and self._main_loaded):
            return "the engine is not running the applied config"
        changed = self._changed_files(previous, files)
        if changed is None:
            return "the applied files cannot be read"
        if changed & KEEPALIVED_ONLY_FILES:
            return "keepalived's files changed"
        if self._wants_vrrp(previous) and not self._vrrp_running:
            return "keepalived is not running"
        try:
            check_commands(plan.commands)
        except PlanFailed as exc:
            return str(exc)
        return ""

    async def _apply_same(
        self, previous: str | None, new_hash: str, renderer_version: str
    ) -> Outcome:
        """The hash asked for is the one applied (and no force)."""
        meta = self._meta(previous)
        if previous and meta.get("renderer_version", "") != renderer_version:
            # A new renderer that renders the same files: record it, nothing to reload.
            self._write_meta(previous, {**meta, "renderer_version": renderer_version})
        vrrp_down = self._wants_vrrp(previous) and not self._vrrp_running
        if self.process.running and not vrrp_down:
            return Outcome(Result.UNCHANGED, new_hash)
        try:  # same config but a process is down (crashed): converge by starting it
            started = []
            if not self.process.running:
                await self._load_main(start=True)
                started.append("the process")
            if vrrp_down:
                await self._sync_vrrp(previous)
                started.append("keepalived")
            verb = "was" if len(started) == 1 else "were"
            return Outcome(
                Result.APPLIED, new_hash, f"{' and '.join(started)} {verb} not running; started"
            )
        except ProcessError as exc:
            return Outcome(Result.BROKEN, new_hash, str(exc))

    async def _swap_and_load(
        self,
        previous: str | None,
        version: str,
        new_hash: str,
        files: list[ConfigFile],
        force: bool,
        reload_anyway: bool = False,
    ) -> Outcome:
        """The full path once `version` is staged and valid: point conf/ at it, (re)load, roll
        back on failure. force: a forced apply (reloads keepalived too). reload_anyway: reload
        the main process even if its files did not change (a runtime plan failed part way)."""

        # A change confined to keepalived's files leaves the running main process alone. In an
        # ACTIVE_STANDBY pair whose dead half was replaced by one at the same address, the
        # survivor's only change is its VRRP role and priority; reloading its haproxy would lose
        # the stick-table entries it learned from the dead peer (haproxy 2.6 does not hand
        # remote-learned entries to its new process on a reload, which then refills from the new,
        # empty peer), and so SOURCE_IP persistence. Not reloading is safe: haproxy reads
        # conf/haproxy.cfg and its companions at a (re)load, and at run time only execs its ping
        # check scripts; every path rendered into it goes through the conf/ link (never into a
        # configs/<version>/ directory), and this version holds the same files, byte for byte and
        # mode for mode, as the one it was loaded from, so pruning that one takes nothing haproxy
        # needs now or at its next reload.
        reload_main = (
            force
            or reload_anyway
            or not (self.process.running and self._main_loaded)
            or self._main_files_differ(previous, files)
        )
        self._point_conf_at(version)
        try:
            if reload_main:
                await self._load_main()
            await self._sync_vrrp(version, force)
        except ProcessError as exc:
            log.warning("reload of %s failed, rolling back: %s", new_hash, exc)
            return await self._roll_back(previous, version, str(exc), reload_main)
        self._prune(keep={version, previous})
        if reload_main:
            log.info("applied config %s", new_hash)
        else:
            log.info("applied config %s (keepalived's files only: not reloaded)", new_hash)
        return Outcome(Result.APPLIED, new_hash)

    def _main_files_differ(self, previous: str | None, files: list[ConfigFile]) -> bool:
        """Whether `files` differ from the version `previous` in anything but keepalived's files:
        a path added or removed, or a content or mode changed. True when previous is unknown."""
        changed = self._changed_files(previous, files)
        return changed is None or not changed <= KEEPALIVED_ONLY_FILES

    def _changed_files(self, previous: str | None, files: list[ConfigFile]) -> set[str] | None:
        """The paths whose presence, content or mode differ between the version `previous` and
        `files`; None when previous is unknown or unreadable."""
        meta = self._meta(previous)
        if not previous or "files" not in meta:
            return None
        old: dict[str, tuple[bytes, int]] = {}
        for entry in meta["files"]:
            content = self._read(previous, entry["path"])
            if content is None:
                return None
            old[entry["path"]] = (content, _file_mode(entry.get("mode", 0)))
        new = {f.path: (f.content, _file_mode(f.mode)) for f in files}
        return {p for p in old.keys() | new.keys() if old.get(p) != new.get(p)}

    async def _roll_back(
        self, previous: str | None, failed: str, reason: str, reload_main: bool = True
    ) -> Outcome:
        """reload_main False: the failed apply did not reload the main process, which still runs
        the previous version's files (they differ only in keepalived's), so it is left alone."""
        if previous is None:
            os.unlink(self.conf_link)
            if self.vrrp is not None:
                await self.vrrp.stop()
                self._vrrp_loaded = None
            await self.process.stop()
            self._main_loaded = False
            self._prune(keep=set())
            return Outcome(
                Result.ROLLED_BACK, "", f"{reason}\n(no previous config; the process stopped)"
            )
        self._point_conf_at(previous)
        self._prune(keep={previous})
        try:
            if reload_main or not (self.process.running and self._main_loaded):
                await self._load_main(action="rollback")
            await self._sync_vrrp(previous)
        except ProcessError as exc:
            log.error("restoring the previous config failed too: %s", exc)
            return Outcome(
                Result.BROKEN,
                self.applied_hash,
                f"{reason}\nrestore of the previous config failed: {exc}",
            )
        return Outcome(Result.ROLLED_BACK, self.applied_hash, reason)

    async def _load_main(self, start: bool = False, action: str = "") -> None:
        """Start or reload the main process to conf/ and record that it runs what conf/ holds
        (and, in the history, how that went: action "start", "reload" or "rollback")."""
        self._main_loaded = False  # unknown until this succeeds
        action = action or ("start" if start or not self.process.running else "reload")
        try:
            await (self.process.start() if start else self.process.reload())
        except ProcessError as exc:
            if self.history is not None:
                self.history.record_reload(action, False, str(exc), self.applied_hash)
            raise
        self._main_loaded = True
        if self.history is not None:
            self.history.record_reload(action, True, "", self.applied_hash)

    # -- keepalived --------------------------------------------------------------------------

    @property
    def _vrrp_running(self) -> bool:
        return self.vrrp is not None and self.vrrp.running

    def _wants_vrrp(self, version: str | None) -> bool:
        return self.vrrp is not None and self._read(version, KEEPALIVED_FILE) is not None

    async def _sync_vrrp(self, version: str, force: bool = False) -> None:
        """Make keepalived match the config `version` (conf/ points at it)."""
        if self.vrrp is None:
            return
        wanted = self._read(version, KEEPALIVED_FILE)
        loaded, self._vrrp_loaded = self._vrrp_loaded, None  # unknown until this succeeds
        if wanted is None:
            await self.vrrp.stop()  # SINGLE (again): release the VIP
            return
        if not self.vrrp.running:
            await self.vrrp.start()
        elif force or wanted != loaded:
            await self.vrrp.reload()
        self._vrrp_loaded = wanted

    def _read(self, version: str | None, path: str) -> bytes | None:
        if not version:
            return None
        try:
            with open(os.path.join(self.versions, version, path), "rb") as fh:
                return fh.read()
        except OSError:
            return None

    # -- helpers -----------------------------------------------------------------------------

    def _write_tree(self, root: str, files: list[ConfigFile]) -> None:
        os.makedirs(root, mode=0o700)
        for item in files:
            target = os.path.join(root, item.path)
            os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(item.content)
            os.chmod(target, _file_mode(item.mode))
        self._share(root)

    def _share(self, directory: str) -> None:
        """Search permission on `directory` for the workers' group (see the class docstring)."""
        if self.search_gid is None:
            return
        os.chown(directory, -1, self.search_gid)
        os.chmod(directory, 0o710)

    async def _validate(self, staging: str) -> tuple[bool, str]:
        workdir = os.path.join(self.dir, "validate")
        shutil.rmtree(workdir, ignore_errors=True)
        os.makedirs(workdir)
        os.symlink(staging, os.path.join(workdir, "conf"))
        try:
            ok, output = await self.process.validate(
                os.path.join(staging, self.main_file), cwd=workdir
            )
            keepalived_conf = os.path.join(staging, KEEPALIVED_FILE)
            if ok and os.path.exists(keepalived_conf):
                if self.vrrp is None:
                    return False, "the config has keepalived.conf but this agent cannot run it"
                return await self.vrrp.validate(keepalived_conf, cwd=workdir)
            return ok, output
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _point_conf_at(self, version: str) -> None:
        tmp = self.conf_link + ".new"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(os.path.join("configs", version), tmp)
        os.replace(tmp, self.conf_link)  # rename(2): atomic for readers of conf/

    def _prune(self, keep: set[str | None]) -> None:
        for name in os.listdir(self.versions):
            if name.startswith(".staging-"):
                continue
            base = name[:-5] if name.endswith(".json") else name
            if base in keep:
                continue
            path = os.path.join(self.versions, name)
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)


def _file_mode(requested: int) -> int:
    """The mode a config file gets on disk for the mode in its request (0: the default)."""
    return (requested & 0o777) or 0o644
