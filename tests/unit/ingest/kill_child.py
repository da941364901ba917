"""Child process for the SIGKILL durability test: feeds numbered batches, prints acks.

    python kill_child.py DB_PATH START COUNT

Batch ``i`` holds 50 events whose uuids are derived from (i, j); each ack is printed as
``ACK i`` and flushed only after ``Ingestor.ingest`` returned, i.e. after the commit.
"""

from __future__ import annotations

import asyncio
import sys
import uuid

import orjson

from hedgerow.ingest.pipeline import Ingestor, Project
from hedgerow.store.events.duckdb import DuckDBEventStore

TOKEN = "phc_kill"
PER_BATCH = 50


def event_uuid(i: int, j: int) -> str:
    return str(uuid.UUID(int=(i << 32) | j | (1 << 100)))


def body(i: int) -> bytes:
    events = [
        {"event": "tick", "distinct_id": f"user-{(i * PER_BATCH + j) % 97}", "uuid": event_uuid(i, j),
         "properties": {"i": i, "j": j, "pad": "x" * 400}, "$set": {"last": i}}
        for j in range(PER_BATCH)
    ]  # fmt: skip
    return orjson.dumps({"api_key": TOKEN, "batch": events})


async def main(path: str, start: int, count: int) -> None:
    store = DuckDBEventStore(path)
    ing = Ingestor(store, lambda t: Project(1) if t == TOKEN else None)
    ing.start()
    print("READY", flush=True)
    numbers = iter(range(start, start + count))

    async def producer() -> None:
        for i in numbers:
            await ing.ingest(body(i), {}, {}, "127.0.0.1", "/batch/")
            sys.stdout.write(f"ACK {i}\n")
            sys.stdout.flush()

    await asyncio.gather(*(producer() for _ in range(8)))
    ing.close()
    store.close()
    print("DONE", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
