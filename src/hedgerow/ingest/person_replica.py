"""Scale-out mode: this process's copy of the shared persons, brought up to date before reads.

Queries (HogQL's ``persons`` and ``person_distinct_ids``, person joins, cohort calculation)
and the Persons API read persons from the events store. With ``--persons shared`` the truth
is in PostgreSQL and other processes change it, so every read first catches this process's
events store up with the shared change feed (:class:`~hedgerow.store.meta.identity_feed.IdentityFeed`):
an answer given by any process includes every identity change committed anywhere before the
question was asked. The changes this process wrote itself are skipped (its events store
already holds them: :mod:`hedgerow.ingest.own_changes`). On a shared ClickHouse every
process writes the same person rows, versioned by the feed's numbers, so the order in
which processes insert them does not matter.
"""

from __future__ import annotations

import threading
from typing import Any

from hedgerow.ingest.persons import SealedChanges
from hedgerow.ingest.pipeline import Ingestor
from hedgerow.store.events.protocol import EventStore, Interruptions, PersonFilter
from hedgerow.store.meta.identity_feed import IdentityFeed

COMMIT_TIMEOUT_SECONDS = 60.0


class PersonReplica:
    """Follows the shared change feed into the events store this process's ingestor writes."""

    def __init__(self, feed: IdentityFeed, ingestor: Ingestor) -> None:
        self.feed = feed
        self.ingestor = ingestor
        self.applied = 0
        """The last feed number committed to this process's events store."""
        self._lock = threading.Lock()

    def catch_up(self) -> None:
        """Apply every change the feed holds now (blocking: call off the event loop)."""
        own = self.ingestor.own_changes
        with self._lock:
            while True:
                read: list[int] = []

                def newer(after: int = self.applied) -> SealedChanges:
                    last, changes = self.feed.read(after, skip=own)
                    read.append(last)
                    return changes

                waiter = self.ingestor.apply_shared_changes(newer)
                if waiter is not None:
                    waiter.result(COMMIT_TIMEOUT_SECONDS)  # type: ignore[call-arg]
                if read[0] == self.applied:
                    return
                self.applied = read[0]
                own.forget_through(self.applied)


class CaughtUpEvents:
    """An :class:`EventStore` whose reads of persons first catch the replica up; everything
    else goes straight to the store it wraps."""

    def __init__(self, store: EventStore, replica: PersonReplica) -> None:
        self.store = store
        self.replica = replica
        self.engine = store.engine

    def execute(self, compiled: Any, timeout_seconds: float = 60.0, *,
                running: Interruptions | None = None) -> Any:  # fmt: skip
        self.replica.catch_up()
        return self.store.execute(compiled, timeout_seconds, running=running)

    def list_persons(self, team_id: int, filters: PersonFilter) -> tuple[list[dict[str, Any]], int]:
        self.replica.catch_up()
        return self.store.list_persons(team_id, filters)

    def get_person(self, team_id: int, *, uuid: str | None = None,
                   int_id: int | None = None) -> dict[str, Any] | None:  # fmt: skip
        self.replica.catch_up()
        return self.store.get_person(team_id, uuid=uuid, int_id=int_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def __setattr__(self, name: str, value: Any) -> None:
        # What others set on the store (delivery's outbox hooks: ``outbox_teams``, ``outbox``)
        # must reach the store that commits, not stop at this wrapper.
        if name in _OWN:
            object.__setattr__(self, name, value)
        else:
            setattr(self.store, name, value)


_OWN = frozenset({"store", "replica", "engine"})
