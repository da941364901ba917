"""The identity tables as one log plus folded tables: the views always show the current state."""

from __future__ import annotations

import uuid

import duckdb
import pyarrow as pa
import pytest

from hedgerow.ingest.persons import SealedChanges
from hedgerow.store.events.duckdb import DuckDBEventStore
from hedgerow.store.events.duckdb_inputs import ArrowInput
from hedgerow.store.events.protocol import WriteBatch

A, B = str(uuid.uuid4()), str(uuid.uuid4())
PERSONS = "SELECT CAST(id AS VARCHAR), properties, version FROM persons ORDER BY int_id"
IDS = "SELECT distinct_id, CAST(person_id AS VARCHAR) FROM person_distinct_ids ORDER BY 1"
OVERRIDES = "SELECT distinct_id, CAST(person_id AS VARCHAR), version FROM person_distinct_id_overrides ORDER BY 1"


def person(uuid_: str, int_id: int, props: str, version: int = 0) -> tuple:
    return (1, uuid_, int_id, 1_700_000_000_000_000, props, False, version)


def commit(store: DuckDBEventStore, **changes) -> None:
    store.commit(WriteBatch(changes=[SealedChanges(**changes)]))


def state(store: DuckDBEventStore) -> tuple:
    return store.query(PERSONS), store.query(IDS), store.query(OVERRIDES)


def log_rows(store: DuckDBEventStore) -> int:
    return store.query("SELECT count(*) FROM identity_log")[0][0]


@pytest.fixture
def store(tmp_path):
    s = DuckDBEventStore(tmp_path / "events.duckdb")
    yield s
    s.close()


def scenario(store: DuckDBEventStore) -> None:
    """Two persons; b is merged into a; a is updated twice; c is deleted and re-added."""
    commit(store, persons=[person(A, 1, '{"n":1}'), person(B, 2, "{}")],
           distinct_ids=[(1, "a", A, 0), (1, "b", B, 0), (1, "c", B, 0)])  # fmt: skip
    store.fold()
    commit(store, persons=[person(A, 1, '{"n":2}', 1)], deleted_persons=[(1, B)],
           distinct_ids=[(1, "b", A, 1), (1, "c", A, 1)],
           overrides=[(1, "b", A, 1), (1, "c", A, 1)])  # fmt: skip
    commit(store, persons=[person(A, 1, '{"n":3}', 2)], deleted_distinct_ids=[(1, "c")])
    commit(store, distinct_ids=[(1, "c", A, 2)], overrides=[(1, "c", A, 2)])


EXPECTED = (
    [(A, '{"n":3}', 2)],
    [("a", A), ("b", A), ("c", A)],
    [("b", A, 1), ("c", A, 2)],
)


def test_views_show_the_current_state_before_and_after_folding(store):
    scenario(store)
    assert log_rows(store) > 0
    assert state(store) == EXPECTED
    store.fold()
    assert log_rows(store) == 0
    assert state(store) == EXPECTED


def test_a_deletion_hides_the_folded_row_until_the_next_fold_removes_it(store):
    commit(store, persons=[person(A, 1, "{}")], distinct_ids=[(1, "a", A, 0)])
    store.fold()
    commit(store, deleted_persons=[(1, A)], deleted_distinct_ids=[(1, "a")])
    assert state(store) == ([], [], [])
    store.fold()
    assert state(store) == ([], [], [])
    assert store.query("SELECT count(*) FROM persons_folded") == [(0,)]


def test_maintain_folds_once_the_logs_are_big_enough(tmp_path):
    store = DuckDBEventStore(tmp_path / "events.duckdb", fold_rows=4)
    try:
        commit(store, persons=[person(A, 1, "{}")], distinct_ids=[(1, "a", A, 0)])
        store.maintain()
        assert log_rows(store) == 2
        commit(store, persons=[person(B, 2, "{}")], distinct_ids=[(1, "b", B, 0)])
        store.maintain()
        assert log_rows(store) == 0
        assert [r[0] for r in store.query(PERSONS)] == [A, B]
    finally:
        store.close()


def test_the_log_and_its_order_survive_a_restart(tmp_path):
    path = tmp_path / "events.duckdb"
    first = DuckDBEventStore(path)
    scenario(first)
    first.close()
    second = DuckDBEventStore(path)
    try:
        assert state(second) == EXPECTED
        commit(second, persons=[person(A, 1, '{"n":4}', 3)])  # a later sequence number wins
        assert second.query(PERSONS) == [(A, '{"n":4}', 3)]
    finally:
        second.close()


def test_a_file_from_before_the_logs_is_upgraded(tmp_path):
    path = tmp_path / "events.duckdb"
    old = duckdb.connect(str(path))
    old.execute("CREATE TABLE persons (team_id INTEGER NOT NULL, id UUID NOT NULL, int_id BIGINT NOT NULL,"
                " created_at TIMESTAMP NOT NULL, properties VARCHAR NOT NULL DEFAULT '{}',"
                " is_identified BOOLEAN NOT NULL DEFAULT FALSE, version BIGINT NOT NULL DEFAULT 0,"
                " is_deleted BOOLEAN NOT NULL DEFAULT FALSE)")  # fmt: skip
    old.execute("INSERT INTO persons VALUES (1, ?, 1, '2024-01-01', '{}', true, 0, false)", [A])
    old.close()
    store = DuckDBEventStore(path)
    try:
        assert store.query("SELECT CAST(id AS VARCHAR), is_identified FROM persons") == [(A, True)]
        assert store.query("SELECT count(*) FROM persons_folded") == [(1,)]
    finally:
        store.close()


def test_an_arrow_input_refuses_another_schema():
    slot = ArrowInput(pa.schema([("a", pa.int64())]))
    with pytest.raises(ValueError):
        slot.fill(pa.table({"a": pa.array(["x"])}))


def test_a_group_type_written_again_is_stored_once(store):
    """In scale-out mode a process's own group types come back in the shared change feed."""
    commit(store, group_types=[(1, "company", 0)])
    commit(store, group_types=[(1, "company", 0), (1, "project", 1)])
    store.commit(WriteBatch(changes=[SealedChanges(group_types=[(1, "project", 1)]),
                                     SealedChanges(group_types=[(1, "project", 1)])]))  # fmt: skip
    assert sorted(store.query("SELECT team_id, group_type, group_type_index FROM group_type_mapping")) == [
        (1, "company", 0), (1, "project", 1)]
