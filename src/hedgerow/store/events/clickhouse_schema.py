"""Physical layout of the analytics store on ClickHouse, laid out as PostHog lays it out.

* ``events``: a ``ReplacingMergeTree`` partitioned by month (``toYYYYMM(timestamp)``) and
  ordered ``(team_id, toDate(timestamp), event, cityHash64(distinct_id), cityHash64(uuid))``
  as PostHog's ``sharded_events``: a team's time range is one contiguous scan, and a row
  stored twice (same team, day, event, distinct id, uuid) is merged away. The writer already
  stores a uuid once (the dedup window plus a lookup of possibly-stored uuids, as on DuckDB);
  the engine is the second line.
* Identity: ``person``, ``person_distinct_id2`` and ``person_distinct_id_overrides_raw`` are
  ``ReplacingMergeTree(_version)`` tables keyed like PostHog's (``(team_id, id)``,
  ``(team_id, distinct_id)``); ``_version`` is the shared change feed's number of the
  state a row holds in scale-out mode (every process writing a shared server agrees on it,
  so the newest state wins whichever process inserts last), else the writer's commit
  sequence (the latest write of a key wins, as in the DuckDB identity log); a deletion is a
  row with ``is_deleted = 1``. The compiler reads them through views named as its storage tables
  (``persons``, ``person_distinct_ids``, ``person_distinct_id_overrides``), which collapse
  versions with ``FINAL``.
* Hot event properties (``mat_<key>``) and person properties (``pmat_<key>``, from the
  event's ``person_properties``) are ``MATERIALIZED`` columns holding the compiler's text of
  the value, so a filter or breakdown on one reads a column instead of parsing JSON.
* Times are ``DateTime64(6, 'UTC')``; JSON documents are ``String`` (ZSTD), as PostHog.

Migrations are numbered and recorded in ``hedgerow_schema_migrations``; every statement is
idempotent (``IF NOT EXISTS``), so a migration interrupted half-way is simply run again.
Parts are fsynced when written (``fsync_after_insert``): an acknowledged insert survives a
power cut, not only ``kill -9``.
"""

from __future__ import annotations

from dataclasses import dataclass

DURABLE = "fsync_after_insert = 1, fsync_part_directory = 1"

_EVENTS = f"""
CREATE TABLE IF NOT EXISTS {{db}}.events (
    uuid               UUID,
    event              String,
    properties         String CODEC(ZSTD(3)),
    timestamp          DateTime64(6, 'UTC'),
    team_id            Int64,
    distinct_id        String,
    elements_chain     String CODEC(ZSTD(3)),
    created_at         DateTime64(6, 'UTC'),
    person_id          Nullable(UUID),
    person_properties  String CODEC(ZSTD(3)),
    person_created_at  Nullable(DateTime64(6, 'UTC')),
    `$session_id`      Nullable(String),
    `$window_id`       Nullable(String),
    `$group_0`         String,
    `$group_1`         String,
    `$group_2`         String,
    `$group_3`         String,
    `$group_4`         String,
    _timestamp         DateTime64(6, 'UTC') DEFAULT now64(6)
) ENGINE = ReplacingMergeTree(_timestamp)
PARTITION BY toYYYYMM(timestamp)
ORDER BY (team_id, toDate(timestamp), event, cityHash64(distinct_id), cityHash64(uuid))
SETTINGS {DURABLE}
"""

_PERSON = f"""
CREATE TABLE IF NOT EXISTS {{db}}.person (
    id             UUID,
    created_at     DateTime64(6, 'UTC'),
    team_id        Int64,
    int_id         Int64,
    properties     String CODEC(ZSTD(3)),
    is_identified  Bool,
    is_deleted     Bool,
    version        Int64,
    _version       UInt64
) ENGINE = ReplacingMergeTree(_version)
ORDER BY (team_id, id)
SETTINGS {DURABLE}
"""

_DISTINCT_ID_TABLE = f"""
CREATE TABLE IF NOT EXISTS {{db}}.{{name}} (
    team_id      Int64,
    distinct_id  String,
    person_id    UUID,
    is_deleted   Bool,
    version      Int64,
    _version     UInt64
) ENGINE = ReplacingMergeTree(_version)
ORDER BY (team_id, distinct_id)
SETTINGS {DURABLE}
"""
"""``person_distinct_id2`` (current owner of each distinct id) and
``person_distinct_id_overrides_raw`` (where a merge moved the events of a distinct id)."""

_GROUPS_RAW = f"""
CREATE TABLE IF NOT EXISTS {{db}}.groups_raw (
    team_id           Int64,
    group_type_index  Int64,
    group_key         String,
    properties        String CODEC(ZSTD(3)),
    created_at        DateTime64(6, 'UTC'),
    updated_at        DateTime64(6, 'UTC'),
    _version          UInt64
) ENGINE = ReplacingMergeTree(_version)
ORDER BY (team_id, group_type_index, group_key)
SETTINGS {DURABLE}
"""

_GROUP_TYPE_MAPPING = f"""
CREATE TABLE IF NOT EXISTS {{db}}.group_type_mapping (
    team_id           Int64,
    group_type        String,
    group_type_index  Int64
) ENGINE = ReplacingMergeTree
ORDER BY (team_id, group_type_index)
SETTINGS {DURABLE}
"""

_SNAPSHOTS = f"""
CREATE TABLE IF NOT EXISTS {{db}}.session_recording_snapshots (
    team_id        Int64,
    uuid           UUID,
    session_id     String,
    window_id      Nullable(String),
    distinct_id    String,
    timestamp      DateTime64(6, 'UTC'),
    created_at     DateTime64(6, 'UTC'),
    snapshot_data  String CODEC(ZSTD(3))
) ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (team_id, session_id, timestamp)
SETTINGS {DURABLE}
"""

_COHORT_PEOPLE = f"""
CREATE TABLE IF NOT EXISTS {{db}}.{{name}} (
    team_id    Int64,
    cohort_id  Int64,
    person_id  UUID,
    version    Int64
) ENGINE = MergeTree
ORDER BY (team_id, cohort_id, person_id)
SETTINGS {DURABLE}
"""

_VIEWS = (
    """CREATE VIEW IF NOT EXISTS {db}.persons AS
    SELECT team_id, id, int_id, created_at, properties, is_identified, version, is_deleted
    FROM {db}.person FINAL""",
    """CREATE VIEW IF NOT EXISTS {db}.person_distinct_ids AS
    SELECT team_id, distinct_id, person_id, version, is_deleted FROM {db}.person_distinct_id2 FINAL""",
    """CREATE VIEW IF NOT EXISTS {db}.person_distinct_id_overrides AS
    SELECT team_id, distinct_id, person_id, version
    FROM {db}.person_distinct_id_overrides_raw FINAL WHERE NOT is_deleted""",
    """CREATE VIEW IF NOT EXISTS {db}.groups AS
    SELECT team_id, group_type_index, group_key, properties, created_at, updated_at
    FROM {db}.groups_raw FINAL""",
)


_STORE_IDENTITY = """
CREATE TABLE IF NOT EXISTS {db}.store_identity (
    id          String,
    created_at  DateTime64(6) DEFAULT now64(6)
) ENGINE = MergeTree ORDER BY id
"""
"""One random id per database, made by its first migration: the key its events are queued
under for delivery (two processes racing the migration may each add one; the smallest wins)."""


def _materialized_column(key: str, source: str = "properties", prefix: str = "mat_") -> str:
    """A hot property of the JSON column ``source`` as its own column, holding HogQL's text of
    it (the expression the compiler would otherwise evaluate on every read:
    ``hogql.passes.native.text_of``)."""
    quoted = "'" + key.replace("\\", "\\\\").replace("'", "\\'") + "'"
    text = (f"if(JSONType({source}, {quoted}) = 'String', JSONExtractString({source}, {quoted}), "
            f"nullIf(nullIf(JSONExtractRaw({source}, {quoted}), ''), 'null'))")  # fmt: skip
    return f"ALTER TABLE {{db}}.events ADD COLUMN IF NOT EXISTS `{prefix}{key}` Nullable(String) MATERIALIZED {text}"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "events, persons, distinct ids, overrides, groups, cohorts, recordings", (
        _EVENTS, _PERSON,
        _DISTINCT_ID_TABLE.replace("{name}", "person_distinct_id2"),
        _DISTINCT_ID_TABLE.replace("{name}", "person_distinct_id_overrides_raw"),
        _GROUPS_RAW, _GROUP_TYPE_MAPPING,
        _SNAPSHOTS,
        _COHORT_PEOPLE.replace("{name}", "cohort_people"),
        _COHORT_PEOPLE.replace("{name}", "static_cohort_people"),
        *_VIEWS,
    )),
    Migration(2, "materialised columns for hot event properties", tuple(
        _materialized_column(key)
        for key in ("$browser", "$os", "$device_type", "$current_url", "$pathname", "$host", "$referring_domain",
                    "$screen_name", "$session_id", "$window_id")
    )),
    Migration(3, "the store's identity (processes sharing one database share one outbox)", (
        _STORE_IDENTITY,
        "INSERT INTO {db}.store_identity (id) SELECT toString(generateUUIDv4()) FROM system.one"
        " WHERE (SELECT count() FROM {db}.store_identity) = 0",
    )),
    # Parts written before this migration compute the columns when read: same answers.
    Migration(4, "materialised columns for hot person properties", tuple(
        _materialized_column(key, "person_properties", "pmat_") for key in ("email", "name", "plan")
    )),
)  # fmt: skip
"""The schema's history, oldest first. Never edit a released migration: add one."""

MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS {db}.hedgerow_schema_migrations (
    version     UInt32,
    name        String,
    applied_at  DateTime DEFAULT now()
) ENGINE = ReplacingMergeTree ORDER BY version
"""
