"""Run a compiled HogQL query on DuckDB: sandboxed, time-boxed, cancellable, JSON-ready results.

The DuckDB file is opened once per process by the store that owns it; that instance is locked
down once with :func:`apply_sandbox`, and every query runs on a cursor of it via
:func:`execute` (never a second ``duckdb.connect`` to the same file).

Driver errors are translated here (never above): a query stopped by its time limit is a
:class:`~hedgerow.hogql.errors.QueryTimeoutError`, one stopped on request a
:class:`QueryCancelled`; errors the user can act on become a
:class:`~hedgerow.hogql.errors.QueryError` with a category sentence (no engine text, so no
paths or internals leak); anything else is an :class:`EngineError` (an opaque 500).
"""

from __future__ import annotations

import datetime as dt
import decimal
import heapq
import itertools
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Sequence
from zoneinfo import ZoneInfo

import duckdb

from hedgerow.errors import Exposed
from hedgerow.hogql.context import CompiledQuery
from hedgerow.hogql.errors import QueryError, QueryTimeoutError

_MEMORY_LIMIT = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB|%)$", re.IGNORECASE)


def apply_sandbox(
    conn: duckdb.DuckDBPyConnection, *, memory_limit: str = "2GB", threads: int | None = None
) -> None:
    """Lock down a freshly opened DuckDB instance, once, before any query runs on it.

    No files, network or extension (auto)loading; UTC as every cursor's time zone; a memory
    ceiling; then the configuration is locked so no later statement, on any cursor, can undo
    it. Instance-wide: call it right after ``duckdb.connect`` (and after creating tables).
    """
    if not _MEMORY_LIMIT.match(memory_limit):
        raise ValueError(f"invalid memory limit {memory_limit!r}")
    statements = [
        "SET enable_external_access = false",
        "SET autoload_known_extensions = false",
        "SET autoinstall_known_extensions = false",
        f"SET memory_limit = '{memory_limit}'",
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


@dataclass(frozen=True)
class QueryResult:
    columns: Sequence[str]
    types: Sequence[tuple[str, str]]
    results: list[list[Any]]
    has_more: bool | None
    limit: int | None
    offset: int | None


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


def convert_rows(rows: list[tuple], types: Sequence[tuple[str, str]], timezone: str) -> list[list[Any]]:
    """Engine rows as JSON-ready lists (datetimes in ``timezone``, UUIDs as text...)."""
    converters = [_converter(t, timezone) for _, t in types]
    return [[conv(v) for conv, v in zip(converters, row)] for row in rows]


_USER_ERRORS: tuple[tuple[type, str], ...] = (
    (duckdb.ConversionException, "A value could not be converted to the requested type."),
    (duckdb.OutOfRangeException, "A value is out of range for its type."),
    (duckdb.BinderException, "The query's types or references do not fit together."),
    (duckdb.InvalidInputException, "The query received invalid input."),
    (duckdb.OutOfMemoryException, "The query needs more memory than allowed."),
    (duckdb.ParserException, "The query could not be executed."),
    (duckdb.NotImplementedException, "The query uses a feature that is not supported."),
)


def execute(
    cursor: duckdb.DuckDBPyConnection,
    compiled: CompiledQuery,
    timeout_seconds: float = 60.0,
    *,
    cancelled: threading.Event | None = None,
) -> QueryResult:
    """Run ``compiled`` on ``cursor`` (of a sandboxed instance) within ``timeout_seconds``.

    To cancel from another thread, set ``cancelled`` and call ``cursor.interrupt()``.
    """
    if cancelled is not None and cancelled.is_set():
        raise QueryCancelled()
    timed_out = threading.Event()

    def expire() -> None:
        timed_out.set()
        cursor.interrupt()

    deadline = _WATCHDOG.schedule(timeout_seconds, expire)
    try:
        rows = cursor.execute(compiled.sql, list(compiled.params)).fetchall()
    except duckdb.InterruptException:
        if timed_out.is_set() or cancelled is None or not cancelled.is_set():
            raise QueryTimeoutError() from None
        raise QueryCancelled() from None
    except duckdb.Error as exc:
        for cls, message in _USER_ERRORS:
            if isinstance(exc, cls):
                raise QueryError(message) from exc
        if str(exc).startswith("Parameter not supported in"):
            raise QueryError("ORDER BY and GROUP BY need expressions over columns, not constants.") from exc
        raise EngineError() from exc
    finally:
        _WATCHDOG.cancel(deadline)
    has_more = None
    if compiled.paginated and compiled.limit is not None:
        has_more = len(rows) > compiled.limit
        rows = rows[: compiled.limit]
    return QueryResult(
        columns=list(compiled.columns),
        types=[list(t) for t in compiled.types],
        results=convert_rows(rows, compiled.types, compiled.timezone),
        has_more=has_more,
        limit=compiled.limit if compiled.paginated else None,
        offset=compiled.offset if compiled.paginated else None,
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
    "QueryCancelled",
    "QueryResult",
    "apply_sandbox",
    "convert_rows",
    "execute",
]
