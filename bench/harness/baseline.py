"""The baselines ingestion is measured against, in the same run as the measurement.

* :func:`bulk_insert_rate`: DuckDB inserting the very rows a run stored (read back from its
  events table as Arrow) into a fresh store of the same layout, ``rows_per_txn`` rows per
  transaction: what the engine does with no HTTP, no Python per event and no identity work;
* :func:`fsync_log_rate`: appending request bodies to a file with an fsync per group, the
  alternative durability design (a log applied to the engine later).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from hedgerow.store.events.duckdb import DuckDBEventStore


def bulk_insert_rate(source: Path, rows_per_txn: int, directory: Path) -> float:
    """Rows/s of an Arrow bulk insert of the events stored in the database at ``source``."""
    store = DuckDBEventStore(source)
    try:
        table = store.cursor().sql("SELECT * FROM events").to_arrow_table()
    finally:
        store.close()
    target = DuckDBEventStore(directory / f"bulk{rows_per_txn}.duckdb")
    cur = target.cursor()
    started = time.perf_counter()
    for offset in range(0, table.num_rows, rows_per_txn):
        cur.register("chunk_in", table.slice(offset, rows_per_txn))
        cur.execute("BEGIN TRANSACTION; INSERT INTO events SELECT * FROM chunk_in; COMMIT")
        cur.unregister("chunk_in")
    elapsed = time.perf_counter() - started
    cur.close()
    target.close()
    return table.num_rows / elapsed


def fsync_log_rate(bodies: list[bytes], events_per_body: int, per_group: int, directory: Path) -> float:
    """Events/s of appending ``bodies`` to a log, ``per_group`` bodies per fsync."""
    fd = os.open(directory / "append.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    started = time.perf_counter()
    for i in range(0, len(bodies), per_group):
        os.write(fd, b"".join(bodies[i:i + per_group]))
        os.fsync(fd)
    elapsed = time.perf_counter() - started
    os.close(fd)
    return len(bodies) * events_per_body / elapsed
