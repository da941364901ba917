"""A group's identity changes as Arrow inputs for the identity log and the group tables.

:class:`~hedgerow.ingest.persons.SealedChanges` arrive in admission order; here they collapse
to the last state of each key (a later change wins, a deletion cancels an earlier upsert and
an upsert after a deletion revives the key) and become rows of
:data:`~hedgerow.store.events.schema.IDENTITY_LOG` (persons, distinct ids and overrides in one
table, told apart by ``kind``; deletions have ``_deleted`` set; ``_seq`` is the commit's
sequence number, or with ``shared_versions`` the shared feed's number of the change that
wrote the row) and of the group tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from hedgerow.ingest.persons import SealedChanges
from hedgerow.store.events.schema import PERSON_DISTINCT_ID_OVERRIDES, PERSON_DISTINCT_IDS, PERSONS

_TS = pa.timestamp("us")

IDENTITY_LOG_IN = pa.schema([
    ("kind", pa.int8()), ("team_id", pa.int32()), ("key", pa.string()), ("person_id", pa.string()),
    ("int_id", pa.int64()), ("created_at", _TS), ("properties", pa.string()),
    ("is_identified", pa.bool_()), ("version", pa.int64()), ("_seq", pa.int64()),
    ("_deleted", pa.bool_()),
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

    log: pa.Table | None = None
    groups: pa.Table | None = None
    group_types: pa.Table | None = None
    group_versions: list[int] | None = None
    """With ``shared_versions``: each group row's version (the groups table has no column)."""


def identity_inputs(changes: list[SealedChanges], seq: int, *, shared_versions: bool = False) -> IdentityInputs:
    """Collapse ``changes`` (admission order) to the rows one commit writes. With
    ``shared_versions`` a row is numbered by its change's :attr:`SealedChanges.version`
    (``seq`` when it has none), as tables several processes write must be."""
    persons: dict[str, tuple] = {}
    gone_persons: dict[str, tuple[int, int]] = {}
    distinct_ids: dict[tuple[int, str], tuple] = {}
    overrides: dict[tuple[int, str], tuple] = {}
    gone_ids: dict[tuple[int, str], int] = {}
    groups: dict[tuple[int, int, str], tuple] = {}
    group_types: list[tuple[int, str, int]] = []
    for ch in changes:
        n = ch.version if shared_versions and ch.version is not None else seq
        for row in ch.persons:
            persons[row[1]] = (row, n)
            gone_persons.pop(row[1], None)
        for team_id, uuid in ch.deleted_persons:
            persons.pop(uuid, None)
            gone_persons[uuid] = (team_id, n)
        for row in ch.distinct_ids:
            key = (row[0], row[1])
            distinct_ids[key] = (row, n)
            gone_ids.pop(key, None)
        for key in ch.deleted_distinct_ids:
            distinct_ids.pop(key, None)
            overrides.pop(key, None)
            gone_ids[key] = n
        for row in ch.overrides:
            overrides[(row[0], row[1])] = (row, n)
        for row in ch.groups:
            groups[(row[0], row[1], row[2])] = (row, n)
        group_types.extend(ch.group_types)

    out = IdentityInputs()
    p, d, o = PERSONS.kind, PERSON_DISTINCT_IDS.kind, PERSON_DISTINCT_ID_OVERRIDES.kind
    log = [(p, t, u, u, i, c, props, ident, v, n, False)
           for (t, u, i, c, props, ident, v), n in persons.values()]  # fmt: skip
    log += [(p, t, u, u, None, None, None, None, None, n, True) for u, (t, n) in gone_persons.items()]
    log += [(d, t, did, person, None, None, None, None, v, n, False)
            for (t, did, person, v), n in distinct_ids.values()]  # fmt: skip
    log += [(o, t, did, person, None, None, None, None, v, n, False)
            for (t, did, person, v), n in overrides.values()]  # fmt: skip
    for (t, did), n in gone_ids.items():
        log.append((d, t, did, None, None, None, None, None, None, n, True))
        log.append((o, t, did, None, None, None, None, None, None, n, True))
    if log:
        out.log = _table(IDENTITY_LOG_IN, log)
    if groups:
        out.groups = _table(GROUPS_IN, [row for row, _ in groups.values()])
        if shared_versions:
            out.group_versions = [n for _, n in groups.values()]
    if group_types:
        out.group_types = _table(GROUP_TYPES_IN, group_types)
    return out


def _table(schema: pa.Schema, rows: list[tuple[Any, ...]]) -> pa.Table:
    columns = list(zip(*rows))
    return pa.Table.from_arrays(
        [pa.array(col, field.type) for col, field in zip(columns, schema)], schema=schema
    )
