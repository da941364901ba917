"""Person identity decided in PostgreSQL (``--persons shared``) against the in-memory index.

The same traffic (per person: anonymous page views, an ``$identify`` per anonymous id, a
``$set``) is applied by one in-memory :class:`PersonIndex` (the embedded mode, the baseline)
and by :class:`SharedPersons` from ``--workers`` threads (each thread is what one process's
identity thread does), in batches of ``--batch`` events. Prints events/s for both and the
ratio. Needs a PostgreSQL server: ``--postgres`` (an admin URL), or a throwaway one started
from the Debian binaries.

    .venv/bin/python bench/shared_persons.py [--people 2000] [--batch 10] [--workers 3]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import orjson
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from hedgerow.ingest.normalise import normalise_event  # noqa: E402
from hedgerow.ingest.persons import Changes, PersonIndex  # noqa: E402
from hedgerow.ingest.shared_persons import SharedPersons  # noqa: E402
from hedgerow.store.meta.db import MetaDB  # noqa: E402
from hedgerow.store.meta.identity import SharedIdentityStore  # noqa: E402
from hedgerow.store.meta.tables import identity_persons  # noqa: E402
from tests.throwaway_postgres import admin_url, database  # noqa: E402

NOW = 1_700_000_000_000_000


def traffic(people: int) -> list:
    events = []
    for p in range(people):
        anons = [f"a{p}-{j}" for j in range(3)]
        events += [{"event": "$pageview", "distinct_id": a, "properties": {"$set_once": {"j": j}}}
                   for j, a in enumerate(anons)]  # fmt: skip
        events += [{"event": "$identify", "distinct_id": f"u{p}", "properties": {"$anon_distinct_id": a}}
                   for a in anons]  # fmt: skip
        events.append({"event": "$set", "distinct_id": f"u{p}", "properties": {"$set": {"n": p}}})
    return [normalise_event(orjson.loads(orjson.dumps(e)), e["distinct_id"], sent_at_us=None,
                            now_us=NOW + n, ip=None) for n, e in enumerate(events)]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--postgres", default=None, help="admin URL (default: a throwaway server)")
    args = parser.parse_args()
    normals = traffic(args.people)
    batches = [normals[i:i + args.batch] for i in range(0, len(normals), args.batch)]

    started = time.perf_counter()
    index, changes = PersonIndex(), Changes()
    for ev in normals:
        index.process(1, ev, NOW, changes)
    memory_rate = len(normals) / (time.perf_counter() - started)

    with ExitStack() as stack:
        admin = args.postgres or stack.enter_context(admin_url())
        if admin is None:
            sys.exit("no PostgreSQL: pass --postgres")
        meta = MetaDB(stack.enter_context(database(admin)))
        stack.callback(meta.dispose)
        meta.migrate()
        shared = SharedPersons(SharedIdentityStore(meta))
        # Interleaved so that workers meet on the same people.
        lanes = [batches[w::args.workers] for w in range(args.workers)]
        failures: list[BaseException] = []

        def work(lane: list) -> None:
            try:
                for batch in lane:
                    shared.process(1, batch, NOW)
            except BaseException as error:  # noqa: BLE001 - reported below
                failures.append(error)

        threads = [threading.Thread(target=work, args=(lane,)) for lane in lanes]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        shared_rate = len(normals) / (time.perf_counter() - started)
        if failures:
            raise SystemExit(f"a worker failed: {failures[0]!r}")
        with meta.read() as conn:  # the same persons as the in-memory run
            persons = conn.execute(sa.select(sa.func.count()).select_from(identity_persons)).scalar()
        if persons != len(index.team(1).by_uuid):
            raise SystemExit(f"shared run made {persons} persons, in-memory {len(index.team(1).by_uuid)}")

    print(f"events: {len(normals)}, batch {args.batch}, workers {args.workers}")
    print(f"in-memory index (baseline): {memory_rate:12,.0f} events/s")
    print(f"shared (PostgreSQL):        {shared_rate:12,.0f} events/s")
    print(f"ratio shared / in-memory:   {shared_rate / memory_rate:12.4f}")


if __name__ == "__main__":
    main()
