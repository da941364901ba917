"""A group's identity changes as Arrow inputs for the identity logs and the group tables.

:class:`~hedgerow.ingest.persons.SealedChanges` arrive in admission order; here they collapse
to the last state of each key (a later change wins, a deletion cancels an earlier upsert and
an upsert after a deletion revives the key) and become one Arrow table per target, in the
layouts below. Deletions of persons, distinct ids and overrides are rows with ``_deleted``
set (see :class:`~hedgerow.store.events.schema.IdentityTable`); ``_seq`` is the commit's
sequence number, which orders the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from hedgerow.ingest.persons import SealedChanges

_TS = pa.timestamp("us")
_SEQ = [("_seq", pa.int64()), ("_deleted", pa.bool_())]

PERSONS_IN = pa.schema([
    ("team_id", pa.int32()), ("id", pa.string()), ("int_id", pa.int64()), ("created_at", _TS),
    ("properties", pa.string()), ("is_identified", pa.bool_()), ("version", pa.int64()),
    ("is_deleted", pa.bool_()), *_SEQ,
])  # fmt: skip
DISTINCT_IDS_IN = pa.schema([
    ("team_id", pa.int32()), ("distinct_id", pa.string()), ("person_id", pa.string()),
    ("version", pa.int64()), ("is_deleted", pa.bool_()), *_SEQ,
])  # fmt: skip
OVERRIDES_IN = pa.schema([
    ("team_id", pa.int32()), ("distinct_id", pa.string()), ("person_id", pa.string()),
    ("version", pa.int64()), *_SEQ,
])  # fmt: skip
GROUPS_IN = pa.schema([
    ("team_id", pa.int32()), ("group_type_index", pa.int32()), ("group_key", pa.string()),
    ("properties", pa.string()), ("created_at", _TS), ("updated_at", _TS),
])  # fmt: skip
GROUP_TYPES_IN = pa.schema([
    ("team_id", pa.int32()), ("group_type", pa.string()), ("group_type_index", pa.int32()),
])  # fmt: skip


@dataclass(slots=True)
class IdentityInputs:
    """One Arrow table per target (None: nothing to write there)."""

    persons: pa.Table | None = None
    distinct_ids: pa.Table | None = None
    overrides: pa.Table | None = None
    groups: pa.Table | None = None
    group_types: pa.Table | None = None


def identity_inputs(changes: list[SealedChanges], seq: int) -> IdentityInputs:
    """Collapse ``changes`` (admission order) to the rows one commit writes."""
    persons: dict[str, tuple] = {}
    gone_persons: dict[str, int] = {}
    distinct_ids: dict[tuple[int, str], tuple] = {}
    overrides: dict[tuple[int, str], tuple] = {}
    gone_ids: set[tuple[int, str]] = set()
    groups: dict[tuple[int, int, str], tuple] = {}
    group_types: list[tuple[int, str, int]] = []
    for ch in changes:
        for row in ch.persons:
            persons[row[1]] = row
            gone_persons.pop(row[1], None)
        for team_id, uuid in ch.deleted_persons:
            persons.pop(uuid, None)
            gone_persons[uuid] = team_id
        for row in ch.distinct_ids:
            key = (row[0], row[1])
            distinct_ids[key] = row
            gone_ids.discard(key)
        for key in ch.deleted_distinct_ids:
            distinct_ids.pop(key, None)
            overrides.pop(key, None)
            gone_ids.add(key)
        for row in ch.overrides:
            overrides[(row[0], row[1])] = row
        for row in ch.groups:
            groups[(row[0], row[1], row[2])] = row
        group_types.extend(ch.group_types)

    out = IdentityInputs()
    if persons or gone_persons:
        live = [(*row, False, seq, False) for row in persons.values()]
        dead = [(team_id, uuid, 0, 0, None, False, 0, False, seq, True)
                for uuid, team_id in gone_persons.items()]  # fmt: skip
        out.persons = _table(PERSONS_IN, live + dead)
    if distinct_ids or gone_ids:
        live = [(*row, False, seq, False) for row in distinct_ids.values()]
        dead = [(team_id, did, None, 0, False, seq, True) for team_id, did in gone_ids]
        out.distinct_ids = _table(DISTINCT_IDS_IN, live + dead)
    if overrides or gone_ids:
        live = [(*row, seq, False) for row in overrides.values()]
        dead = [(team_id, did, None, 0, seq, True) for team_id, did in gone_ids]
        out.overrides = _table(OVERRIDES_IN, live + dead)
    if groups:
        out.groups = _table(GROUPS_IN, list(groups.values()))
    if group_types:
        out.group_types = _table(GROUP_TYPES_IN, group_types)
    return out


def _table(schema: pa.Schema, rows: list[tuple[Any, ...]]) -> pa.Table:
    columns = list(zip(*rows))
    return pa.Table.from_arrays(
        [pa.array(col, field.type) for col, field in zip(columns, schema)], schema=schema
    )
