"""What the agent last did to its engine: the last apply and the last (re)loads, for
GetDiagnostics. Kept in memory and in <runtime dir>/last-operations.json (written through a
rename), so a restarted agent still shows why its last reload failed."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)

FILE_NAME = "last-operations.json"
# Error output kept per record: enough for haproxy's alerts, bounded on disk and on the wire.
MAX_TEXT = 16384


_CUT = "\n[truncated]"


def _cut(text: str) -> str:
    if len(text) <= MAX_TEXT:
        return text
    return text[: MAX_TEXT - len(_CUT)] + _CUT


@dataclass(frozen=True)
class ApplyRecord:
    at: float  # seconds since the epoch
    result: str  # applier.Result's value: APPLIED, UNCHANGED, INVALID, ROLLED_BACK, BROKEN
    config_hash: str
    applied_config_hash: str
    renderer_version: str
    force: bool
    detail: str
    # Applied over the engine's runtime API with no reload (a runtime plan, runtime.py).
    runtime: bool = False
    # A runtime plan was given and not used, or failed and a reload followed: why.
    runtime_fallback: str = ""


@dataclass(frozen=True)
class ReloadRecord:
    at: float
    action: str  # "start", "reload" or "rollback"
    ok: bool
    error: str
    config_hash: str


class History:
    """The last apply, the last (re)load and the last failed (re)load. path None: memory only."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.last_apply: ApplyRecord | None = None
        self.last_reload: ReloadRecord | None = None
        self.last_failed_reload: ReloadRecord | None = None
        self._load()

    @classmethod
    def in_dir(cls, runtime_dir: str) -> History:
        return cls(os.path.join(runtime_dir, FILE_NAME))

    def record_apply(
        self,
        result: str,
        config_hash: str,
        applied_config_hash: str,
        renderer_version: str,
        force: bool,
        detail: str,
        *,
        runtime: bool = False,
        runtime_fallback: str = "",
    ) -> None:
        self.last_apply = ApplyRecord(
            time.time(),
            result,
            config_hash,
            applied_config_hash,
            renderer_version,
            force,
            _cut(detail),
            runtime,
            _cut(runtime_fallback),
        )
        self._save()

    def record_reload(self, action: str, ok: bool, error: str, config_hash: str) -> None:
        record = ReloadRecord(time.time(), action, ok, _cut(error), config_hash)
        self.last_reload = record
        if not ok:
            self.last_failed_reload = record
        self._save()

    def _load(self) -> None:
        if self.path is None:
            return
        try:
            with open(self.path) as fh:
                data = json.load(fh)
            self.last_apply = _record(ApplyRecord, data.get("last_apply"))
            self.last_reload = _record(ReloadRecord, data.get("last_reload"))
            self.last_failed_reload = _record(ReloadRecord, data.get("last_failed_reload"))
        except FileNotFoundError:
            return
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            log.warning("ignoring unreadable %s: %s", self.path, exc)

    def _save(self) -> None:
        """Best effort: a full disk must not fail an apply that succeeded."""
        if self.path is None:
            return
        data = {
            name: dataclasses.asdict(record) if record is not None else None
            for name, record in (
                ("last_apply", self.last_apply),
                ("last_reload", self.last_reload),
                ("last_failed_reload", self.last_failed_reload),
            )
        }
        try:
            with open(self.path + ".tmp", "w") as fh:
                json.dump(data, fh)
            os.replace(self.path + ".tmp", self.path)
        except OSError as exc:
            log.warning("could not write %s: %s", self.path, exc)


def _record(cls, data):  # type: ignore[no-untyped-def]
    if not data:
        return None
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})
