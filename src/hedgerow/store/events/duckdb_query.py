"""Run a compiled HogQL query on DuckDB: sandboxed, time-boxed, JSON-ready results.

Driver errors are translated here (never above): an interrupted query is a
:class:`~hedgerow.hogql.errors.QueryTimeoutError`; errors the user can act on become a
:class:`~hedgerow.hogql.errors.QueryError` with a category sentence (no engine text, so no
paths or internals leak); anything else is an :class:`~hedgerow.errors.Internal` error.
"""

from __future__ import annotations

import datetime as dt
import decimal
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Sequence
from zoneinfo import ZoneInfo

import duckdb

from hedgerow.errors import Internal
from hedgerow.hogql.context import CompiledQuery
from hedgerow.hogql.errors import QueryError, QueryTimeoutError

SANDBOX_CONFIG = {
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
}


def connect(path: str, *, read_only: bool = False, memory_limit: str = "2GB") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that cannot reach files, the network or extensions."""
    config = {**SANDBOX_CONFIG, "memory_limit": memory_limit}
    conn = duckdb.connect(path, read_only=read_only, config=config)
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("SET lock_configuration = true")
    return conn


@dataclass(frozen=True)
class QueryResult:
    columns: Sequence[str]
    types: Sequence[tuple[str, str]]
    results: list[list[Any]]
    has_more: bool | None
    limit: int | None
    offset: int | None


def _converter(ch_type: str, timezone: str):
    zone = ZoneInfo(timezone)
    is_uint8 = ch_type in ("UInt8", "Nullable(UInt8)")

    def convert(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool):
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
    (duckdb.OutOfMemoryException, "The query needs more memory than allowed."),
    (duckdb.ParserException, "The query could not be executed."),
    (duckdb.NotImplementedException, "The query uses a feature that is not supported."),
)


def execute(
    conn: duckdb.DuckDBPyConnection, compiled: CompiledQuery, *, timeout_seconds: float = 60.0
) -> QueryResult:
    """Run ``compiled`` on ``conn`` (from :func:`connect`) within ``timeout_seconds``."""
    timer = threading.Timer(timeout_seconds, conn.interrupt)
    timer.daemon = True
    timer.start()
    try:
        rows = conn.execute(compiled.sql, list(compiled.params)).fetchall()
    except duckdb.InterruptException:
        raise QueryTimeoutError() from None
    except duckdb.Error as exc:
        for cls, message in _USER_ERRORS:
            if isinstance(exc, cls):
                raise QueryError(message) from exc
        raise Internal("DuckDB error while executing query") from exc
    finally:
        timer.cancel()
    has_more = None
    if compiled.paginated and compiled.limit is not None:
        has_more = len(rows) > compiled.limit
        rows = rows[: compiled.limit]
    converters = [_converter(t, compiled.timezone) for _, t in compiled.types]
    results = [[conv(v) for conv, v in zip(converters, row)] for row in rows]
    return QueryResult(
        columns=list(compiled.columns),
        types=[list(t) for t in compiled.types],
        results=results,
        has_more=has_more,
        limit=compiled.limit if compiled.paginated else None,
        offset=compiled.offset if compiled.paginated else None,
    )
