"""Physical layout of the analytics store (DuckDB flavour).

These are the storage tables the HogQL compiler's virtual tables are rewritten onto. Every
table carries ``team_id`` (project id); every query the compiler emits guards on it.

Times are stored as naive ``TIMESTAMP`` in UTC with microsecond precision; conversion to a
project's timezone happens in the compiled SQL, never at write time. JSON documents are stored
as ``VARCHAR`` holding JSON text (DuckDB's ``JSON`` type is an alias with the same layout),
compressed with zstd: about 3x smaller than DuckDB's default choice for ~1 KB property
documents, and checkpoints (which compress) run about twice as fast.

The identity tables (persons, distinct ids, overrides) are written as a log and folded, like
an LSM tree (:class:`IdentityTable`): ingestion only appends to ``<name>_recent``, and readers
query the view ``<name>``, which shows the current state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pyarrow as pa

GROUP_SLOTS = 5
"""PostHog allows five group types per project (indexes 0..4)."""

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
    "$group_4"         VARCHAR   NOT NULL DEFAULT ''
)
"""



@dataclass(frozen=True)
class IdentityTable:
    """A table of current identity state, stored as an append-only log plus a folded table.

    Ingestion appends every change as a row of ``<name>_recent`` (the columns, then ``_seq``,
    the commit's sequence number, and ``_deleted``, a deletion marker), which costs no scan of
    the state however large it grows; the old design's delete-then-insert per commit scanned
    the whole table each time. The writer periodically *folds* the log into
    ``<name>_folded`` (one delete-then-insert for thousands of changes) and empties it.
    Readers query the view ``<name>``: the folded rows no recent row supersedes, plus the
    latest recent row of each key unless it marks a deletion.
    """

    name: str
    key: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]
    """(column, type with constraints) of the folded table, in order."""

    @property
    def folded(self) -> str:
        return self.name + "_folded"

    @property
    def recent(self) -> str:
        return self.name + "_recent"

    @property
    def column_names(self) -> str:
        return ", ".join(name for name, _ in self.columns)

    def create_folded(self) -> str:
        body = ",\n    ".join(f"{name} {spec}" for name, spec in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {self.folded} (\n    {body}\n)"

    def create_recent(self) -> str:
        # No constraints: a deletion marker carries only the key.
        body = ", ".join(f"{name} {spec.split()[0]}" for name, spec in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {self.recent} ({body}, _seq BIGINT, _deleted BOOLEAN)"

    def _latest_recent(self) -> str:
        keys = ", ".join(self.key)
        return (f"SELECT {self.column_names} FROM (SELECT * FROM {self.recent} QUALIFY "
                f"row_number() OVER (PARTITION BY {keys} ORDER BY _seq DESC) = 1) WHERE NOT _deleted")  # fmt: skip

    def _superseded(self, outer: str) -> str:
        match = " AND ".join(f"r.{k} = {outer}.{k}" for k in self.key)
        return f"EXISTS (SELECT 1 FROM {self.recent} r WHERE {match})"

    def create_view(self) -> str:
        return (f"CREATE OR REPLACE VIEW {self.name} AS SELECT {self.column_names} FROM "
                f"{self.folded} f WHERE NOT {self._superseded('f')} UNION ALL {self._latest_recent()}")  # fmt: skip

    def fold(self) -> tuple[str, ...]:
        """Statements moving the log into the folded table (run them in one transaction)."""
        return (
            f"DELETE FROM {self.folded} WHERE {self._superseded(self.folded)}",
            f"INSERT INTO {self.folded} ({self.column_names}) {self._latest_recent()}",
            f"DELETE FROM {self.recent}",
        )

    def append(self, source: str) -> str:
        """INSERT of the rows of the Arrow input ``source`` (the columns, ``_seq``,
        ``_deleted``; uuids as text) into the log."""
        values = ", ".join(
            f"CAST({name} AS UUID)" if spec.startswith("UUID") else name for name, spec in self.columns
        )
        return (f"INSERT INTO {self.recent} ({self.column_names}, _seq, _deleted) "
                f"SELECT {values}, _seq, _deleted FROM {source}")  # fmt: skip


PERSONS = IdentityTable(
    "persons",
    key=("team_id", "id"),
    columns=(
        ("team_id", "INTEGER NOT NULL"),
        ("id", "UUID NOT NULL"),
        ("int_id", "BIGINT NOT NULL"),
        ("created_at", "TIMESTAMP NOT NULL"),
        ("properties", "VARCHAR NOT NULL DEFAULT '{}' USING COMPRESSION zstd"),
        ("is_identified", "BOOLEAN NOT NULL DEFAULT FALSE"),
        ("version", "BIGINT NOT NULL DEFAULT 0"),
        ("is_deleted", "BOOLEAN NOT NULL DEFAULT FALSE"),
    ),
)
"""One row per live person (current state)."""

PERSON_DISTINCT_IDS = IdentityTable(
    "person_distinct_ids",
    key=("team_id", "distinct_id"),
    columns=(
        ("team_id", "INTEGER NOT NULL"),
        ("distinct_id", "VARCHAR NOT NULL"),
        ("person_id", "UUID NOT NULL"),
        ("version", "BIGINT NOT NULL DEFAULT 0"),
        ("is_deleted", "BOOLEAN NOT NULL DEFAULT FALSE"),
    ),
)
"""Current owner of each distinct id."""

PERSON_DISTINCT_ID_OVERRIDES = IdentityTable(
    "person_distinct_id_overrides",
    key=("team_id", "distinct_id"),
    columns=(
        ("team_id", "INTEGER NOT NULL"),
        ("distinct_id", "VARCHAR NOT NULL"),
        ("person_id", "UUID NOT NULL"),
        ("version", "BIGINT NOT NULL DEFAULT 0"),
    ),
)
"""When a merge moves a distinct id to another person, events stored before the merge still
carry the old person_id; this says which person those events now belong to."""

IDENTITY_TABLES: tuple[IdentityTable, ...] = (PERSONS, PERSON_DISTINCT_IDS, PERSON_DISTINCT_ID_OVERRIDES)

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

TABLES: tuple[str, ...] = (
    EVENTS,
    *(ddl for t in IDENTITY_TABLES for ddl in (t.create_folded(), t.create_recent(), t.create_view())),
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
