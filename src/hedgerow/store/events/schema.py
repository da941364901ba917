"""Physical layout of the analytics store (DuckDB flavour).

These are the storage tables the HogQL compiler's virtual tables are rewritten onto. Every
table carries ``team_id`` (project id); every query the compiler emits guards on it.

Times are stored as naive ``TIMESTAMP`` in UTC with microsecond precision; conversion to a
project's timezone happens in the compiled SQL, never at write time. JSON documents are stored
as ``VARCHAR`` holding JSON text (DuckDB's ``JSON`` type is an alias with the same layout).
"""

from __future__ import annotations

import pyarrow as pa

GROUP_SLOTS = 5
"""PostHog allows five group types per project (indexes 0..4)."""

EVENTS = """
CREATE TABLE IF NOT EXISTS events (
    team_id            INTEGER   NOT NULL,
    uuid               UUID      NOT NULL,
    event              VARCHAR   NOT NULL,
    distinct_id        VARCHAR   NOT NULL,
    properties         VARCHAR   NOT NULL DEFAULT '{}',
    timestamp          TIMESTAMP NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    person_id          UUID,
    person_properties  VARCHAR   NOT NULL DEFAULT '{}',
    person_created_at  TIMESTAMP,
    "$session_id"      VARCHAR,
    "$window_id"       VARCHAR,
    elements_chain     VARCHAR   NOT NULL DEFAULT '',
    "$group_0"         VARCHAR   NOT NULL DEFAULT '',
    "$group_1"         VARCHAR   NOT NULL DEFAULT '',
    "$group_2"         VARCHAR   NOT NULL DEFAULT '',
    "$group_3"         VARCHAR   NOT NULL DEFAULT '',
    "$group_4"         VARCHAR   NOT NULL DEFAULT ''
)
"""

# One row per live person (current state; updated in place by ingestion).
PERSONS = """
CREATE TABLE IF NOT EXISTS persons (
    team_id        INTEGER   NOT NULL,
    id             UUID      NOT NULL,
    int_id         BIGINT    NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    properties     VARCHAR   NOT NULL DEFAULT '{}',
    is_identified  BOOLEAN   NOT NULL DEFAULT FALSE,
    version        BIGINT    NOT NULL DEFAULT 0,
    is_deleted     BOOLEAN   NOT NULL DEFAULT FALSE
)
"""

# Current owner of each distinct id.
PERSON_DISTINCT_IDS = """
CREATE TABLE IF NOT EXISTS person_distinct_ids (
    team_id      INTEGER NOT NULL,
    distinct_id  VARCHAR NOT NULL,
    person_id    UUID    NOT NULL,
    version      BIGINT  NOT NULL DEFAULT 0,
    is_deleted   BOOLEAN NOT NULL DEFAULT FALSE
)
"""

# When a merge moves a distinct id to another person, events stored before the merge still
# carry the old person_id; this table says which person those events now belong to.
PERSON_DISTINCT_ID_OVERRIDES = """
CREATE TABLE IF NOT EXISTS person_distinct_id_overrides (
    team_id      INTEGER NOT NULL,
    distinct_id  VARCHAR NOT NULL,
    person_id    UUID    NOT NULL,
    version      BIGINT  NOT NULL DEFAULT 0
)
"""

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
    PERSONS,
    PERSON_DISTINCT_IDS,
    PERSON_DISTINCT_ID_OVERRIDES,
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
"""Order of the values in an event row tuple handed to the writer."""

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
"""Arrow layout of event rows between ingestion and a store: column ``c{i}`` is
``EVENT_COLUMNS[i]``; uuids are text, times are microseconds since the epoch (UTC)."""


def event_batch(
    team_id: int, created_at_us: int, rows: list[tuple], groups: list[tuple] | None = None
) -> pa.RecordBatch:
    """One request's events as an Arrow record batch.

    ``rows`` hold the per-event columns ``uuid, event, distinct_id, properties, timestamp,
    person_id, person_properties, person_created_at, $session_id, $window_id,
    elements_chain``; ``groups`` the five ``$group_i`` values per event (None: no groups in
    the request). Constant columns are built without a Python list per row.
    """
    n = len(rows)
    columns = list(zip(*rows))
    fields = EVENT_ARROW_SCHEMA
    arrays = [pa.repeat(pa.scalar(team_id, fields[0].type), n)]
    arrays += [pa.array(col, fields[i].type) for i, col in zip((1, 2, 3, 4, 5), columns[:5])]
    arrays.append(pa.repeat(pa.scalar(created_at_us, fields[6].type), n))
    arrays += [pa.array(col, fields[i].type) for i, col in zip(range(7, 13), columns[5:])]
    if groups is None:
        empty = pa.repeat(pa.scalar("", pa.string()), n)
        arrays += [empty] * 5
    else:
        arrays += [pa.array(col, pa.string()) for col in zip(*groups)]
    return pa.RecordBatch.from_arrays(arrays, schema=fields)
