"""Read-only access to the warehouse for the web server, and the response cache.

DuckDB connections are not thread-safe, and FastAPI runs sync endpoints in a thread pool: every thread gets
its own cursor (a connection to the same read-only database) and its own Ibis backend over it. The
database is opened with ``read_only=True``, so no statement sent through any cursor can change the file.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from icetrack.warehouse import Warehouse, WarehouseError, open_warehouse
from icetrack.warehouse.reference import missing_reference


class ReadOnlyStore:
    """One read-only DuckDB database shared by the server's threads, one cursor per thread."""

    def __init__(self, path: str | Path):
        self._root = open_warehouse(path, read_only=True)
        self.path = self._root.path
        self._local = threading.local()
        self._check_reference_loaded()

    def _check_reference_loaded(self) -> None:
        # A read-only open cannot load the bundled reference figures (a read-write open does that on
        # first use), and a dashboard without them would silently lack the targets and the workbook series.
        files, editions, bundled = missing_reference(self._root)
        if files or editions:
            self._root.close()
            raise WarehouseError(
                f"{self.path}: the bundled reference data is not loaded ({len(files) + len(editions)} of {bundled} "
                "files missing); run `icetrack report` or `icetrack ingest` on this warehouse once, then serve it")

    def warehouse(self) -> Warehouse:
        """This thread's read-only Warehouse (its own cursor)."""
        wh = getattr(self._local, "warehouse", None)
        if wh is None:
            wh = self._root.cursor()  # its Ibis backend is made once and reused by every figure
            self._local.warehouse = wh
        return wh

    def version(self) -> tuple[int, int]:
        """(mtime in ns, size) of the warehouse file: part of every cache key."""
        st = self.path.stat()
        return st.st_mtime_ns, st.st_size

    def close(self) -> None:
        self._root.close()


class ResponseCache:
    """An in-process LRU of computed results, with one computation per key at a time.

    Keys are (endpoint, validated parameters, warehouse version). When many clients ask for the same
    uncached key at once, one computes and the others wait for its result instead of repeating the work.
    """

    def __init__(self, max_entries: int = 256):
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def lookup(self, key: Hashable) -> tuple[bool, Any]:
        """(True, value) when ``key`` is cached, else (False, None); never computes."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return True, self._entries[key]
            return False, None

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        found, value = self.lookup(key)
        if found:
            return value
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            found, value = self.lookup(key)
            if found:
                return value
            try:
                value = compute()
            except BaseException:  # nothing cached: the next request for this key tries again
                with self._lock:
                    self._key_locks.pop(key, None)
                raise
            with self._lock:
                self.misses += 1
                self._entries[key] = value
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
                self._key_locks.pop(key, None)
            return value
