"""The DuckDB events store: one database file, one writer cursor, reader cursors per thread.

DuckDB allows one writer at a time inside a process; every ingestion write goes through
:meth:`DuckDBEventStore.commit`, called only by the ingestion writer thread. A commit is one
transaction, sent as one multi-statement call: the group's events (an Arrow table,
``INSERT ... SELECT``), the identity changes appended to the identity log (persons, distinct
ids, overrides: see :class:`~hedgerow.store.events.schema.IdentityTable`), and the rare group
upserts. Between commits the writer folds the log once it holds :data:`FOLD_ROWS` rows
(:meth:`DuckDBEventStore.maintain`). DuckDB writes and syncs its WAL on ``COMMIT``, so a
committed group survives ``kill -9``. Reads (the Persons API, HogQL) use :meth:`cursor`, a
separate connection to the same database object.
"""

from __future__ import annotations

import threading
import uuid as uuid_lib
from pathlib import Path
from typing import Any, Iterable

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from hedgerow.store.events.duckdb_inputs import Inputs
from hedgerow.store.events.identity_rows import (
    GROUP_TYPES_IN,
    GROUPS_IN,
    IDENTITY_LOG_IN,
    IdentityInputs,
    identity_inputs,
)
from hedgerow.store.events.person_filters import UnsupportedFilter, as_text, number_bound
from hedgerow.store.events.static_members import StaticMembers
from hedgerow.store.events.protocol import (
    EventStoreError,
    IdentityRows,
    Interruptions,
    PersonFilter,
    WriteBatch,
)
from hedgerow.store.events.duckdb_query import QueryResult, apply_sandbox, execute, explain
from hedgerow.store.events.schema import (
    EVENT_ARROW_SCHEMA,
    FOLD_IDENTITY_LOG,
    HOT_COLUMN_LIST,
    HOT_COLUMNS,
    HOT_VALUES,
    IDENTITY_TABLES,
    TABLES,
    event_table,
    events_table,
    hot_expressions,
    hot_parse,
)

CHECKPOINT_THRESHOLD = "256MB"
"""WAL size that triggers a checkpoint, inside the commit that crosses it (inserts into a table
wait while a checkpoint writes it, even from another connection, so a background checkpoint
would not spare the commits). Each checkpoint rewrites the table's last, partly filled row
group: bench-workload events at 1,300 rows per commit went 40k rows/s at 32 MB, 58k at
128 MB, 72k at 256 MB, 81k at 512 MB, the longest commit staying ~0.5 s from 256 MB up. The
cost is a longer replay of the WAL on start after a crash (seconds for 256 MB)."""
MEMORY_LIMIT = "384MB"
"""DuckDB's buffer pool (cached blocks, hash tables, sorts, joins): past it DuckDB evicts and
spills to its temp directory beside the file. Ingestion and queries share it. Kept well under
the query memory guard's headroom (``duckdb_query.MEMORY_HEADROOM``) so that a big join
spills instead of being stopped, and one query keeps the process under ~1 GB: DuckDB keeps
what it held cached, so this much stays resident after the first big query."""
FOLD_ROWS = 20_000
"""Rows in the identity log at which the writer folds it. A fold scans the folded tables
(~35 ms for 18k logged rows against a million persons); a bigger log makes every read of
persons pay more for its anti-join and window."""

# Named Arrow inputs of the writer's statements (registered once on the writer cursor).
_EVENTS_IN = "hedgerow_events_in"
_MAYBE_IN = "hedgerow_maybe_in"
_IDENTITY_IN = "hedgerow_identity_in"
_GROUPS_IN = "hedgerow_groups_in"
_GROUP_TYPES_IN = "hedgerow_group_types_in"
_OUTBOX_IN = "hedgerow_outbox_in"
_MAYBE_SCHEMA = pa.schema([("i", pa.int64()), ("team_id", pa.int32()), ("uuid", pa.string())])
_OUTBOX_COLUMNS = ("c0", "c1", "c6")  # team_id, uuid, created_at of EVENT_ARROW_SCHEMA
_OUTBOX_SCHEMA = pa.schema([EVENT_ARROW_SCHEMA.field(name) for name in _OUTBOX_COLUMNS])
_INPUTS = {
    _EVENTS_IN: EVENT_ARROW_SCHEMA, _MAYBE_IN: _MAYBE_SCHEMA, _IDENTITY_IN: IDENTITY_LOG_IN,
    _GROUPS_IN: GROUPS_IN, _GROUP_TYPES_IN: GROUP_TYPES_IN, _OUTBOX_IN: _OUTBOX_SCHEMA,
}  # fmt: skip
_INSERT_OUTBOX = """
INSERT INTO delivery_outbox (id, team_id, uuid, created_at)
SELECT nextval('delivery_outbox_seq'), c0, CAST(c1 AS UUID), c6 FROM hedgerow_outbox_in
"""
_READ_OUTBOX = """
SELECT id, team_id, CAST(uuid AS VARCHAR), created_at FROM delivery_outbox
WHERE id > ? ORDER BY id LIMIT ?
"""
_PRUNE_OUTBOX = "DELETE FROM delivery_outbox WHERE id <= ?"

_INSERT_EVENTS = f"""
INSERT INTO events (team_id, uuid, event, distinct_id, properties, timestamp, created_at,
    person_id, person_properties, person_created_at, "$session_id", "$window_id",
    elements_chain, "$group_0", "$group_1", "$group_2", "$group_3", "$group_4", {HOT_COLUMN_LIST})
SELECT c0, CAST(c1 AS UUID), c2, c3, c4, c5, c6, CAST(c7 AS UUID), c8, c9, c10, c11, c12,
    c13, c14, c15, c16, c17, {HOT_VALUES}
FROM (SELECT *, {hot_parse("c4")} FROM hedgerow_events_in)
"""
_FIND_STORED = """
SELECT k.i FROM hedgerow_maybe_in k
JOIN events e ON e.team_id = k.team_id AND e.uuid = CAST(k.uuid AS UUID)
"""
_DELETE_GROUPS = """
DELETE FROM groups USING hedgerow_groups_in g
WHERE groups.team_id = g.team_id AND groups.group_type_index = g.group_type_index
  AND groups.group_key = g.group_key
"""
_INSERT_GROUPS = """
INSERT INTO groups (team_id, group_type_index, group_key, properties, created_at, updated_at)
SELECT team_id, group_type_index, group_key, properties, created_at, updated_at
FROM hedgerow_groups_in
"""
# Idempotent: in scale-out mode a type this process added comes back in the shared feed.
_INSERT_GROUP_TYPES = """
INSERT INTO group_type_mapping (team_id, group_type, group_type_index)
SELECT DISTINCT team_id, group_type, group_type_index FROM hedgerow_group_types_in g
WHERE NOT EXISTS (SELECT 1 FROM group_type_mapping m
                  WHERE m.team_id = g.team_id AND m.group_type = g.group_type)
"""
_APPEND_IDENTITY = """
INSERT INTO identity_log SELECT kind, team_id, key, CAST(person_id AS UUID), int_id, created_at,
    properties, is_identified, version, _seq, _deleted
FROM hedgerow_identity_in
"""
_EVENT_COLUMN_NAMES = """
SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = 'events'
"""
_LOG_STATE = "SELECT count(*), coalesce(max(_seq), 0) FROM identity_log"
_DELETE_EVENTS = """
DELETE FROM events WHERE team_id = ? AND (
    person_id IN (SELECT CAST(unnest(?::VARCHAR[]) AS UUID))
    OR distinct_id IN (SELECT unnest(?::VARCHAR[])))
"""
_LOAD_PERSONS = """
SELECT team_id, CAST(id AS VARCHAR), int_id, epoch_us(created_at), properties, is_identified,
    version
FROM persons WHERE NOT is_deleted
"""
_LOAD_PDI = """
SELECT team_id, distinct_id, CAST(person_id AS VARCHAR), version
FROM person_distinct_ids WHERE NOT is_deleted
"""
_LOAD_GROUPS = """
SELECT team_id, group_type_index, group_key, properties, epoch_us(created_at),
    epoch_us(updated_at)
FROM groups
"""
_LOAD_GROUP_TYPES = "SELECT team_id, group_type, group_type_index FROM group_type_mapping"
_MAX_INT_ID = "SELECT coalesce(max(int_id), 0) FROM persons"
_LOAD_UUIDS = """
SELECT team_id,
    CAST(CAST(uuid AS UHUGEINT) >> 64 AS UBIGINT) AS hi,
    CAST(CAST(uuid AS UHUGEINT) & CAST(18446744073709551615 AS UHUGEINT) AS UBIGINT) AS lo
FROM events
"""

# Persons API reads. Fragments are constants; every value is a bound parameter.
_PERSON_COLUMNS = """
SELECT CAST(p.id AS VARCHAR), p.int_id, p.created_at, p.properties, p.is_identified,
    (SELECT list(d.distinct_id ORDER BY d.version, d.distinct_id) FROM person_distinct_ids d
     WHERE d.team_id = p.team_id AND d.person_id = p.id)
FROM persons p
"""
_PERSON_WHERE = "WHERE p.team_id = ? AND NOT p.is_deleted"
_PERSON_COUNT = "SELECT count(*) FROM persons p "
_BY_DISTINCT_ID = """ AND p.id IN (SELECT person_id FROM person_distinct_ids
    WHERE team_id = ? AND distinct_id = ?)"""
_BY_EMAIL = " AND json_extract_string(p.properties, '$.email') = ?"
_BY_SEARCH = """ AND (contains(lower(coalesce(json_extract_string(p.properties, '$.email'), '')), ?)
    OR contains(lower(coalesce(json_extract_string(p.properties, '$.name'), '')), ?)
    OR CAST(p.id AS VARCHAR) = ?
    OR p.id IN (SELECT person_id FROM person_distinct_ids
                WHERE team_id = ? AND contains(lower(distinct_id), ?)))"""
_PROPERTY_VALUE = "json_extract_string(p.properties, ?)"
_OPERATORS: dict[str, str] = {
    "exact": " AND list_contains(?::VARCHAR[], json_extract_string(p.properties, ?))",
    "is_not": " AND coalesce(NOT list_contains(?::VARCHAR[], json_extract_string(p.properties, ?)), TRUE)",
    "icontains": " AND contains(lower(json_extract_string(p.properties, ?)), lower(?))",
    "not_icontains": " AND coalesce(NOT contains(lower(json_extract_string(p.properties, ?)), lower(?)), TRUE)",
    "regex": " AND regexp_matches(json_extract_string(p.properties, ?), ?)",
    "not_regex": " AND coalesce(NOT regexp_matches(json_extract_string(p.properties, ?), ?), TRUE)",
    "gt": " AND TRY_CAST(json_extract_string(p.properties, ?) AS DOUBLE) > ?",
    "gte": " AND TRY_CAST(json_extract_string(p.properties, ?) AS DOUBLE) >= ?",
    "lt": " AND TRY_CAST(json_extract_string(p.properties, ?) AS DOUBLE) < ?",
    "lte": " AND TRY_CAST(json_extract_string(p.properties, ?) AS DOUBLE) <= ?",
    "is_set": " AND json_exists(p.properties, ?)",
    "is_not_set": " AND NOT json_exists(p.properties, ?)",
}  # fmt: skip
_ORDER_PAGE = " ORDER BY p.created_at DESC, p.int_id DESC LIMIT ? OFFSET ?"
_BY_UUID = " AND p.id = CAST(? AS UUID)"
_BY_INT_ID = " AND p.int_id = ?"


DUCKDB_SCHEME = "duckdb:///"


def path_from_url(url: str) -> Path:
    """The file of a ``duckdb:///<path>`` events URL (SQLAlchemy style: four slashes for an
    absolute path, three for a relative one)."""
    if not url.startswith(DUCKDB_SCHEME) or len(url) == len(DUCKDB_SCHEME):
        raise ValueError(f"not a DuckDB events URL: {url!r}")
    return Path(url[len(DUCKDB_SCHEME):])


# (delete, insert, select) statements for static (True) and calculated (False) membership.
_MEMBERS = {
    True: (
        "DELETE FROM static_cohort_people WHERE team_id = ? AND cohort_id = ?",
        "INSERT INTO static_cohort_people SELECT DISTINCT ?, ?, CAST(person_id AS UUID) FROM hedgerow_members_in",
        "SELECT CAST(person_id AS VARCHAR) FROM static_cohort_people WHERE team_id = ? AND cohort_id = ? ORDER BY 1",
    ),
    False: (
        "DELETE FROM cohort_people WHERE team_id = ? AND cohort_id = ?",
        "INSERT INTO cohort_people SELECT DISTINCT ?, ?, CAST(person_id AS UUID), ? FROM hedgerow_members_in",
        "SELECT CAST(person_id AS VARCHAR) FROM cohort_people WHERE team_id = ? AND cohort_id = ? ORDER BY 1",
    ),
}


class DuckDBEventStore(StaticMembers):
    """Events, persons and groups in one DuckDB file."""

    engine = "duckdb"

    def __init__(
        self,
        path: str | Path,
        *,
        threads: int | None = None,
        checkpoint_threshold: str = CHECKPOINT_THRESHOLD,
        memory_limit: str = MEMORY_LIMIT,
        fold_rows: int = FOLD_ROWS,
    ) -> None:
        """Open (creating) the file, its tables, and lock the instance into the sandbox:
        no files, URLs or extensions for anything that runs here, user queries included.

        ``fold_rows``: fold the identity log once it holds this many rows.
        """
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = duckdb.connect(str(path), config={"checkpoint_threshold": checkpoint_threshold})
            _create_tables(self._db)
            apply_sandbox(self._db, memory_limit=memory_limit, threads=threads)
            _add_hot_columns(self._db)  # within the sandbox's memory limit
            self._writer = self._db.cursor()
            self._inputs = Inputs(self._writer, _INPUTS)
            log_rows, last_seq = self._writer.execute(_LOG_STATE).fetchone()
            self.store_id: str = _store_id(self._writer)
        except duckdb.Error as exc:
            raise EventStoreError(f"cannot open events store {path}") from exc
        self.path = Path(path)
        self._local = threading.local()
        self.fold_rows = fold_rows
        self._log_rows = log_rows
        """Rows in the identity log (folded at ``fold_rows``)."""
        self._seq = last_seq
        """The last commit's sequence number (orders the identity log)."""
        self.outbox_teams: frozenset[int] = frozenset()
        """Projects whose committed events also go to the delivery outbox (set by delivery)."""
        self._prune_outbox_to = 0

    # -- reads ----------------------------------------------------------------------------

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new connection to this instance for one caller (close it when done): queries
        that may be interrupted or cancelled each get their own."""
        return self._db.cursor()

    def _thread_cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's reusable cursor, for the store's own short reads."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._local.cursor = self._db.cursor()
        return cur

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        """Run a read query on this thread's cursor."""
        try:
            return self._thread_cursor().execute(sql, list(params)).fetchall()
        except duckdb.Error as exc:
            raise EventStoreError("events store query failed") from exc

    def execute(self, compiled: Any, timeout_seconds: float = 60.0, *,
                running: Interruptions | None = None) -> QueryResult:  # fmt: skip
        """Run a compiled HogQL query on its own cursor (interruptible through ``running``)."""
        cursor = self.cursor()
        if running is not None:
            running.attach(cursor)
        try:
            return execute(cursor, compiled, timeout_seconds,
                           cancelled=running.cancelled if running is not None else None)  # fmt: skip
        finally:
            if running is not None:
                running.detach()
            cursor.close()

    def explain(self, compiled: Any) -> list[str]:
        cursor = self.cursor()
        try:
            return explain(cursor, compiled)
        finally:
            cursor.close()

    def load_identity(self) -> IdentityRows:
        cur = self._db.cursor()
        try:
            return IdentityRows(
                persons=cur.execute(_LOAD_PERSONS).fetchall(),
                distinct_ids=cur.execute(_LOAD_PDI).fetchall(),
                groups=cur.execute(_LOAD_GROUPS).fetchall(),
                group_types=cur.execute(_LOAD_GROUP_TYPES).fetchall(),
                next_int_id=cur.execute(_MAX_INT_ID).fetchone()[0] + 1,
            )
        except duckdb.Error as exc:
            raise EventStoreError("cannot load persons") from exc
        finally:
            cur.close()

    def load_uuid_columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cur = self._db.cursor()
        try:
            cols = cur.execute(_LOAD_UUIDS).fetchnumpy()
        except duckdb.Error as exc:
            raise EventStoreError("cannot load event uuids") from exc
        finally:
            cur.close()
        return (np.asarray(cols["team_id"], dtype=np.int64),
                np.asarray(cols["hi"], dtype=np.uint64), np.asarray(cols["lo"], dtype=np.uint64))  # fmt: skip

    def list_persons(self, team_id: int, filters: PersonFilter) -> tuple[list[dict[str, Any]], int]:
        where, params = self._person_conditions(team_id, filters)
        try:
            rows = self.query(_PERSON_COLUMNS + where + _ORDER_PAGE,
                              params + [filters.limit, filters.offset])  # fmt: skip
            total = self.query(_PERSON_COUNT + where, params)[0][0]
        except EventStoreError as error:  # a regex filter DuckDB cannot compile
            if isinstance(error.__cause__, duckdb.InvalidInputException):
                raise UnsupportedFilter("regex needs a valid regular expression") from error
            raise
        return [_person_dict(r) for r in rows], total

    def get_person(self, team_id: int, *, uuid: str | None = None,
                   int_id: int | None = None) -> dict[str, Any] | None:  # fmt: skip
        if uuid is not None:
            rows = self.query(_PERSON_COLUMNS + _PERSON_WHERE + _BY_UUID, [team_id, uuid])
        elif int_id is not None:
            rows = self.query(_PERSON_COLUMNS + _PERSON_WHERE + _BY_INT_ID, [team_id, int_id])
        else:
            return None
        return _person_dict(rows[0]) if rows else None

    def _person_conditions(self, team_id: int, f: PersonFilter) -> tuple[str, list[Any]]:
        sql = _PERSON_WHERE
        params: list[Any] = [team_id]
        if f.distinct_id is not None:
            sql += _BY_DISTINCT_ID
            params += [team_id, f.distinct_id]
        if f.email is not None:
            sql += _BY_EMAIL
            params.append(f.email)
        if f.search:
            needle = f.search.strip().lower()
            sql += _BY_SEARCH
            params += [needle, needle, f.search.strip(), team_id, needle]
        for prop in f.properties:
            operator = prop.get("operator") or "exact"
            fragment = _OPERATORS.get(operator) if isinstance(operator, str) else None
            if fragment is None:
                raise UnsupportedFilter(str(operator)[:100])
            key = prop.get("key")
            if not isinstance(key, str) or not key:
                raise UnsupportedFilter(f"{operator} needs a property key")
            path = _json_path(key)
            value = prop.get("value")
            sql += fragment
            if operator in ("exact", "is_not"):
                values = value if isinstance(value, list) else [value]
                params += [[as_text(v) for v in values], path]
            elif operator in ("is_set", "is_not_set"):
                params.append(path)
            elif operator in ("gt", "gte", "lt", "lte"):
                params += [path, number_bound(operator, value)]
            else:
                params += [path, as_text(value)]
        return sql, params

    # -- cohort membership (its own transactions; the event writer never touches these) ------

    def replace_cohort_members(self, team_id: int, cohort_id: int, person_uuids: list[str], *,
                               static: bool, version: int = 0) -> None:  # fmt: skip
        """Set a cohort's members (static cohorts: add to them instead, see below)."""
        delete, insert, _ = _MEMBERS[static]
        keys = pa.table({"person_id": pa.array(person_uuids, pa.string())})
        cur = self._db.cursor()
        try:
            cur.execute("BEGIN TRANSACTION")
            cur.execute(delete, [team_id, cohort_id])
            cur.register("hedgerow_members_in", keys)
            cur.execute(insert, [team_id, cohort_id] + ([] if static else [version]))
            cur.execute("COMMIT")
        except duckdb.Error as exc:
            cur.execute("ROLLBACK")
            raise EventStoreError("could not store cohort members") from exc
        finally:
            cur.close()

    def cohort_members(self, team_id: int, cohort_id: int, *, static: bool) -> list[str]:
        rows = self.query(_MEMBERS[static][2], [team_id, cohort_id])
        return [r[0] for r in rows]

    def static_memberships(self, team_id: int) -> dict[str, set[int]]:
        """{person uuid: static cohort ids} for a team."""
        found: dict[str, set[int]] = {}
        rows = self.query(
            "SELECT CAST(person_id AS VARCHAR), cohort_id FROM static_cohort_people WHERE team_id = ?", [team_id]
        )
        for person, cohort in rows:
            found.setdefault(person, set()).add(cohort)
        return found

    def insert_snapshots(self, rows: list[tuple]) -> None:
        """Store recording snapshots in their own transaction (append-only: no conflict with
        the event writer). Rows: team, uuid, session, window, distinct id, timestamp us,
        created us, snapshot JSON."""
        if not rows:
            return
        cols = list(zip(*rows))
        table = pa.table({
            "team_id": pa.array(cols[0], pa.int32()),
            "uuid": pa.array(cols[1], pa.string()),
            "session_id": pa.array(cols[2], pa.string()),
            "window_id": pa.array(cols[3], pa.string()),
            "distinct_id": pa.array(cols[4], pa.string()),
            "timestamp": pa.array(cols[5], pa.timestamp("us")),
            "created_at": pa.array(cols[6], pa.timestamp("us")),
            "snapshot_data": pa.array(cols[7], pa.string()),
        })  # fmt: skip
        cur = self._db.cursor()
        try:
            cur.register("hedgerow_snapshots_in", table)  # dropped with the cursor
            cur.execute("BEGIN TRANSACTION; INSERT INTO session_recording_snapshots "
                        "SELECT team_id, CAST(uuid AS UUID), session_id, window_id, distinct_id, "
                        "timestamp, created_at, snapshot_data FROM hedgerow_snapshots_in; COMMIT")
        except duckdb.Error as exc:
            raise EventStoreError("could not store recording snapshots") from exc
        finally:
            cur.close()

    # -- the single writer ----------------------------------------------------------------

    def commit(self, batch: WriteBatch) -> set[int]:
        """Write ``batch`` in one transaction, sent to DuckDB as one multi-statement call.

        The statements are constants; their inputs are Arrow tables in the writer cursor's
        registered :class:`~hedgerow.store.events.duckdb_inputs.Inputs`. One call per commit,
        not one per statement: every return from DuckDB waits for the GIL, which the event
        loop holds most of the time. Returns the indexes of ``maybe`` rows left out because
        their uuid was already stored.
        """
        cur = self._writer
        seq = self._seq + 1
        try:
            events, skipped = self._events_to_write(cur, batch.events, batch.maybe)
            identity = identity_inputs(batch.changes, seq) if batch.changes else IdentityInputs()
            tables, statements = _plan(events, identity, _outbox_rows(events, self.outbox_teams))
            try:
                with self._inputs.filled(tables):
                    script = ";\n".join(["BEGIN TRANSACTION", *statements])
                    if batch.delete_events:  # rare (Persons API): bound parameters, own calls
                        cur.execute(script)
                        for team_id, person_ids, distinct_ids in batch.delete_events:
                            cur.execute(_DELETE_EVENTS, [team_id, list(person_ids), list(distinct_ids)])
                        cur.execute("COMMIT")
                    else:
                        cur.execute(script + ";\nCOMMIT")
            except BaseException:
                _rollback(cur)
                raise
        except duckdb.Error as exc:
            raise EventStoreError("events store commit failed") from exc
        self._seq = seq
        self._log_rows += identity.log.num_rows if identity.log is not None else 0
        return skipped

    def _events_to_write(self, cur: duckdb.DuckDBPyConnection, rows: list[tuple],
                         maybe: list[int]) -> tuple[pa.Table | None, set[int]]:  # fmt: skip
        """The group's event rows as one Arrow table, leaving out ``maybe`` rows already
        stored (whose indexes are returned)."""
        stored: set[int] = set()
        if maybe:
            keys = pa.Table.from_arrays([
                pa.array(maybe, pa.int64()), pa.array([rows[i][0] for i in maybe], pa.int32()),
                pa.array([rows[i][1] for i in maybe], pa.string()),
            ], schema=_MAYBE_SCHEMA)  # fmt: skip
            with self._inputs.filled({_MAYBE_IN: keys}):
                stored = {i for (i,) in cur.execute(_FIND_STORED).fetchall()}
            if stored:
                rows = [row for i, row in enumerate(rows) if i not in stored]
        return (event_table(rows) if rows else None), stored

    def maintain(self) -> None:
        """Housekeeping between commits, on the writer thread: fold the identity log once
        it holds ``fold_rows`` rows, and drop outbox rows already matched."""
        if self._log_rows >= self.fold_rows:
            self.fold()
        prune_to, self._prune_outbox_to = self._prune_outbox_to, 0
        if prune_to:
            try:
                self._writer.execute(_PRUNE_OUTBOX, [prune_to])
            except duckdb.Error as exc:
                self._prune_outbox_to = max(self._prune_outbox_to, prune_to)
                raise EventStoreError("could not prune the delivery outbox") from exc

    # -- the delivery outbox ----------------------------------------------------------------

    def read_outbox(self, after_id: int, limit: int) -> list[tuple[int, int, str, Any]]:
        """Outbox rows after ``after_id`` in commit order: (id, team id, event uuid, created_at)."""
        try:
            return [tuple(row) for row in self._thread_cursor().execute(_READ_OUTBOX, [after_id, limit]).fetchall()]
        except duckdb.Error as exc:
            raise EventStoreError("could not read the delivery outbox") from exc

    def prune_outbox(self, through_id: int) -> None:
        """Have the writer drop outbox rows up to ``through_id`` (after its next commit: the
        writer thread is the only one that writes)."""
        self._prune_outbox_to = max(self._prune_outbox_to, through_id)

    def fold(self) -> None:
        """Move the identity log into the folded tables, in one transaction (writer thread,
        or before the writer starts)."""
        cur = self._writer
        try:
            try:
                cur.execute(";\n".join(["BEGIN TRANSACTION", *FOLD_IDENTITY_LOG, "COMMIT"]))
            except BaseException:
                _rollback(cur)
                raise
        except duckdb.Error as exc:
            raise EventStoreError("folding the identity log failed") from exc
        self._log_rows = 0

    def checkpoint(self) -> None:
        """Fold the WAL into the database file (only call from the writer thread or idle)."""
        try:
            self._writer.execute("CHECKPOINT")
        except duckdb.Error as exc:
            raise EventStoreError("checkpoint failed") from exc

    def close(self) -> None:
        try:
            self._writer.close()
            self._db.close()
        except duckdb.Error as exc:
            raise EventStoreError("cannot close events store") from exc


def _store_id(cur: duckdb.DuckDBPyConnection) -> str:
    """The file's identity, made on first use."""
    found = cur.execute("SELECT id FROM store_identity LIMIT 1").fetchone()
    if found:
        return found[0]
    made = str(uuid_lib.uuid4())
    cur.execute("INSERT INTO store_identity VALUES (?)", [made])
    return made


def _create_tables(db: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing. A file from before the identity log has its identity tables
    as base tables under the names the views now take: they become the folded tables."""
    for table in IDENTITY_TABLES:
        found = db.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?",
            [table.name],
        ).fetchone()[0]
        if found:
            db.execute(f"ALTER TABLE {table.name} RENAME TO {table.folded}")
    for ddl in TABLES:
        db.execute(ddl)


def _add_hot_columns(db: duckdb.DuckDBPyConnection) -> None:
    """Give a file made before the hot columns (or before some of them) the columns
    ``events`` lacks, computed for every stored event.

    The table is rebuilt in one transaction (a new table filled by one ``INSERT ... SELECT``,
    the old one dropped, the new one renamed): a process killed during it leaves the file as
    it was, so the next open starts again; the columns exist only once filled. An ``UPDATE``
    of the new columns would be the obvious way, but DuckDB keeps a whole-table update's undo
    in memory (10M events did not fit in the buffer pool), while a big insert is written
    straight to the file. Costs: 37 s for 10M events on two cores (76 s on a loaded box,
    ~0.5 GB resident), and the old table's space, which DuckDB reuses for later writes but
    does not give back.
    """
    present = {name for (name,) in db.execute(_EVENT_COLUMN_NAMES).fetchall()}
    missing = [column for column in HOT_COLUMNS if column not in present]
    if not missing:
        return
    statements = [
        "BEGIN TRANSACTION",
        "DROP TABLE IF EXISTS events_rebuilt",
        events_table("events_rebuilt"),
        f"INSERT INTO events_rebuilt BY NAME SELECT *, {hot_expressions(missing)} FROM events",
        "DROP TABLE events",
        "ALTER TABLE events_rebuilt RENAME TO events",
        "COMMIT",
    ]
    try:
        db.execute(";\n".join(statements))
    except BaseException:
        _rollback(db)
        raise


def _outbox_rows(events: pa.Table | None, teams: frozenset[int]) -> pa.Table | None:
    """The outbox rows of a commit's events: those of projects with destinations."""
    if events is None or not teams:
        return None
    mine = events.select(list(_OUTBOX_COLUMNS)).filter(pc.is_in(events.column("c0"), pa.array(list(teams), pa.int32())))
    return mine if mine.num_rows else None


def _plan(events: pa.Table | None, identity: IdentityInputs,
          outbox: pa.Table | None = None) -> tuple[dict[str, pa.Table], list[str]]:  # fmt: skip
    """The inputs and statements of one commit (only those with rows)."""
    tables: dict[str, pa.Table] = {}
    statements: list[str] = []
    for name, table, *sql in (
        (_EVENTS_IN, events, _INSERT_EVENTS),
        (_OUTBOX_IN, outbox, _INSERT_OUTBOX),
        (_IDENTITY_IN, identity.log, _APPEND_IDENTITY),
        (_GROUPS_IN, identity.groups, _DELETE_GROUPS, _INSERT_GROUPS),
        (_GROUP_TYPES_IN, identity.group_types, _INSERT_GROUP_TYPES),
    ):
        if table is not None:
            tables[name] = table
            statements.extend(sql)
    return tables, statements


def _rollback(cur: duckdb.DuckDBPyConnection) -> None:
    try:
        cur.execute("ROLLBACK")
    except duckdb.Error:
        pass


def _json_path(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _person_dict(row: tuple) -> dict[str, Any]:
    uuid, int_id, created_at, props, identified, distinct_ids = row
    return {
        "uuid": uuid,
        "int_id": int_id,
        "created_at": created_at,
        "properties": orjson.loads(props or "{}"),
        "is_identified": bool(identified),
        "distinct_ids": list(distinct_ids or []),
    }
