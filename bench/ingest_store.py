"""Ingestion below HTTP: decode -> normalise -> persons -> durable group-commit writer.

Feeds /batch/-style requests of 100 events (:mod:`harness.workload`: ~1.2 KB, 35+ properties,
mostly returning distinct ids, some new, a few $identify) from many concurrent producers
(asyncio tasks on one loop, as uvicorn runs them), and prints events/s, the ack latency
p50/p99 and the writer's group sizes. In the same run it measures, as baselines for the same
rows (:mod:`harness.baseline`):

* the raw DuckDB Arrow bulk insert at 1k and 5k rows per transaction;
* an fsynced append-only log of the same request bodies (the alternative durability design).

The HTTP figure, with the server's own process and GIL, is bench/ingest.py's.

    .venv/bin/python bench/ingest_store.py [--requests 600] [--producers 32] [--gzip]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.baseline import bulk_insert_rate, fsync_log_rate  # noqa: E402
from harness.workload import Workload  # noqa: E402
from hedgerow.ingest.pipeline import Ingestor  # noqa: E402
from hedgerow.store.events.duckdb import DuckDBEventStore  # noqa: E402

TOKEN = "phc_benchbenchbenchbenchbenchbenchbenchbench"


def make_bodies(n_requests: int, per_request: int, seed: int = 7) -> list[bytes]:
    workload = Workload(TOKEN, seed=seed, prefix=f"s{seed}")
    return [workload.batch_body(per_request)[0] for _ in range(n_requests)]


async def run_pipeline(ingestor: Ingestor, bodies: list[bytes], producers: int,
                       gzipped: bool) -> tuple[float, list[float]]:  # fmt: skip
    headers = {"content-type": "application/json"}
    if gzipped:
        bodies = [gzip.compress(b, 1) for b in bodies]
        headers = {"content-type": "text/plain"}
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)
    latencies: list[float] = []

    async def producer() -> None:
        while not queue.empty():
            body = queue.get_nowait()
            t0 = time.perf_counter()
            await ingestor.ingest(body, headers, {}, "10.0.0.1", "/batch/")
            latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(producer() for _ in range(producers)))
    return time.perf_counter() - started, latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--producers", type=int, default=32)
    parser.add_argument("--per-request", type=int, default=100)
    parser.add_argument("--gzip", action="store_true")
    parser.add_argument("--keep", help="parent directory for the database (default: a temp dir)")
    parser.add_argument("--duckdb-threads", type=int, default=None)
    args = parser.parse_args()

    bodies = make_bodies(args.requests, args.per_request)
    n_events = args.requests * args.per_request
    avg = sum(len(b) for b in bodies) / n_events
    print(f"{args.requests} requests x {args.per_request} events, {avg:.0f} B/event, "
          f"{args.producers} producers, gzip={args.gzip}")  # fmt: skip
    with tempfile.TemporaryDirectory(dir=args.keep) as tmp:
        directory = Path(tmp)
        store = DuckDBEventStore(directory / "events.duckdb", threads=args.duckdb_threads)
        ingestor = Ingestor(store, lambda token: 1 if token == TOKEN else None)
        ingestor.start()
        # Warm-up: definitions caches, code paths.
        asyncio.run(run_pipeline(ingestor, make_bodies(20, args.per_request, seed=1), 4, False))
        elapsed, lat = asyncio.run(run_pipeline(ingestor, bodies, args.producers, args.gzip))
        ingestor.close()
        stats = ingestor.writer.stats
        rate = n_events / elapsed
        lat.sort()
        p50 = statistics.median(lat) * 1000
        p99 = lat[int(len(lat) * 0.99) - 1] * 1000
        print(f"pipeline (durable acks): {rate:,.0f} events/s, ack p50 {p50:.1f} ms, "
              f"p99 {p99:.1f} ms")  # fmt: skip
        print(f"  writer: {stats.commits} commits, avg {stats.events / max(1, stats.commits):,.0f} "
              f"rows/commit, largest {stats.largest_group:,}, "
              f"{stats.commit_seconds / max(1, stats.commits) * 1000:.1f} ms/commit")  # fmt: skip
        stored = store.query("SELECT count(*) FROM events")[0][0]
        print(f"  events stored: {stored:,}")
        store.close()
        for per_txn in (1000, 5000):
            bulk = bulk_insert_rate(directory / "events.duckdb", per_txn, directory)
            print(f"raw DuckDB Arrow insert, {per_txn} rows/txn: {bulk:,.0f} rows/s "
                  f"(pipeline = {rate / bulk:.2f}x)")  # fmt: skip
        log_rate = fsync_log_rate(bodies, args.per_request, 10, directory)
        print(f"fsynced append-only log, 10 requests/fsync: {log_rate:,.0f} events/s")


if __name__ == "__main__":
    main()
