"""Physical layout of the analytics store (DuckDB flavour).

These are the storage tables the HogQL compiler's virtual tables are rewritten onto. Every
table carries ``team_id`` (project id); every query the compiler emits guards on it.

Times are stored as naive ``TIMESTAMP`` in UTC with microsecond precision; conversion to a
project's timezone happens in the compiled SQL, never at write time. JSON documents are stored
as ``VARCHAR`` holding JSON text (DuckDB's ``JSON`` type is an alias with the same layout),
compressed with zstd: about 3x smaller than DuckDB's default choice for ~1 KB property
documents, and checkpoints (which compress) run about twice as fast.

Hot event properties (:data:`~hedgerow.hogql.hot_properties.DUCKDB_MATERIALIZED`) are
stored a second time as their own ``VARCHAR`` column (``"mat_$browser"`` ...), computed by
DuckDB from ``properties`` in the statement that writes the row (:data:`HOT_VALUES`), so a
breakdown on one reads a column instead of parsing every document.

The identity tables (persons, distinct ids, overrides) are written as a log and folded, like
an LSM tree (:class:`IdentityTable`): ingestion only appends to ``identity_log``, and readers
query the view ``<name>``, which shows the current state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pyarrow as pa

from hedgerow.hogql.hot_properties import DUCKDB_MATERIALIZED

GROUP_SLOTS = 5
"""PostHog allows five group types per project (indexes 0..4)."""

HOT_COLUMNS: tuple[str, ...] = tuple(DUCKDB_MATERIALIZED.values())
"""The materialised columns of ``events``, in :data:`HOT_VALUES` order."""
HOT_COLUMN_LIST = ", ".join(f'"{column}"' for column in HOT_COLUMNS)


def _pointer(key: str) -> str:
    """``key``'s JSON pointer as an SQL string literal (the keys are constants)."""
    return "'/" + key.replace("~", "~0").replace("/", "~1").replace("'", "''") + "'"


def hot_parse(document: str) -> str:
    """Select item parsing the JSON text ``document`` (a column) once for every hot key, as
    the list ``_hot``: element ``i`` is exactly ``json_extract_string(document, '/<key i>')``
    (NULL when missing or JSON null, strings unquoted, other values as their JSON text)."""
    return f"json_extract_string({document}, [{', '.join(map(_pointer, DUCKDB_MATERIALIZED))}]) AS _hot"


HOT_VALUES = ", ".join(f"_hot[{i}]" for i in range(1, len(HOT_COLUMNS) + 1))
"""The values of :data:`HOT_COLUMN_LIST` from :func:`hot_parse`, for ``INSERT INTO events
(..., HOT_COLUMN_LIST) SELECT ..., HOT_VALUES FROM (SELECT *, hot_parse(doc) FROM rows)``."""


def _extraction(column: str) -> str:
    key = next(key for key, hot in DUCKDB_MATERIALIZED.items() if hot == column)
    return f"json_extract_string(properties, {_pointer(key)})"


def hot_expressions(columns: Sequence[str] = HOT_COLUMNS) -> str:
    """Select items computing the hot ``columns`` of a row of ``events`` from its
    ``properties``, each named as its column."""
    return ", ".join(f'{_extraction(column)} AS "{column}"' for column in columns)


def fill_hot_columns() -> str:
    """A statement recomputing the hot columns of every stored event from its
    ``properties``: the last step of anything that writes events with plain ``INSERT``
    statements (test fixtures, :func:`hedgerow.testing.write_events`)."""
    return "UPDATE events SET " + ", ".join(f'"{column}" = {_extraction(column)}' for column in HOT_COLUMNS)


def events_table(name: str = "events") -> str:
    """The ``CREATE TABLE`` statement of the events table, under ``name``."""
    return EVENTS.replace("CREATE TABLE IF NOT EXISTS events (", f"CREATE TABLE IF NOT EXISTS {name} (", 1)


EVENTS = """
CREATE TABLE IF NOT EXISTS events (
    team_id            INTEGER   NOT NULL,
    uuid               UUID      NOT NULL,
    event              VARCHAR   NOT NULL,
    distinct_id        VARCHAR   NOT NULL,
    properties         VARCHAR   NOT NULL DEFAULT '{}' USING COMPRESSION zstd,
    timestamp          TIMESTAMP NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    person_id          UUID,
    person_properties  VARCHAR   NOT NULL DEFAULT '{}' USING COMPRESSION zstd,
    person_created_at  TIMESTAMP,
    "$session_id"      VARCHAR,
    "$window_id"       VARCHAR,
    elements_chain     VARCHAR   NOT NULL DEFAULT '' USING COMPRESSION zstd,
    "$group_0"         VARCHAR   NOT NULL DEFAULT '',
    "$group_1"         VARCHAR   NOT NULL DEFAULT '',
    "$group_2"         VARCHAR   NOT NULL DEFAULT '',
    "$group_3"         VARCHAR   NOT NULL DEFAULT '',
    "$group_4"         VARCHAR   NOT NULL DEFAULT ''""" + "".join(f""",
    "{column}" VARCHAR""" for column in HOT_COLUMNS) + """
)
"""

IDENTITY_LOG = """
CREATE TABLE IF NOT EXISTS identity_log (
    kind           TINYINT   NOT NULL,
    team_id        INTEGER   NOT NULL,
    key            VARCHAR   NOT NULL,
    person_id      UUID,
    int_id         BIGINT,
    created_at     TIMESTAMP,
    properties     VARCHAR,
    is_identified  BOOLEAN,
    version        BIGINT,
    _seq           BIGINT    NOT NULL,
    _deleted       BOOLEAN   NOT NULL
)
"""
"""Every identity change since the last fold, of every :class:`IdentityTable` (``kind``):
``key`` is the row's key as text (person uuid, distinct id), ``_seq`` the sequence number of
the commit that wrote it (it orders the log), ``_deleted`` marks a deletion of the key."""


@dataclass(frozen=True)
class IdentityTable:
    """A table of current identity state: the shared :data:`IDENTITY_LOG` plus a folded table.

    Ingestion appends every change to the log (one statement per commit for all identity
    tables), which costs no scan of the state however large it grows; the earlier
    delete-then-insert per commit scanned the whole table each time. The writer periodically
    *folds* the log into ``<name>_folded`` (one delete-then-insert for thousands of changes)
    and empties it. Readers query the view ``<name>``: the folded rows no logged row
    supersedes, plus the latest logged row of each key unless it marks a deletion.
    """

    name: str
    kind: int
    columns: tuple[tuple[str, str, str], ...]
    """(column, type with constraints, expression over the log) of the folded table."""
    match: tuple[str, str]
    """(folded column, log column) identifying a row besides ``team_id``."""

    @property
    def folded(self) -> str:
        return self.name + "_folded"

    @property
    def column_names(self) -> str:
        return ", ".join(name for name, _, _ in self.columns)

    def create_folded(self) -> str:
        body = ",\n    ".join(f"{name} {spec}" for name, spec, _ in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {self.folded} (\n    {body}\n)"

    def _latest_logged(self) -> str:
        values = ", ".join(f"{expr} AS {name}" for name, _, expr in self.columns)
        return (f"SELECT {values} FROM (SELECT * FROM identity_log WHERE kind = {self.kind} "
                "QUALIFY row_number() OVER (PARTITION BY team_id, key ORDER BY _seq DESC) = 1) "
                "WHERE NOT _deleted")  # fmt: skip

    def _superseded(self, outer: str) -> str:
        folded_column, log_column = self.match
        return (f"EXISTS (SELECT 1 FROM identity_log r WHERE r.kind = {self.kind} AND "
                f"r.team_id = {outer}.team_id AND r.{log_column} = {outer}.{folded_column})")  # fmt: skip

    def create_view(self) -> str:
        return (f"CREATE OR REPLACE VIEW {self.name} AS SELECT {self.column_names} FROM "
                f"{self.folded} f WHERE NOT {self._superseded('f')} UNION ALL {self._latest_logged()}")  # fmt: skip

    def fold(self) -> tuple[str, str]:
        """Statements moving this table's logged rows into the folded table (the log is
        emptied after every table is folded: :data:`FOLD_IDENTITY_LOG`)."""
        return (
            f"DELETE FROM {self.folded} WHERE {self._superseded(self.folded)}",
            f"INSERT INTO {self.folded} ({self.column_names}) {self._latest_logged()}",
        )


PERSONS = IdentityTable(
    "persons",
    kind=0,
    columns=(
        ("team_id", "INTEGER NOT NULL", "team_id"),
        ("id", "UUID NOT NULL", "person_id"),
        ("int_id", "BIGINT NOT NULL", "int_id"),
        ("created_at", "TIMESTAMP NOT NULL", "created_at"),
        ("properties", "VARCHAR NOT NULL DEFAULT '{}' USING COMPRESSION zstd", "properties"),
        ("is_identified", "BOOLEAN NOT NULL DEFAULT FALSE", "is_identified"),
        ("version", "BIGINT NOT NULL DEFAULT 0", "version"),
        ("is_deleted", "BOOLEAN NOT NULL DEFAULT FALSE", "FALSE"),
    ),
    match=("id", "person_id"),
)
"""One row per live person (current state). Logged with ``key`` = the uuid as text."""

PERSON_DISTINCT_IDS = IdentityTable(
    "person_distinct_ids",
    kind=1,
    columns=(
        ("team_id", "INTEGER NOT NULL", "team_id"),
        ("distinct_id", "VARCHAR NOT NULL", "key"),
        ("person_id", "UUID NOT NULL", "person_id"),
        ("version", "BIGINT NOT NULL DEFAULT 0", "version"),
        ("is_deleted", "BOOLEAN NOT NULL DEFAULT FALSE", "FALSE"),
    ),
    match=("distinct_id", "key"),
)
"""Current owner of each distinct id."""

PERSON_DISTINCT_ID_OVERRIDES = IdentityTable(
    "person_distinct_id_overrides",
    kind=2,
    columns=(
        ("team_id", "INTEGER NOT NULL", "team_id"),
        ("distinct_id", "VARCHAR NOT NULL", "key"),
        ("person_id", "UUID NOT NULL", "person_id"),
        ("version", "BIGINT NOT NULL DEFAULT 0", "version"),
    ),
    match=("distinct_id", "key"),
)
"""When a merge moves a distinct id to another person, events stored before the merge still
carry the old person_id; this says which person those events now belong to."""

IDENTITY_TABLES: tuple[IdentityTable, ...] = (PERSONS, PERSON_DISTINCT_IDS, PERSON_DISTINCT_ID_OVERRIDES)

FOLD_IDENTITY_LOG: tuple[str, ...] = (
    *(statement for table in IDENTITY_TABLES for statement in table.fold()),
    "DELETE FROM identity_log",
)
"""The fold, in order (run it in one transaction)."""

GROUPS = """
CREATE TABLE IF NOT EXISTS groups (
    team_id           INTEGER   NOT NULL,
    group_type_index  INTEGER   NOT NULL,
    group_key         VARCHAR   NOT NULL,
    properties        VARCHAR   NOT NULL DEFAULT '{}',
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
)
"""

# Session recording snapshots (/s/): kept apart from events.
SESSION_RECORDING_SNAPSHOTS = """
CREATE TABLE IF NOT EXISTS session_recording_snapshots (
    team_id      INTEGER   NOT NULL,
    uuid         UUID      NOT NULL,
    session_id   VARCHAR   NOT NULL,
    window_id    VARCHAR,
    distinct_id  VARCHAR   NOT NULL,
    timestamp    TIMESTAMP NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    snapshot_data VARCHAR  NOT NULL
)
"""

# Membership of dynamic cohorts as of their latest calculation, and of static cohorts.
COHORT_PEOPLE = """
CREATE TABLE IF NOT EXISTS cohort_people (
    team_id    INTEGER NOT NULL,
    cohort_id  INTEGER NOT NULL,
    person_id  UUID    NOT NULL,
    version    BIGINT  NOT NULL DEFAULT 0
)
"""

STATIC_COHORT_PEOPLE = """
CREATE TABLE IF NOT EXISTS static_cohort_people (
    team_id    INTEGER NOT NULL,
    cohort_id  INTEGER NOT NULL,
    person_id  UUID    NOT NULL
)
"""

DELIVERY_OUTBOX = (
    "CREATE SEQUENCE IF NOT EXISTS delivery_outbox_seq",
    """CREATE TABLE IF NOT EXISTS delivery_outbox (
    id          BIGINT    NOT NULL,
    team_id     INTEGER   NOT NULL,
    uuid        UUID      NOT NULL,
    created_at  TIMESTAMP NOT NULL
)""",
)
"""Events of projects with destinations, numbered in commit order (written in the same
transaction as the events): what destinations still have to be matched against. Rows are
removed once matched (:meth:`DuckDBEventStore.prune_outbox`)."""

STORE_IDENTITY = "CREATE TABLE IF NOT EXISTS store_identity (id VARCHAR NOT NULL)"
"""One random id per events file, made when the file is first opened: the key its outbox
cursor is kept under in the metadata database (each process with a file has its own)."""

TABLES: tuple[str, ...] = (
    EVENTS,
    STORE_IDENTITY,
    *DELIVERY_OUTBOX,
    IDENTITY_LOG,
    *(ddl for t in IDENTITY_TABLES for ddl in (t.create_folded(), t.create_view())),
    GROUPS,
    SESSION_RECORDING_SNAPSHOTS,
    COHORT_PEOPLE,
    STATIC_COHORT_PEOPLE,
)

# Added by ingestion: the project's group types and their slot (0..4) in events' $group_i.
# PostHog keeps this in Postgres (GroupTypeMapping); here it commits in the same transaction as
# the events that introduce a type, so a slot can never be reused after a crash.
GROUP_TYPE_MAPPING = """
CREATE TABLE IF NOT EXISTS group_type_mapping (
    team_id           INTEGER NOT NULL,
    group_type        VARCHAR NOT NULL,
    group_type_index  INTEGER NOT NULL
)
"""

TABLES = TABLES + (GROUP_TYPE_MAPPING,)

EVENT_COLUMNS: tuple[str, ...] = (
    "team_id", "uuid", "event", "distinct_id", "properties", "timestamp", "created_at",
    "person_id", "person_properties", "person_created_at", "$session_id", "$window_id",
    "elements_chain", "$group_0", "$group_1", "$group_2", "$group_3", "$group_4",
)  # fmt: skip
"""Order of the values in an event row tuple handed to the writer (uuids as text, times as
microseconds since the epoch, UTC)."""

_TS = pa.timestamp("us")
EVENT_ARROW_SCHEMA = pa.schema(
    [
        ("c0", pa.int32()), ("c1", pa.string()), ("c2", pa.string()), ("c3", pa.string()),
        ("c4", pa.string()), ("c5", _TS), ("c6", _TS), ("c7", pa.string()), ("c8", pa.string()),
        ("c9", _TS), ("c10", pa.string()), ("c11", pa.string()), ("c12", pa.string()),
        ("c13", pa.string()), ("c14", pa.string()), ("c15", pa.string()), ("c16", pa.string()),
        ("c17", pa.string()),
    ]
)  # fmt: skip
"""Arrow layout of event rows in a store's input: column ``c{i}`` is ``EVENT_COLUMNS[i]``."""


def event_table(rows: Sequence[tuple]) -> pa.Table:
    """Event rows (values in :data:`EVENT_COLUMNS` order) as an Arrow table in
    :data:`EVENT_ARROW_SCHEMA`: one conversion per column for a whole group."""
    columns = zip(*rows)
    return pa.Table.from_arrays(
        [pa.array(col, field.type) for col, field in zip(columns, EVENT_ARROW_SCHEMA)],
        schema=EVENT_ARROW_SCHEMA,
    )
