"""Open the events store an ``--events-url`` names: DuckDB, embedded ClickHouse or a server."""

from __future__ import annotations

from pathlib import Path

from hedgerow.store.events.urls import parse_events_url
from hedgerow.store.events.protocol import EventStore


def open_event_store(url: str) -> EventStore:
    """The store for ``duckdb:///PATH``, ``chdb:///PATH`` or ``clickhouse://…/DB``.

    Raises ``ValueError`` for a URL of no known engine.
    """
    parsed = parse_events_url(url)
    if parsed.engine == "duckdb":
        from hedgerow.store.events.duckdb import DuckDBEventStore

        return DuckDBEventStore(Path(parsed.path))
    from hedgerow.store.events.clickhouse import ClickHouseEventStore

    if parsed.engine == "chdb" and parsed.path != ":memory:":
        Path(parsed.path).mkdir(parents=True, exist_ok=True)
    return ClickHouseEventStore.open(parsed)
