"""The gateway's side of conditional lists: the views of the last answer per scope, reused while
the orchestrator says its etag still holds (ListLoadBalancersResponse.not_modified).

Views are built once per change instead of once per request; filters, sorting, paging and
`fields=` still run on every request, on copies, so a kept list is never modified.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

Views = list[dict[str, Any]]


class ListCache:
    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._entries: OrderedDict[tuple, tuple[str, Views]] = OrderedDict()
        self._lock = threading.Lock()

    def etag(self, key: tuple) -> str:
        """The etag of the list kept for key, "" when none is."""
        with self._lock:
            entry = self._entries.get(key)
            return entry[0] if entry else ""

    def get(self, key: tuple, etag: str) -> Views | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != etag:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: tuple, etag: str, views: Views) -> None:
        if not etag:
            return
        with self._lock:
            self._entries[key] = (etag, views)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
