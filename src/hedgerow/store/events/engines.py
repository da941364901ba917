"""Open the events store an ``--events-url`` names: DuckDB, embedded ClickHouse or a server."""

from __future__ import annotations

from pathlib import Path

from hedgerow.store.events.memory import memory_bytes
from hedgerow.store.events.urls import parse_events_url
from hedgerow.store.events.protocol import EventStore

GUARD_MARGIN = 64 * 1024**2
"""How far above the buffer pool a query may grow the process before the guard stops it."""


def open_event_store(url: str, memory: str | None = None) -> EventStore:
    """The store for ``duckdb:///PATH``, ``chdb:///PATH`` or ``clickhouse://…/DB``.

    ``memory``: DuckDB's buffer pool (default ``duckdb.MEMORY_LIMIT``); the query memory guard's
    headroom grows with it. Raises ``ValueError`` for a URL of no known engine.
    """
    parsed = parse_events_url(url)
    if parsed.engine == "duckdb":
        from hedgerow.store.events.duckdb import MEMORY_LIMIT, DuckDBEventStore
        from hedgerow.store.events.duckdb_query import MEMORY_GUARD, MEMORY_HEADROOM

        memory = memory or MEMORY_LIMIT
        MEMORY_GUARD.headroom = max(MEMORY_HEADROOM, memory_bytes(memory) + GUARD_MARGIN)
        return DuckDBEventStore(Path(parsed.path), memory_limit=memory)
    from hedgerow.store.events.clickhouse import ClickHouseEventStore

    if parsed.engine == "chdb" and parsed.path != ":memory:":
        Path(parsed.path).mkdir(parents=True, exist_ok=True)
    return ClickHouseEventStore.open(parsed)
