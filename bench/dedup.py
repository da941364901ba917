"""Exactly-once by uuid at scale: the in-memory design against a DuckDB ART index.

Prints, for a table of ``--rows`` events (default 10M; uuids only, the part dedup reads):

* start-up: loading every (team, uuid) from DuckDB and building the sorted fingerprints;
* ``Deduplicator.check`` per 100-event request (all new uuids, then all retried uuids);
* the store confirmation of ``maybe`` hits (a join of 100 uuids against the table);
* baseline: insert rate into the same table with and without a PRIMARY KEY (ART index) on
  (team_id, uuid), 2,000 rows per transaction.

    .venv/bin/python bench/dedup.py [--rows 10000000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hedgerow.ingest.dedup import DUPLICATE, MAYBE, Deduplicator  # noqa: E402
from hedgerow.store.events.duckdb import DuckDBEventStore  # noqa: E402


def build(path: str, rows: int, primary_key: bool) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(path)
    key = ", PRIMARY KEY (team_id, uuid)" if primary_key else ""
    con.execute("CREATE TABLE events (team_id INTEGER NOT NULL, uuid UUID NOT NULL" + key + ")")
    con.execute("INSERT INTO events SELECT 1, gen_random_uuid() FROM range(?)", [rows])
    con.execute("CHECKPOINT")
    return con


def insert_rate(con: duckdb.DuckDBPyConnection, n: int, per_txn: int) -> float:
    uuids = [str(uuid.uuid4()) for _ in range(n)]
    started = time.perf_counter()
    for i in range(0, n, per_txn):
        chunk = pa.table({"team_id": pa.array([1] * len(uuids[i:i + per_txn]), pa.int32()),  # noqa: F841
                          "uuid": pa.array(uuids[i:i + per_txn])})  # fmt: skip
        con.execute("BEGIN TRANSACTION")
        con.execute("INSERT INTO events SELECT team_id, CAST(uuid AS UUID) FROM chunk")
        con.execute("COMMIT")
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--inserts", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "plain.duckdb")
        t0 = time.perf_counter()
        con = build(path, args.rows, primary_key=False)
        print(f"built {args.rows:,} uuids in {time.perf_counter() - t0:.1f} s")
        con.close()

        store = DuckDBEventStore(path)
        t0 = time.perf_counter()
        cols = store.load_uuid_columns()
        t1 = time.perf_counter()
        dedup = Deduplicator()
        dedup.load(*cols)
        t2 = time.perf_counter()
        print(f"start-up: read uuids {t1 - t0:.2f} s, fingerprints sorted {t2 - t1:.2f} s, "
              f"{dedup._runs[0].nbytes / 1e6:.0f} MB")  # fmt: skip

        requests = 2000
        fresh = [[uuid.uuid4().int for _ in range(100)] for _ in range(requests)]
        t0 = time.perf_counter()
        for batch in fresh:
            dedup.check(1, batch)
        new_rate = requests * 100 / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        dups = sum(s == DUPLICATE for batch in fresh[:500] for s in dedup.check(1, batch))
        retry_rate = 500 * 100 / (time.perf_counter() - t0)
        print(f"check, new uuids: {new_rate:,.0f} events/s; retried uuids: {retry_rate:,.0f} "
              f"events/s ({dups} duplicates found)")  # fmt: skip

        stored = [int(x) for x in np.asarray(cols[1][:100], dtype=np.uint64)]
        lo = [int(x) for x in np.asarray(cols[2][:100], dtype=np.uint64)]
        old = [(h << 64) | l for h, l in zip(stored, lo)]
        statuses = dedup.check(1, old)
        print(f"stored uuids after restart: {sum(s == MAYBE for s in statuses)}/100 flagged MAYBE")
        keys = pa.table({"i": pa.array(range(100), pa.int64()),  # noqa: F841
                         "team_id": pa.array([1] * 100, pa.int32()),
                         "uuid": pa.array([str(uuid.UUID(int=n)) for n in old])})  # fmt: skip
        cur = store.cursor()
        t0 = time.perf_counter()
        found = cur.execute("SELECT k.i FROM keys k JOIN events e ON e.team_id = k.team_id "
                            "AND e.uuid = CAST(k.uuid AS UUID)").fetchall()  # fmt: skip
        print(f"store confirmation of 100 maybe uuids: {(time.perf_counter() - t0) * 1000:.0f} ms "
              f"({len(found)} confirmed)")  # fmt: skip
        store.close()

        plain = duckdb.connect(path)
        rate_plain = insert_rate(plain, args.inserts, 2000)
        plain.close()
        t0 = time.perf_counter()
        art = build(os.path.join(directory, "art.duckdb"), args.rows, primary_key=True)
        print(f"built {args.rows:,} uuids with PRIMARY KEY in {time.perf_counter() - t0:.1f} s")
        rate_art = insert_rate(art, args.inserts, 2000)
        art.close()
        print(f"insert, 2,000 rows/txn: no index {rate_plain:,.0f} rows/s; "
              f"PRIMARY KEY (ART) {rate_art:,.0f} rows/s ({rate_art / rate_plain:.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
