"""Run a compiled HogQL query on DuckDB: sandboxed, time-boxed, cancellable, JSON-ready results.

The DuckDB file is opened once per process by the store that owns it; that instance is locked
down once with :func:`apply_sandbox`, and every query runs on a cursor of it via
:func:`execute` (never a second ``duckdb.connect`` to the same file).

Results are fetched in batches and measured as they are converted: past
:data:`MAX_RESULT_BYTES` the query stops with a
:class:`~hedgerow.hogql.errors.LimitExceeded` (400) before the rest is read. While queries run,
:data:`MEMORY_GUARD` watches the process's resident memory and interrupts them all when it
grows more than its headroom (DuckDB's memory limit does not count list and string values).

Driver errors are translated here (never above): a query stopped by its time limit is a
:class:`~hedgerow.hogql.errors.QueryTimeoutError`, one stopped on request a
:class:`QueryCancelled`, one stopped by a limit a :class:`~hedgerow.hogql.errors.LimitExceeded`;
errors the user can act on become a
:class:`~hedgerow.hogql.errors.QueryError` with a category sentence (no engine text, so no
paths or internals leak); anything else is an :class:`EngineError` (an opaque 500).
"""

from __future__ import annotations

import datetime as dt
import decimal
import heapq
import itertools
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Sequence
from zoneinfo import ZoneInfo

import duckdb
import orjson

from hedgerow.errors import Exposed
from hedgerow.hogql.context import CompiledQuery
from hedgerow.hogql.errors import LIMIT_EXCEEDED, LimitExceeded, QueryError, QueryTimeoutError

MAX_RESULT_BYTES = 50 * 1024 * 1024
"""Largest result a query may return, measured as the JSON of its rows (ClickHouse's
``max_result_bytes``; rows are capped separately by the compiler's LIMIT)."""
FETCH_ROWS = 500
"""Rows converted per batch at most: the result's bytes are checked after each."""
BATCH_BYTES = 1024 * 1024
"""Wide rows are converted fewer at a time, about this many JSON bytes a batch."""
MAX_RESULT_VALUES = 4_000_000
"""Most values (array elements count one each) a result may hold: as Python objects a small
value costs several times its JSON bytes, so a result of many small numbers is capped by
count as well as by size."""
MEMORY_HEADROOM = 448 * 1024 * 1024
"""How far the process's resident memory may grow above where it stood when the running
queries started before :data:`MEMORY_GUARD` interrupts them."""

_MEMORY_LIMIT = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB|%)$", re.IGNORECASE)


def apply_sandbox(
    conn: duckdb.DuckDBPyConnection,
    *,
    memory_limit: str = "512MB",
    threads: int | None = None,
    max_temp_size: str = "16GB",
) -> None:
    """Lock down a freshly opened DuckDB instance, once, before any query runs on it.

    No files, network or extension (auto)loading; UTC as every cursor's time zone; a memory
    ceiling for the buffer pool, with spilling to the temp directory (DuckDB's default,
    beside the database file) bounded by ``max_temp_size``; then the configuration is locked so no later statement, on any cursor, can undo
    it. Instance-wide: call it right after ``duckdb.connect`` (and after creating tables).
    """
    for size in (memory_limit, max_temp_size):
        if not _MEMORY_LIMIT.match(size):
            raise ValueError(f"invalid size {size!r}")
    statements = [
        "SET enable_external_access = false",
        "SET autoload_known_extensions = false",
        "SET autoinstall_known_extensions = false",
        f"SET memory_limit = '{memory_limit}'",
        f"SET max_temp_directory_size = '{max_temp_size}'",  # spills go beside the file; bounded
        "SET GLOBAL TimeZone = 'UTC'",
    ]
    if threads is not None:
        statements.append(f"SET threads = {int(threads)}")
    statements.append("SET lock_configuration = true")
    for statement in statements:
        conn.execute(statement)


class QueryCancelled(Exposed):
    """The query was cancelled by its caller before it finished."""

    status = 400
    type = "validation_error"
    default_code = "query_cancelled"
    default_detail = "The query was cancelled."


class EngineError(Exposed):
    """An engine failure the user cannot act on: PostHog's opaque query 500."""

    status = 500
    type = "server_error"
    default_code = "error"
    default_detail = "ClickHouse error while executing query."


class _Watchdog:
    """One thread that fires query deadlines (cheaper than a timer thread per query)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._pending: set[int] = set()
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    def schedule(self, seconds: float, fire: Callable[[], None]) -> int:
        with self._cond:
            ident = next(self._ids)
            heapq.heappush(self._heap, (time.monotonic() + seconds, ident, fire))
            self._pending.add(ident)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="hedgerow-query-deadlines", daemon=True)
                self._thread.start()
            self._cond.notify()
            return ident

    def cancel(self, ident: int) -> None:
        with self._cond:
            self._pending.discard(ident)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][1] not in self._pending:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait(60)
                    continue
                due, ident, fire = self._heap[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                self._pending.discard(ident)
            try:
                fire()
            except Exception:  # noqa: BLE001 - a failed interrupt must not stop the watchdog
                pass


_WATCHDOG = _Watchdog()


_PAGE = os.sysconf("SC_PAGE_SIZE")


def _resident_bytes() -> int:
    """This process's resident set size (Linux ``/proc``; 0 where unavailable)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


class _MemoryGuard:
    """Samples resident memory while queries run; past ``baseline + headroom`` (the baseline
    taken when the first of the running queries started) it interrupts every running query.

    A second line behind the compiler's value caps and the result byte cap: it stops what
    grows between engine batches (huge aggregates, ``groupArray`` of millions of rows...).

    It also repeats the interrupt of a query asked to stop (``stops``: cancelled, timed out):
    an interrupt that lands just before the engine starts the query is lost.
    """

    def __init__(self, headroom: int = MEMORY_HEADROOM, interval: float = 0.02) -> None:
        self.headroom = headroom
        self.interval = interval
        self._cond = threading.Condition()
        self._running: dict[int, tuple[threading.Event, Callable[[], None], tuple[threading.Event, ...]]] = {}
        self._ids = itertools.count()
        self._baseline = 0
        self._thread: threading.Thread | None = None

    def enter(self, interrupt: Callable[[], None], *stops: threading.Event | None) -> tuple[int, threading.Event]:
        """Watch a query; its id and the event set when the guard stopped it."""
        tripped = threading.Event()
        with self._cond:
            if not self._running:
                self._baseline = _resident_bytes()
            ident = next(self._ids)
            self._running[ident] = (tripped, interrupt, tuple(e for e in stops if e is not None))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="hedgerow-query-memory", daemon=True)
                self._thread.start()
            self._cond.notify()
        return ident, tripped

    def leave(self, ident: int) -> None:
        with self._cond:
            self._running.pop(ident, None)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._running:
                    self._cond.wait()
                ceiling = self._baseline + self.headroom
            over = _resident_bytes() > ceiling
            with self._cond:
                watched = list(self._running.values())
            for tripped, interrupt, stops in watched:
                if over:
                    tripped.set()
                if tripped.is_set() or any(stop.is_set() for stop in stops):
                    try:
                        interrupt()
                    except Exception:  # noqa: BLE001 - a failed interrupt must not stop the guard
                        pass
            time.sleep(self.interval)


MEMORY_GUARD = _MemoryGuard()


@dataclass(frozen=True)
class QueryResult:
    columns: Sequence[str]
    types: Sequence[tuple[str, str]]
    results: list[list[Any]]
    has_more: bool | None
    limit: int | None
    offset: int | None
    nbytes: int = 0
    """The rows' size as JSON (what the result byte cap measured)."""


_TYPE_ZONE = re.compile(r"DateTime(?:64)?\((?:\d+, )?'([^']+)'\)")


def _converter(ch_type: str, timezone: str) -> Callable[[Any], Any]:
    # A column's own zone (toTimeZone(...)) is in its type; others show in ``timezone``.
    match = _TYPE_ZONE.search(ch_type)
    zone = ZoneInfo(match.group(1) if match else timezone)
    is_uint8 = ch_type in ("UInt8", "Nullable(UInt8)")

    def convert(value: Any) -> Any:
        kind = type(value)
        if kind is str or value is None:
            return value
        if kind is int:  # JSON numbers beyond 64 bits (HUGEINT results) go out as floats
            return value if -(2**63) <= value < 2**64 else float(value)
        if kind is bool:
            return int(value) if is_uint8 else value
        if isinstance(value, dt.datetime):
            aware = value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value
            local = aware.astimezone(zone)
            text = local.isoformat(timespec="microseconds" if local.microsecond else "seconds")
            return text.replace("+00:00", "Z")
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, decimal.Decimal):
            return float(value)
        if isinstance(value, dt.timedelta):
            return value.total_seconds()
        if isinstance(value, (list, tuple)):
            return [convert(v) for v in value]
        if isinstance(value, dict):
            return {str(k): convert(v) for k, v in value.items()}
        if isinstance(value, float) and value != value:
            return None
        return value

    return convert


_USER_ERRORS: tuple[tuple[type, str], ...] = (
    (duckdb.ConversionException, "A value could not be converted to the requested type."),
    (duckdb.OutOfRangeException, "A value is out of range for its type."),
    (duckdb.BinderException, "The query's types or references do not fit together."),
    (duckdb.InvalidInputException, "The query received invalid input."),
    (duckdb.ParserException, "The query could not be executed."),
    (duckdb.NotImplementedException, "The query uses a feature that is not supported."),
)


def _translate(exc: duckdb.Error) -> Exposed:
    if isinstance(exc, duckdb.InvalidInputException):
        text = str(exc)
        at = text.find(LIMIT_EXCEEDED)
        if at >= 0:
            return LimitExceeded(text[at + len(LIMIT_EXCEEDED):].splitlines()[0] + ".")
    for cls, message in _USER_ERRORS:
        if isinstance(exc, cls):
            return QueryError(message)
    if str(exc).startswith("Parameter not supported in"):
        return QueryError("ORDER BY and GROUP BY need expressions over columns, not constants.")
    return EngineError()


def _count_values(rows: list[list[Any]]) -> int:
    """Values in ``rows``, each array element counted (nested arrays too)."""
    return sum(_weight(value) for row in rows for value in row)


def _weight(value: Any) -> int:
    if not isinstance(value, (list, tuple)):
        return 1
    if value and isinstance(value[0], (list, tuple)):  # arrays are homogeneous: look at one
        return 1 + sum(_weight(item) for item in value)
    return 1 + len(value)


def _too_large(limit: int) -> LimitExceeded:
    return LimitExceeded(
        f"The query's result exceeds the maximum of {limit} bytes (max_result_bytes = {limit}). "
        "Select fewer rows or columns, or aggregate."
    )


def _memory_exceeded(headroom: int) -> LimitExceeded:
    return LimitExceeded(
        f"The query needs more memory than allowed ({headroom // (1024 * 1024)} MB). "
        "Select fewer rows or columns, or aggregate."
    )


def execute(
    cursor: duckdb.DuckDBPyConnection,
    compiled: CompiledQuery,
    timeout_seconds: float = 60.0,
    *,
    cancelled: threading.Event | None = None,
    max_result_bytes: int = MAX_RESULT_BYTES,
) -> QueryResult:
    """Run ``compiled`` on ``cursor`` (of a sandboxed instance) within ``timeout_seconds``,
    returning at most ``max_result_bytes`` of rows (measured as JSON).

    To cancel from another thread, set ``cancelled`` and call ``cursor.interrupt()``.
    """
    if cancelled is not None and cancelled.is_set():
        raise QueryCancelled()
    timed_out = threading.Event()

    def expire() -> None:
        timed_out.set()
        cursor.interrupt()

    deadline = _WATCHDOG.schedule(timeout_seconds, expire)
    guard, out_of_memory = MEMORY_GUARD.enter(cursor.interrupt, timed_out, cancelled)
    converters = [_converter(t, compiled.timezone) for _, t in compiled.types]
    results: list[list[Any]] = []
    size = values = 0
    per_batch = FETCH_ROWS
    try:
        cursor.execute(compiled.sql, list(compiled.params))
        while batch := cursor.fetchmany(per_batch):
            rows = [[conv(v) for conv, v in zip(converters, row)] for row in batch]
            del batch
            batch_bytes = len(orjson.dumps(rows, default=str))
            size += batch_bytes
            values += _count_values(rows)
            if size > max_result_bytes or values > MAX_RESULT_VALUES:
                raise _too_large(max_result_bytes)
            per_batch = max(1, min(FETCH_ROWS, BATCH_BYTES * len(rows) // max(batch_bytes, 1)))
            if out_of_memory.is_set():  # the rows' Python objects grow the process too
                raise _memory_exceeded(MEMORY_GUARD.headroom)
            results.extend(rows)
    except duckdb.InterruptException:
        if out_of_memory.is_set():
            raise _memory_exceeded(MEMORY_GUARD.headroom) from None
        if cancelled is not None and cancelled.is_set() and not timed_out.is_set():
            raise QueryCancelled() from None
        raise QueryTimeoutError() from None
    except duckdb.OutOfMemoryException:
        raise _memory_exceeded(MEMORY_GUARD.headroom) from None
    except duckdb.Error as exc:
        raise _translate(exc) from exc
    finally:
        MEMORY_GUARD.leave(guard)
        _WATCHDOG.cancel(deadline)
    return result_of(compiled, results, size)


def result_of(compiled: CompiledQuery, results: list[list[Any]], size: int) -> QueryResult:
    """The rows a query fetched as its result: a paginated query fetched one row more than its
    page, which tells ``has_more`` and is dropped."""
    has_more = None
    if compiled.paginated and compiled.limit is not None:
        has_more = len(results) > compiled.limit
        results = results[: compiled.limit]
    return QueryResult(
        columns=list(compiled.columns),
        types=[list(t) for t in compiled.types],
        results=results,
        has_more=has_more,
        limit=compiled.limit if compiled.paginated else None,
        offset=compiled.offset if compiled.paginated else None,
        nbytes=size,
    )


def explain(cursor: duckdb.DuckDBPyConnection, compiled: CompiledQuery) -> list[str]:
    """The engine's plan for ``compiled``, one line per list item."""
    try:
        rows = cursor.execute("EXPLAIN " + compiled.sql, list(compiled.params)).fetchall()
    except duckdb.Error as exc:
        raise EngineError() from exc
    return [line for row in rows for line in str(row[-1]).splitlines()]


__all__ = [
    "explain",
    "EngineError",
    "MAX_RESULT_BYTES",
    "MEMORY_GUARD",
    "QueryCancelled",
    "QueryResult",
    "apply_sandbox",
    "execute",
]
