"""The embedded engine's memory budget: one setting sizes DuckDB's buffer pool and the
query memory guard's headroom together."""

from __future__ import annotations

import pytest

from hedgerow.config import ConfigError, Settings
from hedgerow.store.events import duckdb_query
from hedgerow.store.events.engines import GUARD_MARGIN, open_event_store
from hedgerow.store.events.memory import memory_bytes


@pytest.fixture
def guard_headroom():
    before = duckdb_query.MEMORY_GUARD.headroom
    yield
    duckdb_query.MEMORY_GUARD.headroom = before


@pytest.mark.parametrize("text, size", [("384MB", 384_000_000), ("2GB", 2_000_000_000), ("1.5GiB", 3 * 2**29),
                                        (" 512 mib ", 512 * 2**20)])
def test_sizes_are_read_as_operators_write_them(text, size):
    assert memory_bytes(text) == size


@pytest.mark.parametrize("text", ["", "2", "2TB", "-1GB", "1MB", "2000GB", "1e3MB", "2GB; SET threads=1"])
def test_odd_sizes_are_refused_before_the_server_starts(text):
    with pytest.raises(ConfigError, match="events memory"):
        Settings(events_memory=text)


def test_the_buffer_pool_and_the_guard_follow_the_setting(tmp_path, guard_headroom):
    store = open_event_store(f"duckdb:///{tmp_path / 'events.duckdb'}", "2GB")
    try:
        limit = store._db.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        assert limit in ("1.8 GiB", "1.8GiB"), limit
        assert duckdb_query.MEMORY_GUARD.headroom == 2_000_000_000 + GUARD_MARGIN
    finally:
        store.close()


def test_the_default_keeps_the_guard_where_it_was(tmp_path, guard_headroom):
    store = open_event_store(f"duckdb:///{tmp_path / 'events.duckdb'}")
    try:
        limit = store._db.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        assert limit in ("366.2 MiB", "366.2MiB"), limit
        assert duckdb_query.MEMORY_GUARD.headroom == duckdb_query.MEMORY_HEADROOM
    finally:
        store.close()
