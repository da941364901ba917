"""Delivery work shared by several processes on one metadata database.

Each delivering process is a *worker* with a random id that it marks alive every few
seconds. Work (a delivery owed, an outbox row to match) is *claimed* by writing the
worker's id on it, in a transaction that skips rows another transaction holds locked
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL), and only where the row is still free when the
claim is written (so SQLite, whose reads run outside its write lock, holds too). A claim holds
while its worker is alive; the claims of a worker not seen for ``stale`` are free for any
other, so a killed process's work is picked up. Outbox cursors of events stores that keep
their own outbox (DuckDB) are kept here per store, so processes with a store each do not
share one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from hedgerow import clock
from hedgerow.store.meta.hog_functions import Delivery
from hedgerow.store.meta.tables import delivery_cursors, delivery_outbox, delivery_workers, hog_function_deliveries


@dataclass(frozen=True)
class OutboxRow:
    """An event still to be matched against its project's destinations."""

    id: int
    team_id: int
    uuid: str
    created_at: datetime
    queued_at: datetime


# -- workers ---------------------------------------------------------------------------------


def alive(conn: Connection, worker: str, now: datetime) -> None:
    """Mark ``worker`` alive at ``now``."""
    if conn.execute(delivery_workers.update().where(delivery_workers.c.id == worker).values(seen_at=now)).rowcount == 0:
        conn.execute(delivery_workers.insert().values(id=worker, seen_at=now))


def retire(conn: Connection, worker: str) -> None:
    """A worker stopping cleanly: its claims are released at once, and it is forgotten."""
    conn.execute(hog_function_deliveries.update().where(hog_function_deliveries.c.claimed_by == worker)
                 .values(claimed_by=None))  # fmt: skip
    conn.execute(delivery_outbox.update().where(delivery_outbox.c.claimed_by == worker).values(claimed_by=None))
    conn.execute(delivery_workers.delete().where(delivery_workers.c.id == worker))


def _free(column: sa.Column, worker: str, stale_before: datetime) -> sa.ColumnElement[bool]:
    """Rows ``worker`` may take: unclaimed, its own, or held by a worker not seen since ``stale_before``."""
    live = sa.select(delivery_workers.c.id).where(delivery_workers.c.seen_at >= stale_before)
    return sa.or_(column.is_(None), column == worker, column.not_in(live.scalar_subquery()))


def _locked(conn: Connection, query: sa.Select) -> sa.Select:
    return query.with_for_update(skip_locked=True) if conn.dialect.name == "postgresql" else query


def _take(conn: Connection, table: sa.Table, ids: list[int], worker: str, stale_before: datetime) -> set[int]:
    """Claim the rows ``ids`` that are still free; the ids taken. (On PostgreSQL the locks
    already hold them; on SQLite the select ran outside the write lock, so another worker
    may have claimed some since.)"""
    if not ids:
        return set()
    free = _free(table.c.claimed_by, worker, stale_before)
    conn.execute(table.update().where(table.c.id.in_(ids), free).values(claimed_by=worker))
    return set(conn.execute(sa.select(table.c.id).where(table.c.id.in_(ids), table.c.claimed_by == worker)).scalars())


# -- deliveries owed -------------------------------------------------------------------------


def claim_due(conn: Connection, function_id: str, worker: str, now: datetime, limit: int,
              stale: timedelta) -> list[Delivery]:  # fmt: skip
    """Claim for ``worker`` the function's deliveries that are due and free, oldest first
    (call in a write transaction)."""
    t = hog_function_deliveries
    query = (
        sa.select(t.c.id, t.c.hog_function_id, t.c.project_id, t.c.event_uuid, t.c.request, t.c.attempts)
        .where(t.c.hog_function_id == function_id, t.c.next_attempt_at <= now, _free(t.c.claimed_by, worker, now - stale))
        .order_by(t.c.id)
        .limit(limit)
    )  # fmt: skip
    due = [Delivery(*row) for row in conn.execute(_locked(conn, query))]
    taken = _take(conn, t, [d.id for d in due], worker, now - stale)
    return [d for d in due if d.id in taken]


# -- the outbox of stores without transactions -----------------------------------------------


def _insert(conn: Connection, table: sa.Table) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def queue(conn: Connection, store_id: str, rows: Sequence[tuple[int, str, datetime]], now: datetime) -> None:
    """Queue (team id, event uuid, created at) rows; an event already queued stays queued once."""
    if not rows:
        return
    statement = _insert(conn, delivery_outbox).on_conflict_do_nothing(index_elements=["store_id", "team_id", "uuid"])
    conn.execute(statement, [
        {"store_id": store_id, "team_id": team, "uuid": uuid, "created_at": created, "queued_at": now,
         "check_after": now, "claimed_by": None} for team, uuid, created in rows
    ])  # fmt: skip


def claim_outbox(conn: Connection, store_id: str, worker: str, now: datetime, limit: int,
                 stale: timedelta) -> list[OutboxRow]:  # fmt: skip
    """Claim for ``worker`` up to ``limit`` free rows of the store's outbox, in queue order
    (call in a write transaction)."""
    t = delivery_outbox
    query = (
        sa.select(t.c.id, t.c.team_id, t.c.uuid, t.c.created_at, t.c.queued_at)
        .where(t.c.store_id == store_id, t.c.check_after <= now, _free(t.c.claimed_by, worker, now - stale))
        .order_by(t.c.id)
        .limit(limit)
    )
    rows = [OutboxRow(i, team, uuid, clock.as_utc(created), clock.as_utc(queued))
            for i, team, uuid, created, queued in conn.execute(_locked(conn, query))]  # fmt: skip
    taken = _take(conn, t, [r.id for r in rows], worker, now - stale)
    return [r for r in rows if r.id in taken]


def postpone(conn: Connection, ids: Sequence[int], until: datetime) -> None:
    """Release rows whose events are not stored yet, to be looked at again from ``until``."""
    if ids:
        t = delivery_outbox
        conn.execute(t.update().where(t.c.id.in_(list(ids))).values(claimed_by=None, check_after=until))


def unqueue(conn: Connection, ids: Sequence[int]) -> None:
    """Drop matched (or abandoned) outbox rows."""
    if ids:
        conn.execute(delivery_outbox.delete().where(delivery_outbox.c.id.in_(list(ids))))


# -- cursors over stores' own outboxes -------------------------------------------------------


def cursor(conn: Connection, store_id: str) -> int | None:
    """The last id of ``store_id``'s own outbox matched, or None before its first match."""
    c = delivery_cursors
    return conn.execute(sa.select(c.c.outbox_id).where(c.c.store_id == store_id)).scalar()


def set_cursor(conn: Connection, store_id: str, outbox_id: int) -> None:
    c = delivery_cursors
    if conn.execute(c.update().where(c.c.store_id == store_id).values(outbox_id=outbox_id)).rowcount == 0:
        conn.execute(c.insert().values(store_id=store_id, outbox_id=outbox_id))
