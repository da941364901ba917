"""The delivery outbox of the ClickHouse engines, in the metadata database: events queued
before they are inserted and once however often a batch is retried, rows of events not
stored yet waiting rather than lost, and work claimed by one live worker at a time (on
SQLite and on a throwaway PostgreSQL, with real threads racing for it)."""

from __future__ import annotations

import itertools
import os
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from hedgerow import clock
from hedgerow.store import delivery_outbox
from hedgerow.store.delivery_outbox import MetaOutbox
from hedgerow.store.events.clickhouse import ClickHouseEventStore
from hedgerow.store.events.clickhouse_connection import ChdbConnection
from hedgerow.store.events.protocol import WriteBatch
from hedgerow.store.meta import delivery_claims as claims
from hedgerow.store.meta import hog_functions
from hedgerow.store.meta.db import MetaDB
from hedgerow.store.meta.tables import delivery_outbox as outbox_table
from hedgerow.store.meta.tables import hog_function_deliveries
from tests.throwaway_postgres import database

_ids = itertools.count()
T0 = 1_717_236_000_000_000  # 2024-06-01 10:00:00 UTC, in microseconds
STALE = timedelta(seconds=15)


def event_row(team: int = 1, uuid_text: str | None = None) -> tuple:
    return (team, uuid_text or str(uuid.uuid4()), "tick", "d", '{"a": 1}', T0, T0, None, "{}", None,
            "s1", None, "", "", "", "", "", "")  # fmt: skip


@pytest.fixture(scope="module")
def postgres(postgres_admin_url: str | None) -> str | None:
    return postgres_admin_url


@pytest.fixture(params=["sqlite", "postgresql"])
def meta(request, tmp_path, postgres) -> Iterator[MetaDB]:
    if request.param == "sqlite":
        db = MetaDB(f"sqlite:///{tmp_path / 'meta.sqlite3'}")
        db.migrate()
        yield db
        db.dispose()
        return
    if postgres is None:
        pytest.skip("no PostgreSQL server binaries on this machine")
    with database(postgres) as url:
        db = MetaDB(url)
        db.migrate()
        yield db
        db.dispose()


@pytest.fixture(scope="module")
def connection() -> ChdbConnection:
    return ChdbConnection(":memory:")


@pytest.fixture
def events(connection) -> Iterator[ClickHouseEventStore]:
    name = f"outbox_test_{os.getpid()}_{next(_ids)}"
    store = ClickHouseEventStore(connection, database=name)
    yield store
    connection.command(f"DROP DATABASE IF EXISTS {name}")


def queued(meta: MetaDB) -> list[tuple[int, str]]:
    with meta.read() as conn:
        t = outbox_table
        return [tuple(r) for r in conn.execute(sa.select(t.c.team_id, t.c.uuid).order_by(t.c.id))]


def stored(events: ClickHouseEventStore) -> int:
    return events.connection.query("SELECT count() FROM events").rows[0][0]


def test_events_of_watched_projects_are_queued_before_they_are_inserted(meta, events) -> None:
    outbox = MetaOutbox(meta, events, "w1", STALE)
    outbox.watch(frozenset({1}))
    seen_stored = []
    queue = events.outbox
    events.outbox = lambda rows: (seen_stored.append(stored(events)), queue(rows))
    rows = [event_row(team=1), event_row(team=2), event_row(team=1, uuid_text=str(uuid.uuid4()).upper())]
    events.commit(WriteBatch(events=rows))
    assert seen_stored == [0]  # queued while none of the batch was stored yet
    assert queued(meta) == [(1, rows[0][1]), (1, rows[2][1].lower())]
    assert stored(events) == 3


def test_a_retried_batch_is_queued_once(meta, events) -> None:
    outbox = MetaOutbox(meta, events, "w1", STALE)
    outbox.watch(frozenset({1, 2}))
    rows = [event_row(team=1), event_row(team=2)]
    outbox.queue([(1, rows[0][1], clock.now())])  # a first try queued one, then died
    events.commit(WriteBatch(events=rows))
    events.commit(WriteBatch(events=rows, maybe=[0, 1]))  # the client's retry: both already stored
    assert sorted(queued(meta)) == sorted([(1, rows[0][1]), (2, rows[1][1])])
    # the same uuid in another project is another event
    other = event_row(team=2, uuid_text=rows[0][1])
    events.commit(WriteBatch(events=[other]))
    assert len(queued(meta)) == 3


def test_an_event_not_stored_yet_waits_then_is_matched(meta, events, monkeypatch) -> None:
    outbox = MetaOutbox(meta, events, "w1", STALE)
    row = event_row(team=1)
    outbox.queue([(1, row[1], clock.now())])  # its insert has not happened yet
    assert outbox.claim(10) is None
    assert queued(meta) == [(1, row[1])]  # still there, released
    events.commit(WriteBatch(events=[row]))
    assert outbox.claim(10) is None  # not looked at again at once
    later = clock.now() + delivery_outbox.RECHECK
    monkeypatch.setattr(clock, "now", lambda: later)
    batch = outbox.claim(10)
    assert batch is not None and [(t, u) for t, u, _ in batch.rows] == [(1, row[1])]
    with meta.write() as conn:
        outbox.settle(conn, batch)
    assert queued(meta) == []


def test_an_event_never_stored_is_dropped_once_too_old(meta, events, monkeypatch) -> None:
    outbox = MetaOutbox(meta, events, "w1", STALE)
    lost, kept = str(uuid.uuid4()), str(uuid.uuid4())
    outbox.queue([(1, lost, clock.now())])
    later = clock.now() + delivery_outbox.ABANDON_AFTER + timedelta(seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    outbox.queue([(1, kept, later)])
    assert outbox.claim(10) is None
    assert queued(meta) == [(1, kept)]


def _claim_all(outbox: MetaOutbox, meta: MetaDB, got: list[str], barrier: threading.Barrier) -> None:
    barrier.wait()
    while True:
        batch = outbox.claim(7)
        if batch is None:
            return
        got.extend(u for _, u, _ in batch.rows)
        with meta.write() as conn:
            outbox.settle(conn, batch)


def test_two_workers_racing_match_each_event_once(meta, events) -> None:
    workers = [MetaOutbox(meta, events, f"w{i}", STALE) for i in (1, 2)]
    with meta.write() as conn:
        for w in workers:
            claims.alive(conn, w.worker, clock.now())
    workers[0].watch(frozenset({1}))
    rows = [event_row(team=1) for _ in range(120)]
    events.commit(WriteBatch(events=rows))
    got: list[list[str]] = [[], []]
    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=_claim_all, args=(w, meta, g, barrier)) for w, g in zip(workers, got)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    everything = got[0] + got[1]
    assert sorted(everything) == sorted(r[1] for r in rows)  # each event matched by exactly one worker


def test_a_dead_workers_claims_pass_to_a_live_one(meta, events, monkeypatch) -> None:
    dead, live = MetaOutbox(meta, events, "dead", STALE), MetaOutbox(meta, events, "live", STALE)
    dead.watch(frozenset({1}))
    rows = [event_row(team=1) for _ in range(4)]
    events.commit(WriteBatch(events=rows))
    now = clock.now()
    with meta.write() as conn:
        claims.alive(conn, "dead", now)
        claims.alive(conn, "live", now)
    assert len(dead.claim(3).rows) == 3
    assert [u for _, u, _ in live.claim(10).rows] == [rows[3][1]]  # not what the live "dead" holds
    later = now + STALE + timedelta(seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    with meta.write() as conn:
        claims.alive(conn, "live", later)  # "dead" was not seen since
    assert sorted(u for _, u, _ in live.claim(10).rows) == sorted(r[1] for r in rows)


def test_deliveries_are_claimed_by_one_live_worker_and_released_on_retry(meta) -> None:
    with meta.write() as conn:
        hog_functions.enqueue(conn, [hog_functions.NewDelivery("fn", 1, str(uuid.uuid4()), {"url": "x"})
                                     for _ in range(5)])  # fmt: skip
        now = clock.now()
        claims.alive(conn, "a", now)
        claims.alive(conn, "b", now)
    with meta.write() as conn:
        mine = claims.claim_due(conn, "fn", "a", now, 3, STALE)
    with meta.write() as conn:
        theirs = claims.claim_due(conn, "fn", "b", now, 10, STALE)
    assert len(mine) == 3 and len(theirs) == 2
    assert not {d.id for d in mine} & {d.id for d in theirs}
    with meta.write() as conn:
        hog_functions.record(conn, hog_functions.Outcomes(retry=[(mine[0].id, 1, now)]))
        again = {d.id for d in claims.claim_due(conn, "fn", "b", now, 10, STALE)}
    assert again == {mine[0].id} | {d.id for d in theirs}  # the released one; "a" still holds the others
    with meta.write() as conn:  # a worker stopping cleanly frees what it held
        claims.retire(conn, "a")
        held = conn.execute(sa.select(sa.func.count()).where(hog_function_deliveries.c.claimed_by == "a")).scalar()
    assert held == 0
