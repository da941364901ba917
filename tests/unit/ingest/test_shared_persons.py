"""The shared identity store on a real PostgreSQL (a throwaway server unless
``HEDGEROW_TEST_POSTGRES_URL`` names one): threads, each with its own connections, applying
merges for the same people at once reach what one in-memory index reaches; the flags' person
cache is bounded, short-lived and dropped on change; the mode is refused off PostgreSQL."""

from __future__ import annotations

import random
import uuid as uuid_lib
import threading
from collections.abc import Iterator

import orjson
import pytest
import sqlalchemy as sa

from hedgerow.config import ConfigError, Settings
from hedgerow.ingest.normalise import normalise_event
from hedgerow.ingest.persons import Changes, PersonIndex, SealedChanges
from hedgerow.ingest.own_changes import OwnChanges
from hedgerow.ingest.person_replica import CaughtUpEvents, PersonReplica
from hedgerow.ingest.shared_persons import SharedPersons
from hedgerow.services.group_cache import SharedGroupCache
from hedgerow.services.person_cache import SharedPersonCache
from hedgerow.store.meta.db import MetaDB
from hedgerow.store.errors import StoreUnavailable
from hedgerow.store.meta.identity import IdentityTransaction, SharedIdentityStore, lock_key
from hedgerow.store.meta.identity_feed import IdentityFeed
from hedgerow.store.meta.tables import identity_distinct_ids, identity_persons
from conftest import batch, resolve, rows, send
from hedgerow.ingest.errors import RetryableSinkError
from hedgerow.ingest.pipeline import Ingestor
from hedgerow.store.events.duckdb import DuckDBEventStore
from hedgerow.store.events.clickhouse import ClickHouseEventStore
from hedgerow.store.events.clickhouse_connection import ChdbConnection
from hedgerow.store.events.protocol import EventStoreError, PersonFilter, WriteBatch
from tests.throwaway_postgres import database, required

TEAM = 1
NOW = 1_700_000_000_000_000


@pytest.fixture(scope="module")
def postgres(postgres_admin_url: str | None) -> str:
    return required(postgres_admin_url)


@pytest.fixture
def store(postgres: str) -> Iterator[SharedIdentityStore]:
    with database(postgres) as url:
        meta = MetaDB(url)
        meta.migrate()
        try:
            yield SharedIdentityStore(meta)
        finally:
            meta.dispose()


def _event(name: str, distinct_id: str, **properties) -> dict:
    return {"event": name, "distinct_id": distinct_id, "properties": properties}


def _normal(event: dict, n: int):
    return normalise_event(orjson.loads(orjson.dumps(event)), event["distinct_id"],
                           sent_at_us=None, now_us=NOW + n, ip=None)  # fmt: skip


def _chains(people: int) -> list[list[dict]]:
    """Per person: anonymous ids identified into the user, and two more ids joined by
    ``$merge_dangerously`` into each other and into the user, so merges of already-merged,
    identified persons meet. Every key is set once and every merge succeeds in any order, so
    the result does not depend on the order."""
    out = []
    for p in range(people):
        user, anons = f"u{p}", [f"a{p}-{j}" for j in range(5)]
        events = [_event("$pageview", a, **{"$set_once": {f"seen_{j}": j}}) for j, a in enumerate(anons)]
        events += [_event("$identify", user, **{"$anon_distinct_id": a, "$set": {f"by_{j}": True}})
                   for j, a in enumerate(anons[:3])]  # fmt: skip
        events.append(_event("$merge_dangerously", user, alias=anons[3]))
        events.append(_event("$merge_dangerously", anons[3], alias=anons[4]))
        out.append(events)
    return out


def _final(persons: dict[str, tuple], owners: dict[str, str]) -> list[tuple]:
    ids: dict[str, list[str]] = {}
    for distinct_id, uuid in owners.items():
        ids.setdefault(uuid, []).append(distinct_id)
    return sorted((sorted(d), orjson.loads(persons[u][4]), bool(persons[u][5])) for u, d in ids.items())


def _read_all(store: SharedIdentityStore) -> tuple[dict[str, tuple], dict[str, str]]:
    def read(tx: IdentityTransaction) -> tuple[dict[str, tuple], dict[str, str]]:
        persons = {r[1]: tuple(r) for r in tx.conn.execute(sa.select(identity_persons)).all()}
        owners = dict(tx.conn.execute(sa.select(identity_distinct_ids.c.distinct_id,
                                                identity_distinct_ids.c.person_uuid)).all())  # fmt: skip
        return persons, owners

    return store.run(read)


def test_threads_merging_the_same_people_reach_the_single_index_result(store) -> None:
    chains = _chains(12)
    # One process, in order: the reference.
    index, changes = PersonIndex(), Changes()
    for n, event in enumerate(e for chain in chains for e in chain):
        index.process(TEAM, _normal(event, n), NOW, changes)
    team = index.team(TEAM)
    want = sorted((sorted(p.distinct_ids), p.properties, p.is_identified) for p in team.by_uuid.values())

    # Four workers, shuffled one- and two-event batches for all people at once.
    rng = random.Random(7)
    batches = []
    for n, event in enumerate(e for chain in chains for e in chain):
        batches.append([_normal(event, n)])
    rng.shuffle(batches)
    shared = SharedPersons(store)
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def work(mine: list) -> None:
        barrier.wait()
        try:
            for batch in mine:
                shared.process(TEAM, batch, NOW)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(batches[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    persons, owners = _read_all(store)
    assert _final(persons, owners) == want
    assert len(persons) == len(chains)  # no person left behind by a merge
    assert len({p[2] for p in persons.values()}) == len(persons)  # integer ids are unique


def test_batch_results_carry_the_decided_person_and_delete_removes_it(store) -> None:
    shared = SharedPersons(store)
    events = [_event("$pageview", "anon", **{"$set": {"a": 1}}),
              _event("$identify", "user", **{"$anon_distinct_id": "anon", "$set": {"b": 2}})]  # fmt: skip
    results, changes, _types = shared.process(TEAM, [_normal(e, n) for n, e in enumerate(events)], NOW)
    (first, first_props, _, _), (second, second_props, _, _) = results
    assert first == second  # identify attached "user" to anon's person
    assert orjson.loads(first_props) == {"a": 1} and orjson.loads(second_props) == {"a": 1, "b": 2}
    persons, owners = _read_all(store)
    assert owners == {"anon": first, "user": first}

    removed = shared.delete_person(TEAM, first)
    assert removed is not None and removed.deleted_persons
    assert _read_all(store) == ({}, {})
    assert shared.delete_person(TEAM, first) is None


def test_person_cache_is_dropped_on_change_and_bounded(store) -> None:
    shared = SharedPersons(store)
    cache = SharedPersonCache(store, max_entries=3, ttl=3600)
    shared.on_change = cache.changed
    assert cache.person(TEAM, "x") is None
    shared.process(TEAM, [_normal(_event("$set", "x", **{"$set": {"plan": "pro"}}), 0)], NOW)
    person = cache.person(TEAM, "x")  # the cached "no person" was dropped by the change
    assert person is not None and person.properties == {"plan": "pro"}
    shared.process(TEAM, [_normal(_event("$set", "x", **{"$set": {"plan": "max"}}), 1)], NOW)
    assert cache.person(TEAM, "x").properties == {"plan": "max"}
    for distinct_id in ("p", "q", "r", "s"):
        cache.person(TEAM, distinct_id)
    assert len(cache) == 3


def test_pipeline_refuses_what_the_shared_store_cannot_take_and_stores_its_retry(store, tmp_path) -> None:
    events = DuckDBEventStore(str(tmp_path / "events.duckdb"))
    ingestor = Ingestor(events, resolve, shared=SharedPersons(store))
    ingestor.start()
    rename = "ALTER TABLE {} RENAME TO {}"
    try:
        payload = batch({"event": "$pageview", "distinct_id": "d1", "uuid": "0190b4c1-0000-7000-8000-000000000001"},
                        {"event": "$identify", "distinct_id": "d2", "properties": {"$anon_distinct_id": "d1"}})  # fmt: skip
        with store.db.engine.begin() as conn:  # the shared store fails (a missing table)
            conn.execute(sa.text(rename.format("identity_persons", "identity_persons_away")))
        with pytest.raises(RetryableSinkError):
            send(ingestor, payload)
        assert rows(events, "select count(*) from events") == [(0,)]
        with store.db.engine.begin() as conn:
            conn.execute(sa.text(rename.format("identity_persons_away", "identity_persons")))
        assert send(ingestor, payload) == 2  # the retry is not taken for a duplicate
        _persons, owners = _read_all(store)
        assert owners["d1"] == owners["d2"]
        stored = rows(events, "select distinct_id, person_id::varchar from events order by distinct_id")
        assert stored == [("d1", owners["d1"]), ("d2", owners["d2"])]
    finally:
        ingestor.close()
        events.close()


def test_a_lock_held_too_long_fails_the_batch_instead_of_stalling(store) -> None:
    held = SharedIdentityStore(store.db, lock_timeout_ms=200)
    shared = SharedPersons(held)
    event = [_normal(_event("$pageview", "stuck"), 0)]
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            shared.process(TEAM, event, NOW)
            outcome.append(None)
        except BaseException as error:  # noqa: BLE001 - asserted below
            outcome.append(error)

    with store.db.engine.begin() as conn:  # another process, stopped while holding the lock
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_key(TEAM, "stuck"))))
        worker = threading.Thread(target=attempt)
        worker.start()
        worker.join(30)  # generous: the timeout is 0.2 s
        stalled = worker.is_alive()
    worker.join()  # the lock is released now
    assert not stalled
    assert isinstance(outcome[0], StoreUnavailable)
    results, _, _ = shared.process(TEAM, event, NOW)  # released: it goes through
    assert results[0][0]


def test_shared_persons_need_postgresql() -> None:
    with pytest.raises(ConfigError):
        Settings(persons="shared")  # the SQLite default
    with pytest.raises(ConfigError):
        Settings(persons="everywhere", database_url="postgresql://db/hedgerow")
    assert Settings(persons="shared", database_url="postgresql://db/hedgerow").persons == "shared"


def test_threads_naming_new_group_types_at_once_give_each_type_one_index(store) -> None:
    """Four "processes" (each its own SharedPersons) send events naming the same three new
    group types in different orders, and ``$groupidentify`` for the same groups: every type
    gets one index everywhere, every event's ``$group_N`` columns use it, the groups end with
    every property set."""
    types = ["company", "project", "team"]
    errors: list[BaseException] = []
    slots: list[tuple[dict, tuple]] = []
    barrier = threading.Barrier(4)

    def work(worker: int) -> None:
        shared = SharedPersons(store)
        order = types[worker % 3:] + types[:worker % 3]
        barrier.wait()
        try:
            for n, group_type in enumerate(order):
                groups = {group_type: f"{group_type}-1"}
                events = [_normal(_event("$pageview", f"u{worker}", **{"$groups": groups}), n),
                          _normal(_event("$groupidentify", f"u{worker}", **{
                              "$group_type": group_type, "$group_key": f"{group_type}-1",
                              "$group_set": {f"by_{worker}": True}}), n)]  # fmt: skip
                results, _, known = shared.process(TEAM, events, NOW)
                slots.append((groups, tuple(results[0][3]), dict(known)))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    mapping = store.group_types(TEAM)
    assert sorted(mapping.values()) == types and sorted(mapping) == [0, 1, 2]
    index_of = {name: index for index, name in mapping.items()}
    for groups, row_slots, known in slots:
        ((group_type, key),) = groups.items()
        assert row_slots[index_of[group_type]] == key
        assert known[group_type] == index_of[group_type]
    for group_type in types:
        row = store.group(TEAM, index_of[group_type], f"{group_type}-1")
        assert row is not None and orjson.loads(row[3]) == {f"by_{w}": True for w in range(4)}


def test_the_feed_gives_the_current_rows_of_what_changed_after_a_number(store) -> None:
    feed = IdentityFeed(store.db)
    shared = SharedPersons(store)
    start, nothing = feed.read(0)
    assert start == 0 and not nothing
    shared.process(TEAM, [_normal(_event("$identify", "fu", **{"$anon_distinct_id": "fa", "$set": {"v": 1}}), 0),
                          _normal(_event("$groupidentify", "fu", **{"$group_type": "org", "$group_key": "o1",
                                                                    "$group_set": {"size": 3}}), 1)], NOW)  # fmt: skip
    first, changes = feed.read(0)
    assert first > 0
    (person,) = changes.persons
    assert orjson.loads(person[4]) == {"v": 1}
    assert sorted(d[1] for d in changes.distinct_ids) == ["fa", "fu"]
    assert changes.group_types == [(TEAM, "org", 0)]
    assert [(g[1], g[2], orjson.loads(g[3])) for g in changes.groups] == [(0, "o1", {"size": 3})]
    assert feed.read(first) == (first, SealedChanges())

    shared.process(TEAM, [_normal(_event("$set", "fa", **{"$set": {"v": 2}}), 2)], NOW)
    second, changes = feed.read(first)
    assert second > first and [orjson.loads(p[4]) for p in changes.persons] == [{"v": 2}]
    assert not changes.distinct_ids and not changes.groups

    shared.delete_person(TEAM, person[1])
    third, changes = feed.read(second)
    assert third > second and changes.deleted_persons == [(TEAM, person[1])]
    assert sorted(changes.deleted_distinct_ids) == [(TEAM, "fa"), (TEAM, "fu")] and not changes.persons


def test_group_cache_is_dropped_on_change_and_bounded(store) -> None:
    shared = SharedPersons(store)
    cache = SharedGroupCache(store, max_entries=3, ttl=3600)
    shared.on_change = cache.changed

    def identify(n: int, **group_set) -> None:
        event = _event("$groupidentify", "x", **{"$group_type": "org", "$group_key": "o1", "$group_set": group_set})
        shared.process(TEAM, [_normal(event, n)], NOW)

    assert cache.group_types(TEAM) == {} and cache.group_properties(TEAM, 0, "o1") == {}
    identify(0, size=1)
    assert cache.group_types(TEAM) == {0: "org"}  # the cached "no types" was dropped by the change
    assert cache.group_properties(TEAM, 0, "o1") == {"size": 1}
    identify(1, size=2)
    assert cache.group_properties(TEAM, 0, "o1") == {"size": 2}
    for key in ("p", "q", "r", "s"):
        cache.group_properties(TEAM, 0, key)
    assert len(cache) == 3


@pytest.fixture
def replicated(store, tmp_path) -> Iterator[tuple[SharedPersons, DuckDBEventStore, Ingestor, CaughtUpEvents]]:
    """Another process's SharedPersons, and this process's events store, ingestor and reads
    caught up through its replica (small pages)."""
    events = DuckDBEventStore(str(tmp_path / "events.duckdb"))
    ingestor = Ingestor(events, resolve, shared=SharedPersons(store))
    ingestor.start()
    replica = PersonReplica(IdentityFeed(store.db, page=3), ingestor)
    try:
        yield SharedPersons(store), events, ingestor, CaughtUpEvents(events, replica)
    finally:
        ingestor.close()
        events.close()


def test_the_replica_brings_a_process_events_store_to_the_shared_persons(replicated) -> None:
    """What another process decided (here: another SharedPersons) reaches this process's
    events store, a small page at a time: persons, their distinct ids, groups, deletions."""
    other, events, _ingestor, reads = replicated
    other.process(TEAM, [_normal(_event("$set", f"r{n}", **{"$set": {"n": n}}), n) for n in range(7)]
                  + [_normal(_event("$groupidentify", "r0", **{"$group_type": "org", "$group_key": "o",
                                                               "$group_set": {"k": 1}}), 8)], NOW)  # fmt: skip
    people, total = reads.list_persons(TEAM, PersonFilter(limit=100))
    assert total == 7 and sorted(p["properties"]["n"] for p in people) == list(range(7))
    assert rows(events, "select group_type_index, group_key, properties from groups") == [(0, "o", '{"k":1}')]
    assert rows(events, "select group_type, group_type_index from group_type_mapping") == [("org", 0)]

    gone = reads.list_persons(TEAM, PersonFilter(distinct_id="r3"))[0][0]["uuid"]
    other.delete_person(TEAM, gone)
    assert reads.get_person(TEAM, uuid=gone) is None
    assert reads.list_persons(TEAM, PersonFilter(distinct_id="r3")) == ([], 0)
    assert reads.list_persons(TEAM, PersonFilter())[1] == 6


def test_changes_carry_the_feed_numbers_every_process_agrees_on(store) -> None:
    """A batch's changes carry the numbers the feed gave them (its last is the version a
    shared ClickHouse keeps rows by); a page read from the feed carries its last number."""
    shared, feed = SharedPersons(store), IdentityFeed(store.db)
    _results, changes, _types = shared.process(TEAM, [_normal(_event("$set", "v1", **{"$set": {"n": 1}}), 0)], NOW)
    last, read = feed.read(0)
    assert changes.feed_numbers and changes.seal().version == max(changes.feed_numbers) == last
    assert read.version == last and [orjson.loads(p[4]) for p in read.persons] == [{"n": 1}]
    _results, again, _types = shared.process(TEAM, [_normal(_event("$set", "v1", **{"$set": {"n": 2}}), 1)], NOW)
    assert min(again.feed_numbers) > last


def test_the_feed_keeps_one_row_per_key_and_still_gives_every_reader_what_changed(store) -> None:
    """Compaction: a key changed a hundred times is one row (its newest); a reader from any
    earlier position still gets the key's current row, a deleted one's deletion included."""
    shared, feed = SharedPersons(store), IdentityFeed(store.db)
    shared.process(TEAM, [_normal(_event("$set", "k1", **{"$set": {"n": 0}}), 0)], NOW)
    early, _ = feed.read(0)
    for n in range(1, 100):
        shared.process(TEAM, [_normal(_event("$set", "k1", **{"$set": {"n": n}}), n)], NOW)
    shared.process(TEAM, [_normal(_event("$set", "k2", **{"$set": {"n": 0}}), 200)], NOW)
    with store.db.engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from identity_changes")).scalar() == 4  # 2 persons, 2 ids
    for position in (0, early):
        _last, changes = feed.read(position)
        assert sorted(orjson.loads(p[4])["n"] for p in changes.persons) == [0, 99]
    _last, changes = feed.read(0)
    k1 = next(p[1] for p in changes.persons if orjson.loads(p[4])["n"] == 99)
    shared.delete_person(TEAM, k1)
    _last, changes = feed.read(early)
    assert changes.deleted_persons == [(TEAM, k1)] and (TEAM, "k1") in changes.deleted_distinct_ids
    with store.db.engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from identity_changes")).scalar() == 4


def test_the_replica_skips_what_its_own_process_wrote_and_reads_the_rest(replicated) -> None:
    """Own changes are in the events store already: catching up writes none of them again
    (the DuckDB identity log, unfolded, shows every write), while another process's are
    applied; a failed commit makes its own changes read back after all."""
    other, events, ingestor, reads = replicated
    log = "select count(*) from identity_log"
    send(ingestor, batch(*[{"event": "$identify", "distinct_id": f"own{n}",
                            "properties": {"$set": {"n": n}}} for n in range(5)]))  # fmt: skip
    written = rows(events, log)[0][0]
    assert written == 10 and len(ingestor.own_changes) == 10  # 5 persons, 5 distinct ids
    assert reads.list_persons(TEAM, PersonFilter())[1] == 5
    assert rows(events, log)[0][0] == written and len(ingestor.own_changes) == 0

    other.process(TEAM, [_normal(_event("$set", "theirs", **{"$set": {"n": 9}}), 9)], NOW)
    assert reads.list_persons(TEAM, PersonFilter())[1] == 6
    assert rows(events, log)[0][0] == written + 2

    # The events store refuses a commit: the change is in the shared store, not in this one.
    real_commit = events.commit

    def broken(batch_):
        raise EventStoreError("disk full")

    events.commit = broken
    with pytest.raises(RetryableSinkError):
        send(ingestor, batch({"event": "$set", "distinct_id": "own0", "properties": {"$set": {"n": 10}}}))
    events.commit = real_commit
    (person,), _ = reads.list_persons(TEAM, PersonFilter(distinct_id="own0"))
    assert person["properties"]["n"] == 10


def test_own_changes_are_bounded_and_forget_a_failed_generation() -> None:
    own = OwnChanges(max_numbers=3)
    own.add([1, 2], generation=0)
    own.add([3, 4], generation=1)
    assert 1 not in own and all(n in own for n in (2, 3, 4))
    own.failed(0)
    assert 2 not in own and 3 in own
    own.add([5], generation=0)  # admitted before the failure was seen: its submission fails
    assert 5 not in own
    own.forget_through(3)
    assert 3 not in own and 4 in own


def test_feed_pages_applied_out_of_order_to_clickhouse_end_at_the_newest(store) -> None:
    """Two processes on one ClickHouse server apply the feed at their own pace: here one chdb
    store gets a newer page (and a batch's own changes) before an older one, and still ends
    with the newest persons, distinct ids and deletions."""
    shared, feed = SharedPersons(store), IdentityFeed(store.db)
    shared.process(TEAM, [_normal(_event("$set", "x", **{"$set": {"n": 1}}), 0),
                          _normal(_event("$set", "y", **{"$set": {"n": 1}}), 1)], NOW)  # fmt: skip
    first, old = feed.read(0)
    _results, own, _types = shared.process(TEAM, [_normal(_event("$set", "x", **{"$set": {"n": 2}}), 2)], NOW)
    y = next(p[1] for p in old.persons if p[1] != own.seal().persons[0][1])
    shared.delete_person(TEAM, y)
    _second, new = feed.read(first)
    connection = ChdbConnection(":memory:")
    database = f"feed_order_{uuid_lib.uuid4().hex[:12]}"
    events = ClickHouseEventStore(connection, database=database)
    try:
        for changes in (new, own.seal(), old):  # the oldest page last
            events.commit(WriteBatch(changes=[changes]))
        loaded = events.load_identity()
        assert [orjson.loads(p[4]) for p in loaded.persons] == [{"n": 2}]
        assert [d[1] for d in loaded.distinct_ids] == ["x"]
    finally:
        connection.command(f"DROP DATABASE IF EXISTS {database}")


def test_what_delivery_sets_on_the_caught_up_store_reaches_the_store_that_commits(replicated) -> None:
    """Delivery tells the events store which projects fill the outbox; in shared mode it holds
    the caught-up wrapper, and an event committed after that must be in the outbox."""
    _other, events, ingestor, reads = replicated
    reads.outbox_teams = frozenset({TEAM})
    assert events.outbox_teams == frozenset({TEAM})
    assert send(ingestor, batch(_event("order", "o1"))) == 1
    assert [row[1] for row in events.read_outbox(0, 10)] == [TEAM]
