"""Read-only access to the warehouse for the web server, and the response cache.

DuckDB lets many processes read a file OR one process write it. So that ``icetrack ingest`` (and every other
command) can run while the dashboard is up, the server holds its read-only connection only while it computes:
every computation runs in a :meth:`ReadOnlyStore.session`, the connection opens for the first one and closes
once none has run for ``idle_seconds``. A stream of computations does not keep it forever: once the file has
been held for ``max_hold_seconds`` without a pause of ``writer_gap_seconds`` (closing and reopening at once is
no pause), new computations wait for the running ones, the connection closes, and it stays closed
``writer_gap_seconds``, so that a writer polling for the lock (as ``icetrack ingest`` does) gets it. Answers
already computed are served from the cache without touching the file. When the file changed (another inode,
mtime or size, of it or of its write-ahead log), the next open drops the cache. A writer holding the lock when a
computation needs the file is waited for ``busy_seconds``, then :class:`WarehouseBusy` (answered 503 with
Retry-After).

DuckDB connections are not thread-safe, and FastAPI runs computations in a thread pool: every thread gets its
own cursor (a connection to the same read-only database) and its own Ibis backend over it. The database is
opened with ``read_only=True``, so no statement sent through any cursor can change the file.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from icetrack.warehouse import Warehouse, WarehouseError, WarehouseLocked, open_warehouse
from icetrack.warehouse.reference import missing_reference

IDLE_SECONDS = 1.0
MAX_HOLD_SECONDS = 2.0
WRITER_GAP_SECONDS = 0.5
BUSY_SECONDS = 2.0
RETRY_SECONDS = 0.1


class WarehouseBusy(WarehouseError):
    """Another process is writing the warehouse (e.g. ``icetrack ingest``) for longer than a request waits."""


class ReadOnlyStore:
    """One read-only DuckDB database shared by the server's threads, one cursor per thread, held open only
    while computations run (see the module docstring)."""

    def __init__(self, path: str | Path, *, on_change: Callable[[], None] | None = None,
                 idle_seconds: float = IDLE_SECONDS, max_hold_seconds: float = MAX_HOLD_SECONDS,
                 writer_gap_seconds: float = WRITER_GAP_SECONDS, busy_seconds: float = BUSY_SECONDS):
        self.path = Path(path).expanduser()
        self.on_change = on_change
        self.idle_seconds, self.max_hold_seconds = idle_seconds, max_hold_seconds
        self.writer_gap_seconds, self.busy_seconds = writer_gap_seconds, busy_seconds
        self._cond = threading.Condition(threading.Lock())  # not reentrant: _connect releases it fully
        self._local = threading.local()
        self._root: Warehouse | None = None
        self._cursors: list[Warehouse] = []
        self._generation = 0  # bumped at every open and close: a thread's cursor from another generation is stale
        self._active = 0  # sessions running
        self._opening = self._draining = False
        self._opened_at = self._last_used = 0.0
        self._busy_since = 0.0  # start of the current hold: opens after a pause shorter than the gap continue it
        self._closed_at = self._busy_at = -float("inf")  # when last closed; when an open last gave up on a writer
        self._busy_message = "another process is writing the warehouse (e.g. icetrack ingest); try again in a moment"
        self._open_signature: tuple | None = None
        self._seen_signature: tuple | None = None
        self._timer: threading.Timer | None = None
        self.opens = 0  # how many times the file was opened, and for how long in all (for tests and benchmarks)
        self.held_seconds = 0.0
        with self.session():
            self._check_reference_loaded(self.warehouse())

    def _check_reference_loaded(self, wh: Warehouse) -> None:
        # A read-only open cannot load the bundled reference figures (a read-write open does that on
        # first use), and a dashboard without them would silently lack the targets and the workbook series.
        files, editions, bundled = missing_reference(wh)
        if files or editions:
            self.close()
            raise WarehouseError(
                f"{self.path}: the bundled reference data is not loaded ({len(files) + len(editions)} of {bundled} "
                "files missing); run `icetrack report` or `icetrack ingest` on this warehouse once, then serve it")

    # -- sessions -------------------------------------------------------------------------------------
    @contextmanager
    def session(self) -> Iterator[ReadOnlyStore]:
        """Hold the warehouse open for one computation (nested sessions in a thread count once)."""
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            self._enter()
        self._local.depth = depth + 1
        try:
            yield self
        finally:
            self._local.depth = depth
            if depth == 0:
                self._leave()

    def _enter(self) -> None:
        with self._cond:
            arrived = time.monotonic()
            while True:
                now = time.monotonic()
                held_long = now - self._busy_since > self.max_hold_seconds
                if self._root is not None and not self._draining and (
                        held_long or self.version() != self._open_signature):
                    self._draining = True  # held long enough, or the file was replaced: let the running ones finish
                if self._draining and self._active == 0:
                    self._release(now)
                if self._root is not None and not self._draining:
                    break
                reopen_at = self._closed_at + self.writer_gap_seconds if held_long else now
                if self._root is None and not self._opening and self._busy_at >= arrived:
                    # another computation waited out the writer while this one queued: answer now, not after
                    # a wait of its own (requests queued behind a long ingest would otherwise wait in turn)
                    raise WarehouseBusy(self._busy_message)
                if self._root is None and not self._opening and now >= reopen_at:
                    self._open()
                    continue
                # waiting for our own computations to finish, or for the gap left to a writer: no deadline
                self._cond.wait(max(reopen_at - now, RETRY_SECONDS))
            self._active += 1

    def _leave(self) -> None:
        with self._cond:
            self._active -= 1
            self._last_used = time.monotonic()
            if self._active:
                return
            if self._draining:
                self._release(self._last_used)
            elif self._timer is None:
                self._schedule_idle_close(self.idle_seconds)

    def _open(self) -> None:
        """Open the file; the caller holds the lock (released while opening, so running sessions can end)."""
        self._opening = True
        try:
            root = self._connect(time.monotonic() + self.busy_seconds)
        except WarehouseBusy:
            self._busy_at = time.monotonic()
            raise
        finally:
            self._opening = False
            self._cond.notify_all()
        signature = self.version()
        if self._seen_signature is not None and signature != self._seen_signature and self.on_change:
            self.on_change()  # new data: every cached answer may be stale
        self._root, self._open_signature, self._seen_signature = root, signature, signature
        self._generation += 1
        now = time.monotonic()
        if now - self._closed_at >= self.writer_gap_seconds:
            self._busy_since = now  # the file was free long enough for a waiting writer: a new hold begins
        self._opened_at = now
        self.opens += 1

    def _connect(self, deadline: float) -> Warehouse:
        """The file opened read-only, retrying until ``deadline`` while a writer holds it."""
        while True:
            self._cond.release()
            try:
                return open_warehouse(self.path, read_only=True, lock_wait=0)
            except WarehouseLocked:
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(self._busy_message) from None
                time.sleep(RETRY_SECONDS)
            finally:
                self._cond.acquire()

    def _release(self, now: float) -> None:
        """Close every cursor and the connection (the caller holds the lock and no session runs)."""
        if self._root is None:
            return
        for wh in [*self._cursors, self._root]:
            try:
                wh.close()
            except Exception:  # noqa: BLE001 - closing what is already closed; the file must be let go regardless
                pass
        self._root, self._cursors = None, []
        self._generation += 1
        self.held_seconds += now - self._opened_at
        self._closed_at = now
        self._draining = False
        self._cond.notify_all()

    def _schedule_idle_close(self, delay: float) -> None:
        self._timer = threading.Timer(delay, self._close_if_idle)
        self._timer.daemon = True
        self._timer.start()

    def _close_if_idle(self) -> None:
        with self._cond:
            self._timer = None
            if self._root is None or self._active:
                return  # closed already, or in use: the last session to end schedules the next check
            remaining = self._last_used + self.idle_seconds - time.monotonic()
            if remaining > 0:
                self._schedule_idle_close(remaining)
            else:
                self._release(time.monotonic())

    # -- access ---------------------------------------------------------------------------------------
    def warehouse(self) -> Warehouse:
        """This thread's read-only Warehouse (its own cursor); only inside a :meth:`session`."""
        if not getattr(self._local, "depth", 0):
            raise RuntimeError("ReadOnlyStore.warehouse() outside a session: the connection may be closed")
        if getattr(self._local, "generation", None) != self._generation:
            with self._cond:
                wh = self._root.cursor()  # its Ibis backend is made once and reused by every figure
                self._cursors.append(wh)
            self._local.warehouse, self._local.generation = wh, self._generation
        return self._local.warehouse

    def is_open(self) -> bool:
        with self._cond:
            return self._root is not None

    def version(self) -> tuple:
        """(inode, mtime in ns, size) of the warehouse file and of its write-ahead log: part of every cache key."""
        out = []
        for p in (self.path, self.path.with_name(self.path.name + ".wal")):
            try:
                st = p.stat()
            except FileNotFoundError:
                out.append(None)
                continue
            out.append((st.st_ino, st.st_mtime_ns, st.st_size))
        return tuple(out)

    def close(self) -> None:
        with self._cond:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._release(time.monotonic())


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

    def clear(self) -> None:
        """Forget every entry (the warehouse changed); computations running now still store their result."""
        with self._lock:
            self._entries.clear()

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
