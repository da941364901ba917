"""The delivery outbox: events of projects with destinations, still to be matched.

One protocol, two homes, chosen by what the events engine can promise:

- :class:`EventsOutbox` (DuckDB): the outbox is a table of the events file, written in the
  same transaction as the events; a cursor per events file, in the metadata database,
  moves in the same transaction as the deliveries it queued. One process owns a file, so
  nothing is claimed.
- :class:`MetaOutbox` (ClickHouse, embedded or a server): no transaction spans the event
  insert and anything else, so the outbox lives in the metadata database, written before
  the events are inserted and keyed by event (a retried batch is queued once). Rows are
  claimed by a delivery worker (see :mod:`hedgerow.store.meta.delivery_claims`), so
  processes sharing a ClickHouse database and a PostgreSQL one match each event once, and
  a dead process's claims pass to the others. A row whose event is not stored yet (its
  insert is still running, or crashed before the client's retry) is looked at again a
  moment later, and dropped once it is too old to be retried.

Both are keyed by the events store's ``store_id``, so a process never takes rows of an
events store it cannot read.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.engine import Connection

from hedgerow import clock
from hedgerow.store.meta import delivery_claims as claims
from hedgerow.store.meta.db import MetaDB

log = logging.getLogger(__name__)

RECHECK = timedelta(seconds=0.5)
"""How soon a queued event that is not stored yet is looked at again."""
ABANDON_AFTER = timedelta(hours=1)
"""A queued event still not stored after this was never acknowledged, nor retried: dropped."""


@dataclass
class OutboxBatch:
    """Claimed outbox rows whose events are stored: (team id, event uuid, created at)."""

    rows: list[tuple[int, str, datetime]]
    token: Any = None
    """What settling it needs (the last id read, or the claimed row ids)."""


class Outbox(Protocol):
    def watch(self, teams: frozenset[int]) -> None:
        """Queue the events of ``teams`` from the next commit on (the projects with destinations)."""

    def claim(self, limit: int) -> OutboxBatch | None:
        """Up to ``limit`` rows to match, or None when there is nothing to do now."""

    def settle(self, conn: Connection, batch: OutboxBatch) -> None:
        """Mark ``batch`` matched, in the metadata transaction that queues its deliveries."""

    def settled(self, batch: OutboxBatch) -> None:
        """After that transaction committed."""


class EventsOutbox:
    """The outbox table of a DuckDB events file (see module docstring)."""

    def __init__(self, meta: MetaDB, events: Any) -> None:
        self.meta, self.events = meta, events

    def watch(self, teams: frozenset[int]) -> None:
        self.events.outbox_teams = teams

    def claim(self, limit: int) -> OutboxBatch | None:
        with self.meta.read() as conn:
            after = claims.cursor(conn, self.events.store_id) or 0
        rows = self.events.read_outbox(after, limit)
        if not rows:
            return None
        return OutboxBatch([(team, uuid, created) for _, team, uuid, created in rows], token=rows[-1][0])

    def settle(self, conn: Connection, batch: OutboxBatch) -> None:
        claims.set_cursor(conn, self.events.store_id, batch.token)

    def settled(self, batch: OutboxBatch) -> None:
        self.events.prune_outbox(batch.token)


class MetaOutbox:
    """The outbox in the metadata database, for ClickHouse events (see module docstring)."""

    def __init__(self, meta: MetaDB, events: Any, worker: str, stale: timedelta) -> None:
        self.meta, self.events, self.worker, self.stale = meta, events, worker, stale
        events.outbox = self.queue

    def watch(self, teams: frozenset[int]) -> None:
        self.events.outbox_teams = teams

    def queue(self, rows: list[tuple[int, str, datetime]]) -> None:
        """Called by the events store before it inserts these events."""
        with self.meta.write() as conn:
            claims.queue(conn, self.events.store_id, rows, clock.now())

    def claim(self, limit: int) -> OutboxBatch | None:
        now = clock.now()
        with self.meta.write() as conn:
            rows = claims.claim_outbox(conn, self.events.store_id, self.worker, now, limit, self.stale)
        if not rows:
            return None
        by_team: dict[int, list[claims.OutboxRow]] = defaultdict(list)
        for row in rows:
            by_team[row.team_id].append(row)
        ready, waiting, abandoned = [], [], []
        for team_id, queued in by_team.items():
            stored = self.events.stored_uuids(team_id, [row.uuid for row in queued])
            for row in queued:
                if row.uuid in stored:
                    ready.append(row)
                elif now - row.queued_at > ABANDON_AFTER:
                    abandoned.append(row.id)
                else:
                    waiting.append(row.id)
        if waiting or abandoned:
            if abandoned:
                log.warning("dropped %d queued events never stored in %s", len(abandoned), ABANDON_AFTER)
            with self.meta.write() as conn:
                claims.postpone(conn, waiting, now + RECHECK)
                claims.unqueue(conn, abandoned)
        if not ready:
            return None
        return OutboxBatch([(r.team_id, r.uuid, r.created_at) for r in ready], token=[r.id for r in ready])

    def settle(self, conn: Connection, batch: OutboxBatch) -> None:
        claims.unqueue(conn, batch.token)

    def settled(self, batch: OutboxBatch) -> None:
        """Nothing left to do: the rows went with the deliveries' transaction."""


def open_outbox(meta: MetaDB, events: Any, worker: str, stale: timedelta) -> Outbox:
    """The outbox ``events`` can hold: its own (DuckDB), else one in the metadata database."""
    if events.engine == "duckdb":
        return EventsOutbox(meta, events)
    return MetaOutbox(meta, events, worker, stale)
