"""The ClickHouse events store: the same protocol as the DuckDB store, on ClickHouse tables.

One class for both ClickHouse engines (the embedded ``chdb`` and a server through
``clickhouse-connect``): they differ only in their :class:`Connection`.

A commit writes the identity changes, then the events, each as one synchronous insert
(ClickHouse has no transaction across tables). An insert returns once its part is written
and fsynced (see :mod:`.clickhouse_schema`), so an acknowledged event survives ``kill -9``.
A crash between the two inserts leaves identity rows whose events were never acknowledged:
the client retries them, and identity rows are upserts keyed by id, so the retry ends in the
same state. Event uuids are stored once: the ingestion dedup window answers most retries, and
the writer looks up the uuids it is unsure of (``WriteBatch.maybe``) before inserting.
Events of projects with destinations are queued for delivery (in the metadata database,
through ``outbox``) before they are inserted, so an acknowledged event is always queued.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid as uuid_lib
from typing import Any, Callable, Sequence

import numpy as np
import orjson

from hedgerow.store.events.clickhouse_connection import Connection, connect
from hedgerow.store.events.urls import DATABASE_NAME, EventsUrl
from hedgerow.store.events.clickhouse_query import execute, explain
from hedgerow.store.events.clickhouse_schema import MIGRATIONS, MIGRATIONS_TABLE
from hedgerow.store.events.identity_rows import identity_inputs
from hedgerow.store.events.duckdb_query import QueryResult
from hedgerow.store.events.person_filters import UnsupportedFilter, as_text
from hedgerow.store.events.static_members import StaticMembers
from hedgerow.store.events.protocol import IdentityRows, Interruptions, PersonFilter, WriteBatch
from hedgerow.store.events.schema import EVENT_COLUMNS, PERSON_DISTINCT_IDS, PERSONS

_EPOCH = dt.datetime(1970, 1, 1)


def _time(micros: int | None) -> str | None:
    """Microseconds since the epoch (UTC) as ClickHouse's DateTime64(6) text."""
    if micros is None:
        return None
    return (_EPOCH + dt.timedelta(microseconds=int(micros))).strftime("%Y-%m-%d %H:%M:%S.%f")


def _micros(text: str | None) -> int | None:
    if text is None:
        return None
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)
    return (value - _EPOCH) // dt.timedelta(microseconds=1)


_EPOCH_UTC = _EPOCH.replace(tzinfo=dt.timezone.utc)
_CREATED_AT = EVENT_COLUMNS.index("created_at")
_TIME_COLUMNS = {EVENT_COLUMNS.index(c) for c in ("timestamp", "created_at", "person_created_at")}

_PERSON_COLUMNS = ("id", "created_at", "team_id", "int_id", "properties", "is_identified",
                   "is_deleted", "version", "_version")  # fmt: skip
_PDI_COLUMNS = ("team_id", "distinct_id", "person_id", "is_deleted", "version", "_version")
_GROUP_COLUMNS = ("team_id", "group_type_index", "group_key", "properties", "created_at", "updated_at", "_version")

_STORE_ID = "SELECT id FROM store_identity ORDER BY id LIMIT 1"
_FIND_STORED = "SELECT toString(uuid) FROM events WHERE team_id = {team:Int64} AND uuid IN {uuids:Array(UUID)}"
_LOAD_PERSONS = """SELECT team_id, toString(id), int_id, toString(created_at), properties, is_identified, version
FROM persons WHERE NOT is_deleted"""
_LOAD_PDI = "SELECT team_id, distinct_id, toString(person_id), version FROM person_distinct_ids WHERE NOT is_deleted"
_LOAD_GROUPS = """SELECT team_id, group_type_index, group_key, properties, toString(created_at), toString(updated_at)
FROM groups"""
_LOAD_GROUP_TYPES = "SELECT team_id, group_type, group_type_index FROM group_type_mapping FINAL"
_MAX_INT_ID = "SELECT max(int_id) FROM person"
_LAST_VERSION = """SELECT greatest((SELECT max(_version) FROM person), (SELECT max(_version) FROM person_distinct_id2),
    (SELECT max(_version) FROM person_distinct_id_overrides_raw), (SELECT max(_version) FROM groups_raw))"""
_LOAD_UUIDS = "SELECT team_id, toString(uuid) FROM events"
_DELETE_EVENTS = """DELETE FROM events WHERE team_id = {team:Int64}
AND (person_id IN {persons:Array(UUID)} OR distinct_id IN {distinct_ids:Array(String)})"""

_PERSON_SELECT = """SELECT toString(p.id), p.int_id, toString(p.created_at), p.properties, p.is_identified,
    arrayMap(x -> x.2, arraySort(groupArray((d.version, d.distinct_id))))
FROM persons AS p LEFT JOIN (SELECT * FROM person_distinct_ids WHERE team_id = {team:Int64} AND NOT is_deleted) AS d
    ON d.person_id = p.id
"""
_PERSON_WHERE = "WHERE p.team_id = {team:Int64} AND NOT p.is_deleted"
_PERSON_GROUP = " GROUP BY p.id, p.int_id, p.created_at, p.properties, p.is_identified"
_ORDER_PAGE = " ORDER BY p.created_at DESC, p.int_id DESC LIMIT {limit:UInt64} OFFSET {offset:UInt64}"
_PROP = "JSONExtractString(p.properties, {key%d:String})"
_HAS = "JSONHas(p.properties, {key%d:String})"
_NUMBER = "toFloat64OrNull(JSONExtractRaw(p.properties, {key%d:String}))"
_OPERATORS: dict[str, str] = {
    "exact": f" AND {_HAS} AND has({{value%d:Array(String)}}, {_PROP})",
    "is_not": f" AND NOT ({_HAS} AND has({{value%d:Array(String)}}, {_PROP}))",
    "icontains": f" AND {_HAS} AND positionCaseInsensitiveUTF8({_PROP}, {{value%d:String}}) > 0",
    "not_icontains": f" AND NOT ({_HAS} AND positionCaseInsensitiveUTF8({_PROP}, {{value%d:String}}) > 0)",
    "regex": f" AND {_HAS} AND match({_PROP}, {{value%d:String}})",
    "not_regex": f" AND NOT ({_HAS} AND match({_PROP}, {{value%d:String}}))",
    "gt": f" AND {_NUMBER} > {{value%d:Float64}}",
    "gte": f" AND {_NUMBER} >= {{value%d:Float64}}",
    "lt": f" AND {_NUMBER} < {{value%d:Float64}}",
    "lte": f" AND {_NUMBER} <= {{value%d:Float64}}",
    "is_set": f" AND {_HAS}",
    "is_not_set": f" AND NOT {_HAS}",
}  # fmt: skip

_MEMBER_TABLES = {True: "static_cohort_people", False: "cohort_people"}


class _Kill:
    """What a cancelled query job interrupts: the query with this id, on a server."""

    def __init__(self, connection: Connection, query_id: str) -> None:
        self._connection, self._query_id = connection, query_id

    def interrupt(self) -> None:
        self._connection.cancel(self._query_id)


class ClickHouseEventStore(StaticMembers):
    """Events, persons and groups in ClickHouse (embedded or a server)."""

    engine = "clickhouse"

    def __init__(self, connection: Connection, database: str = "hedgerow") -> None:
        """Migrate ``database`` (created if missing) and use it for every statement."""
        self.connection = connection
        self.database = database
        migrate(connection, database)
        connection.use(database)
        self._lock = threading.Lock()
        last = self._one(_LAST_VERSION)
        self._seq = int(last or 0)
        """The last commit's sequence number: identity rows carry it as their version."""
        self.store_id: str = self._one(_STORE_ID)
        """This database's identity: processes sharing it share its delivery outbox."""
        self.outbox_teams: frozenset[int] = frozenset()
        """Projects whose events are queued for delivery (set by delivery)."""
        self.outbox: Callable[[list[tuple[int, str, dt.datetime]]], None] | None = None
        """Where (team id, event uuid, created at) rows of ``outbox_teams`` are queued before
        their events are inserted (set by delivery; ClickHouse has no transaction to hold them)."""

    @classmethod
    def open(cls, url: EventsUrl) -> "ClickHouseEventStore":
        return cls(connect(url), url.database if url.engine == "clickhouse" else "hedgerow")

    # -- reads ----------------------------------------------------------------------------

    def _rows(self, sql: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        return self.connection.query(sql, params).rows

    def _one(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        rows = self._rows(sql, params)
        return rows[0][0] if rows else None

    def execute(self, compiled: Any, timeout_seconds: float = 60.0, *,
                running: Interruptions | None = None) -> QueryResult:  # fmt: skip
        """Run a compiled HogQL query (see :func:`.clickhouse_query.execute`); cancelling
        ``running`` kills it on a server (chdb cannot stop a running query: its time limit does)."""
        query_id = uuid_lib.uuid4().hex
        handle = _Kill(self.connection, query_id)
        if running is not None:
            running.attach(handle)
        try:
            return execute(self.connection, compiled, timeout_seconds, query_id=query_id,
                           cancelled=running.cancelled if running is not None else None)  # fmt: skip
        finally:
            if running is not None:
                running.detach()

    def explain(self, compiled: Any) -> list[str]:
        return explain(self.connection, compiled)

    def load_identity(self) -> IdentityRows:
        persons = [(t, u, i, _micros(c), props, bool(ident), v) for t, u, i, c, props, ident, v in self._rows(_LOAD_PERSONS)]
        groups = [(t, i, k, props, _micros(c), _micros(u)) for t, i, k, props, c, u in self._rows(_LOAD_GROUPS)]
        return IdentityRows(
            persons=persons,
            distinct_ids=[tuple(r) for r in self._rows(_LOAD_PDI)],
            groups=groups,
            group_types=[tuple(r) for r in self._rows(_LOAD_GROUP_TYPES)],
            next_int_id=int(self._one(_MAX_INT_ID) or 0) + 1,
        )

    def load_uuid_columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = self._rows(_LOAD_UUIDS)
        teams = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        values = [int(r[1].replace("-", ""), 16) for r in rows]
        hi = np.fromiter((v >> 64 for v in values), dtype=np.uint64, count=len(values))
        lo = np.fromiter((v & 0xFFFFFFFFFFFFFFFF for v in values), dtype=np.uint64, count=len(values))
        return teams, hi, lo

    def list_persons(self, team_id: int, filters: PersonFilter) -> tuple[list[dict[str, Any]], int]:
        where, params = _person_conditions(team_id, filters)
        rows = self._rows(_PERSON_SELECT + where + _PERSON_GROUP + _ORDER_PAGE,
                          {**params, "limit": filters.limit, "offset": filters.offset})  # fmt: skip
        total = self._one("SELECT count() FROM persons AS p " + where, params)
        return [_person_dict(r) for r in rows], int(total or 0)

    def get_person(self, team_id: int, *, uuid: str | None = None,
                   int_id: int | None = None) -> dict[str, Any] | None:  # fmt: skip
        if uuid is not None:
            extra, params = " AND p.id = {uuid:UUID}", {"team": team_id, "uuid": uuid}
        elif int_id is not None:
            extra, params = " AND p.int_id = {int_id:Int64}", {"team": team_id, "int_id": int_id}
        else:
            return None
        rows = self._rows(_PERSON_SELECT + _PERSON_WHERE + extra + _PERSON_GROUP, params)
        return _person_dict(rows[0]) if rows else None

    # -- cohort membership --------------------------------------------------------------------

    def replace_cohort_members(self, team_id: int, cohort_id: int, person_uuids: list[str], *,
                               static: bool, version: int = 0) -> None:  # fmt: skip
        table = _MEMBER_TABLES[static]
        with self._lock:
            self.connection.command(f"DELETE FROM {table} WHERE team_id = {{team:Int64}} AND cohort_id = {{cohort:Int64}}",
                                    {"team": team_id, "cohort": cohort_id})  # fmt: skip
            self.connection.insert(table, ("team_id", "cohort_id", "person_id", "version"),
                                   [(team_id, cohort_id, p, version) for p in sorted(set(person_uuids))])  # fmt: skip

    def cohort_members(self, team_id: int, cohort_id: int, *, static: bool) -> list[str]:
        sql = (f"SELECT DISTINCT toString(person_id) AS p FROM {_MEMBER_TABLES[static]} "
               "WHERE team_id = {team:Int64} AND cohort_id = {cohort:Int64} ORDER BY p")  # fmt: skip
        return [r[0] for r in self._rows(sql, {"team": team_id, "cohort": cohort_id})]

    def static_memberships(self, team_id: int) -> dict[str, set[int]]:
        found: dict[str, set[int]] = {}
        sql = "SELECT toString(person_id), cohort_id FROM static_cohort_people WHERE team_id = {team:Int64}"
        for person, cohort in self._rows(sql, {"team": team_id}):
            found.setdefault(person, set()).add(cohort)
        return found

    def insert_snapshots(self, rows: list[tuple]) -> None:
        columns = ("team_id", "uuid", "session_id", "window_id", "distinct_id", "timestamp", "created_at", "snapshot_data")
        self.connection.insert("session_recording_snapshots", columns,
                               [(*r[:5], _time(r[5]), _time(r[6]), r[7]) for r in rows])  # fmt: skip

    # -- the single writer --------------------------------------------------------------------

    def commit(self, batch: WriteBatch) -> set[int]:
        """Write ``batch``: identity changes, deletions, then events (see module docstring).
        Returns the indexes of ``maybe`` rows left out because their uuid was already stored."""
        with self._lock:
            seq = self._seq + 1
            if batch.changes:
                self._write_identity(batch, seq)
            for team_id, person_ids, distinct_ids in batch.delete_events:
                self.connection.command(_DELETE_EVENTS, {"team": team_id, "persons": list(person_ids),
                                                         "distinct_ids": list(distinct_ids)})  # fmt: skip
            skipped = self._stored(batch.events, batch.maybe)
            self._queue_for_delivery(batch.events, skipped)
            rows = [_event_json(row) for i, row in enumerate(batch.events) if i not in skipped]
            if rows:
                self.connection.insert("events", EVENT_COLUMNS, rows)
            self._seq = seq
        return skipped

    def _queue_for_delivery(self, rows: list[tuple], skipped: set[int]) -> None:
        """Queue the events of projects with destinations before inserting them: a crash
        in between leaves a queued event that was never acknowledged (matched once the
        client's retry stores it, or dropped when it never comes), never an acknowledged
        event that is not queued."""
        teams, outbox = self.outbox_teams, self.outbox
        if outbox is None or not teams:
            return
        queued = [(row[0], row[1].lower(), _EPOCH_UTC + dt.timedelta(microseconds=int(row[_CREATED_AT])))
                  for i, row in enumerate(rows) if row[0] in teams and i not in skipped]  # fmt: skip
        if queued:
            outbox(queued)

    def stored_uuids(self, team_id: int, uuids: list[str]) -> set[str]:
        """Which of ``uuids`` the project has stored."""
        return {uuid for (uuid,) in self._rows(_FIND_STORED, {"team": team_id, "uuids": uuids})}

    def _stored(self, rows: list[tuple], maybe: list[int]) -> set[int]:
        by_team: dict[int, dict[str, list[int]]] = {}
        for i in maybe:
            by_team.setdefault(rows[i][0], {}).setdefault(rows[i][1].lower(), []).append(i)
        found: set[int] = set()
        for team_id, uuids in by_team.items():
            for (uuid,) in self._rows(_FIND_STORED, {"team": team_id, "uuids": list(uuids)}):
                found.update(uuids.get(uuid, ()))
        return found

    def _write_identity(self, batch: WriteBatch, seq: int) -> None:
        # Several processes may write these tables (a shared server): rows of changes from the
        # shared feed carry its number, which they all agree on, not this process's counter.
        inputs = identity_inputs(batch.changes, seq, shared_versions=True)
        persons, pdis, overrides = [], [], []
        if inputs.log is not None:
            for r in inputs.log.to_pylist():
                kind, team, key, person, deleted, version = (r["kind"], r["team_id"], r["key"], r["person_id"],
                                                             r["_deleted"], r["version"])  # fmt: skip
                created, props, ident, int_id = r["created_at"], r["properties"], r["is_identified"], r["int_id"]
                if kind == PERSONS.kind:
                    persons.append((person or key, _text_time(created), team, int_id or 0, props or "{}",
                                    bool(ident), deleted, version or 0, r["_seq"]))  # fmt: skip
                else:
                    row = (team, key, person or "00000000-0000-0000-0000-000000000000", deleted, version or 0,
                           r["_seq"])  # fmt: skip
                    (pdis if kind == PERSON_DISTINCT_IDS.kind else overrides).append(row)
        if persons:
            self.connection.insert("person", _PERSON_COLUMNS, persons)
        if pdis:
            self.connection.insert("person_distinct_id2", _PDI_COLUMNS, pdis)
        if overrides:
            self.connection.insert("person_distinct_id_overrides_raw", _PDI_COLUMNS, overrides)
        if inputs.groups is not None:
            versions = inputs.group_versions or []
            rows = [(g["team_id"], g["group_type_index"], g["group_key"], g["properties"],
                     _text_time(g["created_at"]), _text_time(g["updated_at"]), version)
                    for g, version in zip(inputs.groups.to_pylist(), versions)]  # fmt: skip
            self.connection.insert("groups_raw", _GROUP_COLUMNS, rows)
        if inputs.group_types is not None:
            rows = [tuple(r.values()) for r in inputs.group_types.to_pylist()]
            self.connection.insert("group_type_mapping", ("team_id", "group_type", "group_type_index"), rows)

    def maintain(self) -> None:
        """Nothing to fold: ClickHouse merges parts (and collapses versions) in the background."""

    def close(self) -> None:
        self.connection.close()


def migrate(connection: Connection, database: str) -> list[int]:
    """Apply the migrations ``database`` has not recorded, in order; the versions applied."""
    if not DATABASE_NAME.match(database):
        raise ValueError(f"invalid database name {database!r}")
    connection.command(f"CREATE DATABASE IF NOT EXISTS {database}")
    connection.command(MIGRATIONS_TABLE.format(db=database))
    done = {row[0] for row in connection.query(f"SELECT version FROM {database}.hedgerow_schema_migrations").rows}
    applied = []
    for migration in MIGRATIONS:
        if migration.version in done:
            continue
        for statement in migration.statements:
            connection.command(statement.format(db=database))
        connection.insert(f"{database}.hedgerow_schema_migrations", ("version", "name"),
                          [(migration.version, migration.name)])  # fmt: skip
        applied.append(migration.version)
    return applied


def _text_time(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return _time(value)


def _event_json(row: tuple) -> list[Any]:
    return [_time(v) if i in _TIME_COLUMNS else v for i, v in enumerate(row)]


def _person_conditions(team_id: int, f: PersonFilter) -> tuple[str, dict[str, Any]]:
    sql = _PERSON_WHERE
    params: dict[str, Any] = {"team": team_id}
    if f.distinct_id is not None:
        sql += (" AND p.id IN (SELECT person_id FROM person_distinct_ids WHERE team_id = {team:Int64}"
                " AND distinct_id = {distinct_id:String} AND NOT is_deleted)")  # fmt: skip
        params["distinct_id"] = f.distinct_id
    if f.email is not None:
        sql += " AND JSONExtractString(p.properties, 'email') = {email:String}"
        params["email"] = f.email
    if f.search:
        sql += (" AND (positionCaseInsensitiveUTF8(JSONExtractString(p.properties, 'email'), {needle:String}) > 0"
                " OR positionCaseInsensitiveUTF8(JSONExtractString(p.properties, 'name'), {needle:String}) > 0"
                " OR toString(p.id) = {search:String}"
                " OR p.id IN (SELECT person_id FROM person_distinct_ids WHERE team_id = {team:Int64}"
                " AND positionCaseInsensitiveUTF8(distinct_id, {needle:String}) > 0))")  # fmt: skip
        params["needle"] = f.search.strip().lower()
        params["search"] = f.search.strip()
    for n, prop in enumerate(f.properties):
        operator = prop.get("operator") or "exact"
        fragment = _OPERATORS.get(operator)
        if fragment is None:
            raise UnsupportedFilter(operator)
        sql += fragment.replace("%d", str(n))
        params[f"key{n}"] = str(prop.get("key", ""))
        value = prop.get("value")
        if operator in ("exact", "is_not"):
            params[f"value{n}"] = [as_text(v) for v in (value if isinstance(value, list) else [value])]
        elif operator in ("gt", "gte", "lt", "lte"):
            params[f"value{n}"] = float(value)
        elif operator not in ("is_set", "is_not_set"):
            params[f"value{n}"] = as_text(value)
    return sql, params


def _person_dict(row: Sequence[Any]) -> dict[str, Any]:
    uuid, int_id, created_at, props, identified, distinct_ids = row
    return {
        "uuid": uuid,
        "int_id": int_id,
        "created_at": dt.datetime.fromisoformat(created_at),
        "properties": orjson.loads(props or "{}"),
        "is_identified": bool(identified),
        "distinct_ids": [d for d in distinct_ids or [] if d],
    }
