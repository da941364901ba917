"""Reading the shared identity state's change feed (``identity_changes``, PostgreSQL).

Each identity transaction numbers the persons and distinct ids it changed, in commit order
(see :mod:`hedgerow.store.meta.identity`). A process follows the feed from the last number
it applied: :meth:`IdentityFeed.read` returns the *current* rows of the keys changed since,
as identity changes its events store applies like its own. Current rows rather than the
changes themselves, so applying a page twice, or a key's changes out of order, still ends
at the shared truth. The feed holds one row per key (a writer deletes the key's older rows),
so it grows with the keys ever changed, not with the traffic; a page's rows carry its last
number as their version (each row is that state or newer), which every process agrees on.
"""

from __future__ import annotations

from collections.abc import Container, Iterable

import sqlalchemy as sa
from sqlalchemy import exc

from hedgerow.ingest.persons import SealedChanges
from hedgerow.store.errors import StoreUnavailable
from hedgerow.store.meta.db import MetaDB
from hedgerow.store.meta.identity import (
    DISTINCT_ID_CHANGE,
    GROUP_CHANGE,
    GROUP_COLUMNS,
    GROUP_TYPE_CHANGE,
    PERSON_CHANGE,
    PERSON_COLUMNS,
)
from hedgerow.store.meta.tables import (
    identity_changes,
    identity_distinct_ids,
    identity_group_types,
    identity_groups,
    identity_overrides,
    identity_persons,
)

PAGE = 2_000
"""Changed keys read per call (a new process replays the feed a page at a time)."""


class IdentityFeed:
    """The change feed of a :class:`~hedgerow.store.meta.identity.SharedIdentityStore`'s database."""

    def __init__(self, db: MetaDB, page: int = PAGE) -> None:
        self.db = db
        self.page = page

    def read(self, after: int, skip: Container[int] = ()) -> tuple[int, SealedChanges]:
        """The current rows of the keys changed after number ``after`` (at most a page of
        them), and the last number read (``after`` when nothing changed). Keys whose rows in
        the page all have numbers in ``skip`` (what the reader wrote itself) are left out;
        ``version`` is set whenever the page was not empty."""
        try:
            with self.db.engine.connect() as conn:
                rows = conn.execute(
                    sa.select(identity_changes.c.seq, identity_changes.c.team_id,
                              identity_changes.c.kind, identity_changes.c.key)
                    .where(identity_changes.c.seq > after)
                    .order_by(identity_changes.c.seq)
                    .limit(self.page)
                ).all()  # fmt: skip
                if not rows:
                    return after, SealedChanges()
                last = rows[-1].seq
                # One row per key (older ones are deleted as a key changes again), so a
                # skipped number is a key whose newest state the reader already holds.
                rows = [r for r in rows if r.seq not in skip]
                persons = {(r.team_id, r.key) for r in rows if r.kind == PERSON_CHANGE}
                ids = {(r.team_id, r.key) for r in rows if r.kind == DISTINCT_ID_CHANGE}
                changes = _current(conn, persons, ids)
                groups = {(r.team_id, *_group_key(r.key)) for r in rows if r.kind == GROUP_CHANGE}
                types = {(r.team_id, r.key) for r in rows if r.kind == GROUP_TYPE_CHANGE}
                changes.groups = _rows(conn, GROUP_COLUMNS, (identity_groups.c.group_type_index,
                                                             identity_groups.c.group_key), groups)  # fmt: skip
                changes.group_types = _rows(conn, (identity_group_types.c.team_id, identity_group_types.c.group_type,
                                                   identity_group_types.c.group_type_index),
                                            (identity_group_types.c.group_type,), types)  # fmt: skip
                # Read after the page, so every row is the state after its last number or newer.
                changes.version = last
                return last, changes
        except exc.SQLAlchemyError as error:
            raise StoreUnavailable("shared identity store error") from error


def _group_key(key: str) -> tuple[int, str]:
    index, _, group_key = key.partition(":")
    return int(index), group_key


def _current(conn: sa.Connection, persons: set[tuple[int, str]], ids: set[tuple[int, str]]) -> SealedChanges:
    """These persons and distinct ids as they are now: rows for those that exist, deletions
    for those that do not."""
    found_persons = _rows(conn, PERSON_COLUMNS, (identity_persons.c.uuid,), persons)
    id_columns = (identity_distinct_ids.c.team_id, identity_distinct_ids.c.distinct_id,
                  identity_distinct_ids.c.person_uuid, identity_distinct_ids.c.version)  # fmt: skip
    found_ids = _rows(conn, id_columns, (identity_distinct_ids.c.distinct_id,), ids)
    override_columns = (identity_overrides.c.team_id, identity_overrides.c.distinct_id,
                        identity_overrides.c.person_uuid, identity_overrides.c.version)  # fmt: skip
    found_overrides = _rows(conn, override_columns, (identity_overrides.c.distinct_id,), ids)
    present_persons = {(p[0], p[1]) for p in found_persons}
    present_ids = {(d[0], d[1]) for d in found_ids}
    return SealedChanges(
        persons=found_persons,
        deleted_persons=sorted(persons - present_persons),
        distinct_ids=found_ids,
        deleted_distinct_ids=sorted(ids - present_ids),
        overrides=found_overrides,
    )


def _rows(conn: sa.Connection, columns: Iterable[sa.ColumnElement], key: tuple[sa.ColumnElement, ...],
          wanted: set[tuple]) -> list[tuple]:  # fmt: skip
    """The rows of ``columns`` (the team's first) whose ``(team, *key)`` is in ``wanted``."""
    if not wanted:
        return []
    columns = tuple(columns)
    found = conn.execute(
        sa.select(*columns).where(sa.tuple_(columns[0], *key).in_(sorted(wanted)))
    ).all()  # fmt: skip
    return [tuple(row) for row in found]
