"""Ingestion below HTTP: decode -> normalise -> persons -> durable group-commit writer.

Feeds /batch/-style requests of 100 realistic events (~1 KB, 30+ properties, a mix of known and
new distinct ids, some $identify) from many concurrent producers (asyncio tasks on one loop, as
uvicorn runs them), and prints events/s and the ack latency p50/p99. In the same run it
measures, as baselines for the same rows:

* the raw DuckDB Arrow bulk insert (``INSERT ... SELECT`` from an Arrow table) at 1k and 5k
  rows per transaction;
* an fsynced append-only log of the same request bodies (the alternative durability design).

    .venv/bin/python bench/ingest_store.py [--requests 600] [--producers 32] [--gzip]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hedgerow.ingest.pipeline import Ingestor  # noqa: E402
from hedgerow.store.events.duckdb import DuckDBEventStore  # noqa: E402

TOKEN = "phc_benchbenchbenchbenchbenchbenchbenchbench"
BROWSERS = ["Chrome", "Firefox", "Safari", "Edge"]
OSES = ["Mac OS X", "Windows", "Linux", "iOS", "Android"]
EVENTS = ["$pageview", "$autocapture", "$pageleave", "signed_up", "clicked_button", "purchase"]


def make_event(rng: random.Random, distinct_id: str, i: int, identify_from: str | None) -> dict:
    props = {
        "$os": rng.choice(OSES), "$browser": rng.choice(BROWSERS), "$device_type": "Desktop",
        "$current_url": f"https://example.com/products/{rng.randint(1, 5000)}?ref=home",
        "$host": "example.com", "$pathname": f"/products/{rng.randint(1, 5000)}",
        "$browser_version": rng.randint(100, 130), "$screen_height": 1080, "$screen_width": 1920,
        "$viewport_height": 950, "$viewport_width": 1900, "$lib": "web", "$lib_version": "1.200.0",
        "$insert_id": uuid.uuid4().hex[:16], "$time": time.time(), "distinct_id": distinct_id,
        "$device_id": str(uuid.uuid4()), "$referrer": "https://www.google.com/",
        "$referring_domain": "www.google.com", "$session_id": str(uuid.uuid4()),
        "$window_id": str(uuid.uuid4()), "$pageview_id": str(uuid.uuid4()),
        "token": TOKEN, "$is_identified": identify_from is not None, "$process_person_profile": True,
        "plan": rng.choice(["free", "pro", "enterprise"]), "price": round(rng.random() * 100, 2),
        "quantity": rng.randint(1, 10), "coupon": rng.choice(["", "SPRING", "VIP"]),
        "experiment_variant": rng.choice(["control", "test"]), "utm_source": "newsletter",
        "title": "Product page " + "x" * rng.randint(10, 60), "$sent_at_ms": i,
    }
    event = {
        "event": "$identify" if identify_from else rng.choice(EVENTS),
        "distinct_id": distinct_id,
        "properties": props,
        "timestamp": "2026-11-26T12:00:00.000Z",
        "uuid": str(uuid.uuid4()),
    }
    if identify_from:
        props["$anon_distinct_id"] = identify_from
        event["$set"] = {"email": f"{distinct_id}@example.com", "name": distinct_id}
    return event


def make_bodies(n_requests: int, per_request: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    known: list[str] = [f"user-{i}" for i in range(2000)]
    bodies = []
    counter = 0
    for _ in range(n_requests):
        batch = []
        for _ in range(per_request):
            counter += 1
            roll = rng.random()
            if roll < 0.6:
                did, ident = rng.choice(known), None
            elif roll < 0.97:
                did, ident = f"anon-{uuid.uuid4()}", None
            else:
                did = f"user-{len(known)}"
                ident = f"anon-{uuid.uuid4()}"
                known.append(did)
            batch.append(make_event(rng, did, counter, ident))
        bodies.append(orjson.dumps({"api_key": TOKEN, "batch": batch,
                                    "sent_at": "2026-11-26T12:00:01.000Z"}))  # fmt: skip
    return bodies


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


def bulk_insert_rate(source: DuckDBEventStore, rows_per_txn: int, directory: str) -> float:
    import duckdb

    table = source.cursor().execute("SELECT * FROM events").to_arrow_table()
    target = DuckDBEventStore(os.path.join(directory, f"bulk{rows_per_txn}.duckdb"))
    cur = target._writer
    started = time.perf_counter()
    for offset in range(0, table.num_rows, rows_per_txn):
        chunk = table.slice(offset, rows_per_txn)  # noqa: F841 (DuckDB scans the local)
        cur.execute("BEGIN TRANSACTION")
        cur.register("chunk_in", chunk)
        cur.execute("INSERT INTO events SELECT * FROM chunk_in")
        cur.unregister("chunk_in")
        cur.execute("COMMIT")
    elapsed = time.perf_counter() - started
    target.close()
    del duckdb
    return table.num_rows / elapsed


def fsync_log_rate(bodies: list[bytes], per_group: int, directory: str) -> float:
    path = os.path.join(directory, "append.log")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    started = time.perf_counter()
    for i in range(0, len(bodies), per_group):
        os.write(fd, b"".join(bodies[i:i + per_group]))
        os.fsync(fd)
    elapsed = time.perf_counter() - started
    os.close(fd)
    return len(bodies) * 100 / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--producers", type=int, default=32)
    parser.add_argument("--per-request", type=int, default=100)
    parser.add_argument("--gzip", action="store_true")
    parser.add_argument("--keep", help="directory for the database (default: a temp dir)")
    parser.add_argument("--duckdb-threads", type=int, default=None)
    args = parser.parse_args()

    bodies = make_bodies(args.requests, args.per_request)
    n_events = args.requests * args.per_request
    avg = sum(len(b) for b in bodies) / n_events
    print(f"{args.requests} requests x {args.per_request} events, {avg:.0f} B/event, "
          f"{args.producers} producers, gzip={args.gzip}")  # fmt: skip
    with tempfile.TemporaryDirectory(dir=args.keep) as directory:
        store = DuckDBEventStore(os.path.join(directory, "events.duckdb"),
                                 threads=args.duckdb_threads)  # fmt: skip
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
        for per_txn in (1000, 5000):
            bulk = bulk_insert_rate(store, per_txn, directory)
            print(f"raw DuckDB Arrow insert, {per_txn} rows/txn: {bulk:,.0f} rows/s "
                  f"(pipeline = {rate / bulk:.2f}x)")  # fmt: skip
        log_rate = fsync_log_rate(bodies, 10, directory)
        print(f"fsynced append-only log, 10 requests/fsync: {log_rate:,.0f} events/s")
        store.close()


if __name__ == "__main__":
    main()
