"""What the applier needs from the load-balancing process it manages (haproxy or nginx)."""

from __future__ import annotations

from typing import Protocol


class ProcessError(Exception):
    """The process failed to start or reload; str() is the operator detail."""


class ManagedProcess(Protocol):
    # The file of an applied config the process is started with, e.g. "haproxy.cfg".
    main_file: str

    @property
    def running(self) -> bool: ...

    async def validate(self, cfg_path: str, cwd: str) -> tuple[bool, str]:
        """(ok, validator output) for the config at cfg_path; cwd holds conf -> its directory."""
        ...

    def stop_stale(self) -> None:
        """Stop a process left behind by an earlier agent run on this runtime dir."""
        ...

    async def start(self) -> None: ...

    async def reload(self) -> None:
        """Reload to {runtime_dir}/conf and confirm the new config is live, or raise."""
        ...

    async def stop(self, timeout: float = 5.0) -> None: ...
