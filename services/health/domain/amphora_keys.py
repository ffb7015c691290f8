"""Per-amphora heartbeat keys: what each amphora signs with, derived from the master keys.

An amphora holds only the keys derived for its own id, so one that is taken over can forge its
own heartbeats and nobody else's. The orchestrator's compute drivers write the same derivation
into each agent's key file (services/orchestrator/adapters/heartbeat_keys.py); a test pins both
to the definition below.
"""

from __future__ import annotations

from collections import OrderedDict

from services.common.heartbeat_keys import AMPHORA_KEY_LENGTH, HKDF_INFO, derive_amphora_key

__all__ = ["AMPHORA_KEY_LENGTH", "HKDF_INFO", "AmphoraKeys", "derive_amphora_key"]
# Derived keys kept by AmphoraKeys: two per amphora while a rotation has two keys in use.
DEFAULT_CACHE_ENTRIES = 16_384


class AmphoraKeys:
    """Derived keys by (master key, amphora id), the least recently used dropped beyond
    max_entries: a heartbeat costs a dictionary lookup, and a flood of made-up amphora ids
    costs one derivation each and a bounded amount of memory.

    Keyed on the master key itself, not its id, so a key file that gives an id a new key is
    never answered from the cache. Not thread-safe: the intake runs on the event loop."""

    def __init__(self, max_entries: int = DEFAULT_CACHE_ENTRIES):
        if max_entries < 1:
            raise ValueError("max_entries must be positive")
        self._max = max_entries
        self._keys: OrderedDict[tuple[bytes, bytes], bytes] = OrderedDict()

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, master: bytes, amphora_id: bytes) -> bytes:
        """The key amphora_id signs with under master (amphora_id as UTF-8 bytes)."""
        entry = (master, amphora_id)
        key = self._keys.get(entry)
        if key is not None:
            self._keys.move_to_end(entry)
            return key
        key = derive_amphora_key(master, amphora_id)
        self._keys[entry] = key
        if len(self._keys) > self._max:
            self._keys.popitem(last=False)
        return key
