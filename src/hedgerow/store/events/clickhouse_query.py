"""Run a compiled HogQL query on ClickHouse: read-only, time-boxed, memory- and size-bounded.

Every query runs with :data:`QUERY_SETTINGS` (``readonly``, ``max_execution_time``,
``max_memory_usage``, ``max_result_bytes``...), so ClickHouse itself stops what runs too long,
takes too much memory or returns too much. Results come back as ``JSONCompact`` with DateTime
values in ISO UTC and are shown in each column's zone, as the DuckDB runner shows them.

Driver errors are translated here, never above: ClickHouse's error code decides between
the same exposed errors the DuckDB runner raises.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo

import orjson

from hedgerow.errors import Exposed
from hedgerow.hogql.context import CompiledQuery
from hedgerow.hogql.errors import LimitExceeded, QueryError, QueryTimeoutError
from hedgerow.store.events.clickhouse_connection import ClickHouseError, Connection
from hedgerow.store.events.duckdb_query import MAX_RESULT_BYTES, EngineError, QueryCancelled, QueryResult, result_of

MAX_MEMORY_USAGE = 1024 * 1024 * 1024
"""Memory one query may use on the ClickHouse side (``max_memory_usage``)."""


def query_settings(timeout_seconds: float, max_result_bytes: int) -> dict[str, Any]:
    """The settings every HogQL query runs with."""
    return {
        "readonly": 2,  # no writes, no DDL; settings below stay changeable only by us
        "max_execution_time": max(1, int(timeout_seconds + 0.999)),
        "max_memory_usage": MAX_MEMORY_USAGE,
        "max_result_bytes": max_result_bytes,
        "result_overflow_mode": "throw",
        "max_ast_elements": 100_000,
        "max_expanded_ast_elements": 1_000_000,
        "date_time_output_format": "iso",  # UTC with a Z
        "join_use_nulls": 1,
    }


_TIMEOUT = {159, 160, 209, 210}  # TIMEOUT_EXCEEDED, TOO_SLOW, SOCKET_TIMEOUT, NETWORK_ERROR
_CANCELLED = {394}  # QUERY_WAS_CANCELLED
_LIMITS = {241, 396, 307, 158, 168}  # memory, result size, bytes/rows limits, AST size
_USER = {
    6, 27, 32, 38, 41, 53, 69, 70, 72, 43, 44, 46, 47, 48, 36, 42, 184, 190, 215, 386, 153, 62, 117,
}
"""Codes the user's query can cause (parse/convert/type/argument/division errors)."""

_DATETIME = re.compile(r"DateTime(?:64)?")
_TYPE_ZONE = re.compile(r"DateTime(?:64)?\((?:\d+, )?'([^']+)'\)")


def _converter(ch_type: str, timezone: str) -> Callable[[Any], Any]:
    match = _TYPE_ZONE.search(ch_type)
    zone = ZoneInfo(match.group(1) if match else timezone)
    is_datetime = bool(_DATETIME.search(ch_type))
    is_uint8 = ch_type in ("UInt8", "Nullable(UInt8)")

    def convert(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool):
            return int(value) if is_uint8 else value
        if isinstance(value, str) and is_datetime and value.endswith("Z"):
            local = dt.datetime.fromisoformat(value[:-1] + "+00:00").astimezone(zone)
            text = local.isoformat(timespec="microseconds" if local.microsecond else "seconds")
            return text.replace("+00:00", "Z")
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    return convert


def _translate(exc: ClickHouseError) -> Exposed:
    if exc.code in _TIMEOUT:
        return QueryTimeoutError()
    if exc.code in _CANCELLED:
        return QueryCancelled()
    if exc.code in _LIMITS:
        return LimitExceeded("The query exceeds a limit (memory, result size or complexity). "
                             "Select fewer rows or columns, or aggregate.")  # fmt: skip
    if exc.code in _USER:
        return QueryError("The query could not be executed: check its types, values and arguments.")
    return EngineError()


def _params(compiled: CompiledQuery) -> Mapping[str, Any]:
    return {f"p{i}": v for i, v in enumerate(compiled.params, 1)}


def explain(connection: Connection, compiled: CompiledQuery) -> list[str]:
    """ClickHouse's plan for ``compiled``, one line per item."""
    try:
        answer = connection.query("EXPLAIN " + compiled.sql, _params(compiled), {"readonly": 2})
    except ClickHouseError as exc:
        raise EngineError() from exc
    return [str(row[0]) for row in answer.rows]


def execute(
    connection: Connection,
    compiled: CompiledQuery,
    timeout_seconds: float = 60.0,
    *,
    cancelled: threading.Event | None = None,
    max_result_bytes: int = MAX_RESULT_BYTES,
    query_id: str | None = None,
) -> QueryResult:
    """Run ``compiled`` (rendered for ClickHouse) under :func:`query_settings`."""
    if cancelled is not None and cancelled.is_set():
        raise QueryCancelled()
    try:
        answer = connection.query(compiled.sql, _params(compiled), query_settings(timeout_seconds, max_result_bytes),
                                  query_id=query_id)  # fmt: skip
    except ClickHouseError as exc:
        if cancelled is not None and cancelled.is_set():
            raise QueryCancelled() from exc
        raise _translate(exc) from exc
    converters = [_converter(t, compiled.timezone) for _, t in compiled.types]
    results = [[conv(v) for conv, v in zip(converters, row)] for row in answer.rows]
    size = len(orjson.dumps(results, default=str))
    if size > max_result_bytes:
        raise LimitExceeded(f"The query's result exceeds the maximum of {max_result_bytes} bytes "
                            f"(max_result_bytes = {max_result_bytes}). Select fewer rows or columns, or aggregate.")  # fmt: skip
    return result_of(compiled, results, size)
