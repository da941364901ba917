"""The person identity state shared by several processes, in PostgreSQL.

One transaction per admitted batch (:meth:`SharedIdentityStore.run`):

1. an advisory transaction lock per distinct id the batch touches, per group a
   ``$groupidentify`` changes, and on the team's group types when the batch names a type
   they lack (so two processes never give two types one index), taken in one statement in
   one global order (by the lock key), so keys that have no row yet are covered too;
2. the persons those ids belong to (and the persons their derived uuids name) read
   ``FOR UPDATE``, ordered by uuid. Every change to a person's set of distinct ids happens
   under that person's row lock, so once it is held the person's ids are stable;
3. the requested ids' owners read again: if a concurrent merge moved one between steps 1
   and 2 (it moved the whole person, holding only the person's lock), the attempt is rolled
   back and retried;
4. the caller decides and :meth:`IdentityTransaction.write` stores the outcome, and numbers
   the persons and distinct ids it changed in ``identity_changes`` (the change feed other
   processes follow, :mod:`hedgerow.store.meta.identity_feed`). It takes one global lock
   before numbering them, held to the commit, so the numbers follow commit order: a reader
   that sees a number has seen every smaller one that will ever exist. Under that lock it
   also deletes the keys' older feed rows (one row per key).

Deadlocks (``40P01``), serialization failures (``40001``) and a lost race for a new row are
retried with a short random backoff; the locks make them rare. A lock awaited longer than
``lock_timeout_ms`` (another process stopped while holding it) fails the batch instead.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.engine import Connection

from hedgerow.store.errors import StoreUnavailable
from hedgerow.store.events.schema import GROUP_SLOTS
from hedgerow.store.meta.db import MetaDB
from hedgerow.store.meta.tables import (
    identity_changes,
    identity_distinct_ids,
    identity_group_types,
    identity_groups,
    identity_overrides,
    identity_persons,
)

T = TypeVar("T")
INT_ID_SEQUENCE = sa.Sequence("identity_person_int_id")
ATTEMPTS = 20
LOCK_TIMEOUT_MS = 5_000
"""How long a transaction waits for a lock before the batch is refused (a 503 to retry)."""
_RETRY_CODES = {"40P01", "40001", "23505"}  # deadlock, serialization failure, lost insert race
FEED_LOCK = -0x4845444745524F57
"""The advisory lock that orders the change feed (a constant outside the hash keys' use)."""
PERSON_CHANGE, DISTINCT_ID_CHANGE, GROUP_CHANGE, GROUP_TYPE_CHANGE = 0, 1, 2, 3
"""``identity_changes.kind``: the key is a person uuid, a distinct id (and its override), a
group (``"<type index>:<group key>"``) or a group type's name."""
PERSON_COLUMNS = (identity_persons.c.team_id, identity_persons.c.uuid, identity_persons.c.int_id,
                   identity_persons.c.created_at_us, identity_persons.c.properties,
                   identity_persons.c.is_identified, identity_persons.c.version)  # fmt: skip


GROUP_COLUMNS = (identity_groups.c.team_id, identity_groups.c.group_type_index, identity_groups.c.group_key,
                 identity_groups.c.properties, identity_groups.c.created_at_us,
                 identity_groups.c.updated_at_us)  # fmt: skip


class Moved(Exception):
    """A distinct id changed owner while its person's lock was awaited: the attempt is run
    again from the start (callers raise it too when what they read first has changed)."""


@dataclass(slots=True)
class IdentityRows:
    """Persons (``(team, uuid, int_id, created_us, props_json, identified, version)``) and
    distinct ids (``(team, distinct_id, person_uuid, version)``), in the in-memory index's shapes."""

    persons: list[tuple]
    distinct_ids: list[tuple[int, str, str, int]]
    groups: list[tuple] = field(default_factory=list)
    """``(team, type_index, key, props_json, created_us, updated_us)``"""
    group_types: list[tuple[int, str, int]] = field(default_factory=list)


def lock_key(team_id: int, distinct_id: str) -> int:
    """A signed 64-bit advisory lock key for one team's distinct id."""
    digest = hashlib.blake2b(f"{team_id}:{distinct_id}".encode("utf-8", "surrogatepass"),
                             digest_size=8).digest()  # fmt: skip
    return int.from_bytes(digest, "big", signed=True)


def group_lock_key(team_id: int, group_type: str, group_key: str) -> int:
    """The advisory lock key of one group (by type name: its index may not exist yet)."""
    return lock_key(team_id, f"\x00group\x00{group_type}\x00{group_key}")


def group_types_lock_key(team_id: int) -> int:
    """The advisory lock key of a team's group types (held to add one)."""
    return lock_key(team_id, "\x00group-types")


class IdentityTransaction:
    """The statements of one identity transaction (see the module docstring for the order)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.numbers: list[int] = []
        """The feed numbers :meth:`write` gave this transaction's changes."""

    def lock_and_load(self, team_id: int, distinct_ids: Iterable[str],
                      extra_uuids: Iterable[str] = (), group_types: Iterable[str] = (),
                      groups: Iterable[tuple[str, str]] = ()) -> IdentityRows:  # fmt: skip
        """Lock ``distinct_ids`` and their persons (and persons named by ``extra_uuids``),
        and the ``groups`` (``(type name, key)``) a batch changes; return those persons with
        all their distinct ids, those groups and, when the batch names group types
        (``group_types`` or those of ``groups``), all the team's group types."""
        ids = sorted(set(distinct_ids))
        groups = sorted(set(groups))
        named = set(group_types) | {group_type for group_type, _ in groups}
        wanted = {lock_key(team_id, d) for d in ids}
        wanted |= {group_lock_key(team_id, t, k) for t, k in groups}
        if named:
            known = self._group_types(team_id)
            if not named <= known.keys() and len(known) < GROUP_SLOTS:  # a type may be added
                wanted.add(group_types_lock_key(team_id))
        keys = sorted(wanted)
        if keys:
            # One statement; a function scan over the array yields (and locks) in its order.
            key = sa.func.unnest(sa.bindparam("keys", keys, type_=ARRAY(sa.BigInteger))).column_valued("k")
            self.conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))
        owners = self._owners(team_id, ids)
        uuids = sorted(set(owners.values()) | set(extra_uuids))
        persons = self.conn.execute(
            sa.select(*PERSON_COLUMNS)
            .where(identity_persons.c.team_id == team_id, identity_persons.c.uuid.in_(uuids))
            .order_by(identity_persons.c.uuid)
            .with_for_update()
        ).all() if uuids else []
        if self._owners(team_id, ids) != owners:
            raise Moved()
        owned = sorted(set(owners.values()))
        rows = self.conn.execute(
            sa.select(identity_distinct_ids.c.team_id, identity_distinct_ids.c.distinct_id,
                      identity_distinct_ids.c.person_uuid, identity_distinct_ids.c.version)
            .where(identity_distinct_ids.c.team_id == team_id,
                   identity_distinct_ids.c.person_uuid.in_(owned))
            .order_by(identity_distinct_ids.c.distinct_id)
        ).all() if owned else []  # fmt: skip
        types = self._group_types(team_id) if named else {}
        group_rows = self._groups(team_id, [(types[t], k) for t, k in groups if t in types])
        return IdentityRows([tuple(p) for p in persons], [tuple(r) for r in rows], group_rows,
                            [(team_id, name, index) for name, index in types.items()])  # fmt: skip

    def group_types_by_name(self, team_id: int) -> dict[str, int]:
        """The team's group types: name -> index."""
        return self._group_types(team_id)

    def _group_types(self, team_id: int) -> dict[str, int]:
        return dict(self.conn.execute(
            sa.select(identity_group_types.c.group_type, identity_group_types.c.group_type_index)
            .where(identity_group_types.c.team_id == team_id)
        ).all())  # fmt: skip

    def _groups(self, team_id: int, keys: list[tuple[int, str]]) -> list[tuple]:
        if not keys:
            return []
        g = identity_groups.c
        return [tuple(row) for row in self.conn.execute(
            sa.select(*GROUP_COLUMNS)
            .where(g.team_id == team_id, sa.tuple_(g.group_type_index, g.group_key).in_(keys))
        ).all()]  # fmt: skip

    def person_ids(self, team_id: int, person_uuid: str) -> list[str]:
        """A person's distinct ids (unlocked: lock them with :meth:`lock_and_load`)."""
        return list(self.conn.execute(
            sa.select(identity_distinct_ids.c.distinct_id)
            .where(identity_distinct_ids.c.team_id == team_id,
                   identity_distinct_ids.c.person_uuid == person_uuid)
        ).scalars())  # fmt: skip

    def _owners(self, team_id: int, ids: list[str]) -> dict[str, str]:
        if not ids:
            return {}
        rows = self.conn.execute(
            sa.select(identity_distinct_ids.c.distinct_id, identity_distinct_ids.c.person_uuid)
            .where(identity_distinct_ids.c.team_id == team_id,
                   identity_distinct_ids.c.distinct_id.in_(ids))
        ).all()  # fmt: skip
        return {d: p for d, p in rows}

    def next_int_ids(self, count: int) -> list[int]:
        """``count`` new integer person ids from the shared sequence."""
        if count <= 0:
            return []
        return list(self.conn.execute(
            sa.select(INT_ID_SEQUENCE.next_value()).select_from(sa.func.generate_series(1, count))
        ).scalars())  # fmt: skip

    def write(self, persons: list[tuple], deleted_persons: list[tuple[int, str]],
              distinct_ids: list[tuple[int, str, str, int]],
              deleted_distinct_ids: list[tuple[int, str]],
              overrides: list[tuple[int, str, str, int]], groups: list[tuple] = (),
              group_types: list[tuple[int, str, int]] = ()) -> int | None:  # fmt: skip
        """Store a batch's outcome (the rows of a sealed change log); the highest feed number
        it was given (None when nothing changed): every row written is the state after it."""
        if group_types:
            # A plain insert: under the team's group-types lock it cannot conflict (and if it
            # did, the unique index refuses it and the attempt is run again).
            self.conn.execute(sa.insert(identity_group_types), [
                {"team_id": t, "group_type": name, "group_type_index": i} for t, name, i in group_types])  # fmt: skip
        if groups:
            names = [c.name for c in GROUP_COLUMNS]
            stmt = insert(identity_groups).values([dict(zip(names, g)) for g in groups])
            self.conn.execute(stmt.on_conflict_do_update(
                index_elements=names[:3], set_={n: stmt.excluded[n] for n in names[3:]}))  # fmt: skip
        if persons:
            names = [c.name for c in PERSON_COLUMNS]
            stmt = insert(identity_persons).values([dict(zip(names, p)) for p in persons])
            self.conn.execute(stmt.on_conflict_do_update(
                index_elements=["team_id", "uuid"],
                set_={n: stmt.excluded[n] for n in names[2:]},
            ))  # fmt: skip
        for team_id, uuid in deleted_persons:
            self.conn.execute(sa.delete(identity_persons).where(
                identity_persons.c.team_id == team_id, identity_persons.c.uuid == uuid))  # fmt: skip
        for table, rows in ((identity_distinct_ids, distinct_ids), (identity_overrides, overrides)):
            if rows:
                stmt = insert(table).values([
                    {"team_id": t, "distinct_id": d, "person_uuid": p, "version": v}
                    for t, d, p, v in rows
                ])
                self.conn.execute(stmt.on_conflict_do_update(
                    index_elements=["team_id", "distinct_id"],
                    set_={"person_uuid": stmt.excluded.person_uuid, "version": stmt.excluded.version},
                ))  # fmt: skip
        for team_id, distinct_id in deleted_distinct_ids:
            for table in (identity_distinct_ids, identity_overrides):
                self.conn.execute(sa.delete(table).where(
                    table.c.team_id == team_id, table.c.distinct_id == distinct_id))  # fmt: skip
        changed = {(p[0], PERSON_CHANGE, p[1]) for p in [*persons, *deleted_persons]}
        changed |= {(r[0], DISTINCT_ID_CHANGE, r[1])
                    for r in [*distinct_ids, *deleted_distinct_ids, *overrides]}  # fmt: skip
        changed |= {(g[0], GROUP_CHANGE, f"{g[1]}:{g[2]}") for g in groups}
        changed |= {(t, GROUP_TYPE_CHANGE, name) for t, name, _ in group_types}
        return self._log(sorted(changed))

    def _log(self, changed: list[tuple[int, int, str]]) -> int | None:
        """Number the changed keys in the feed, under the lock that makes the numbers follow
        commit order (held until this transaction ends: keep it the last statement), and
        delete the keys' older rows: a reader after any position still finds every key that
        changed since (by its newest number), and the feed holds one row per key rather than
        one per change. The numbers given are kept in :attr:`numbers`; the highest returned."""
        if not changed:
            return None
        self.conn.execute(sa.select(sa.func.pg_advisory_xact_lock(FEED_LOCK)))
        c = identity_changes.c
        # Under the feed lock: deleters never wait on each other's row locks (no deadlock),
        # and no older row of a key survives a concurrent writer of the same key.
        self.conn.execute(sa.delete(identity_changes).where(
            sa.tuple_(c.team_id, c.kind, c.key).in_(changed)))  # fmt: skip
        seqs = self.conn.execute(sa.insert(identity_changes).returning(c.seq), [
            {"team_id": t, "kind": k, "key": key} for t, k, key in changed])  # fmt: skip
        self.numbers = sorted(seqs.scalars())
        return self.numbers[-1]


class SharedIdentityStore:
    """Runs identity transactions on the metadata database (PostgreSQL only)."""

    def __init__(self, db: MetaDB, attempts: int = ATTEMPTS, lock_timeout_ms: int = LOCK_TIMEOUT_MS) -> None:
        if db.engine.dialect.name != "postgresql":
            raise ValueError("shared persons need PostgreSQL as the metadata database")
        self.db = db
        self.attempts = attempts
        self.lock_timeout_ms = lock_timeout_ms

    def run(self, work: Callable[[IdentityTransaction], T]) -> T:
        """``work`` in one transaction, run again from the start on a deadlock, a
        serialization failure or a concurrent move; :class:`StoreUnavailable` when it keeps
        failing or the database does. ``work`` must have no effect outside the transaction."""
        for attempt in range(self.attempts):
            try:
                with self.db.engine.begin() as conn:
                    # A process that stopped while holding locks must not stall every other.
                    conn.execute(sa.select(sa.func.set_config("lock_timeout", f"{self.lock_timeout_ms}ms", True)))
                    return work(IdentityTransaction(conn))
            except Moved:
                pass
            except exc.DBAPIError as error:
                code = getattr(error.orig, "sqlstate", None)
                if code not in _RETRY_CODES:
                    raise StoreUnavailable("shared identity store error") from error
            except exc.SQLAlchemyError as error:
                raise StoreUnavailable("shared identity store error") from error
            time.sleep(random.uniform(0, 0.005 * (attempt + 1)))
        raise StoreUnavailable("shared identity transaction kept conflicting")

    def person(self, team_id: int, distinct_id: str) -> tuple | None:
        """The person row a distinct id belongs to now (unlocked read), or None."""
        return self._first(
            sa.select(*PERSON_COLUMNS)
            .join(identity_distinct_ids, sa.and_(
                identity_distinct_ids.c.team_id == identity_persons.c.team_id,
                identity_distinct_ids.c.person_uuid == identity_persons.c.uuid))
            .where(identity_distinct_ids.c.team_id == team_id,
                   identity_distinct_ids.c.distinct_id == distinct_id)
        )  # fmt: skip

    def group(self, team_id: int, type_index: int, key: str) -> tuple | None:
        """A group's row (:data:`GROUP_COLUMNS`), or None."""
        g = identity_groups.c
        return self._first(sa.select(*GROUP_COLUMNS).where(
            g.team_id == team_id, g.group_type_index == type_index, g.group_key == key))  # fmt: skip

    def group_types(self, team_id: int) -> dict[int, str]:
        """A team's group types by index."""
        try:
            with self.db.engine.connect() as conn:
                return {index: name for name, index in IdentityTransaction(conn).group_types_by_name(team_id).items()}
        except exc.SQLAlchemyError as error:
            raise StoreUnavailable("shared identity store error") from error

    def _first(self, statement: sa.Select) -> tuple | None:
        try:
            with self.db.engine.connect() as conn:
                row = conn.execute(statement).first()
        except exc.SQLAlchemyError as error:
            raise StoreUnavailable("shared identity store error") from error
        return tuple(row) if row is not None else None
