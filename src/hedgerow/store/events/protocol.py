"""What ingestion, queries and the Persons API need from an events engine (DuckDB or ClickHouse)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol, Sequence

import numpy as np

from hedgerow.errors import Internal
from hedgerow.ingest.persons import SealedChanges


@dataclass(slots=True)
class WriteBatch:
    """Everything one group commit writes, in one transaction.

    ``events`` are row tuples, values in :data:`~hedgerow.store.events.schema.EVENT_COLUMNS`
    order (the store converts the whole group to its own format at once); ``maybe`` lists
    the indexes of rows whose uuid may already be stored (the writer skips those that are);
    ``changes`` are the identity changes in admission order.
    """

    events: list[tuple] = field(default_factory=list)
    maybe: list[int] = field(default_factory=list)
    changes: list[SealedChanges] = field(default_factory=list)
    delete_events: list[tuple[int, Sequence[str], Sequence[str]]] = field(default_factory=list)
    """(team_id, person uuids, distinct ids) whose events are deleted."""


@dataclass(slots=True)
class IdentityRows:
    persons: Iterable[tuple]
    distinct_ids: Iterable[tuple[int, str, str, int]]
    groups: Iterable[tuple]
    group_types: Iterable[tuple[int, str, int]]
    next_int_id: int


@dataclass(slots=True)
class PersonFilter:
    """The Persons API's list filters."""

    distinct_id: str | None = None
    email: str | None = None
    search: str | None = None
    properties: list[dict[str, Any]] = field(default_factory=list)
    limit: int = 100
    offset: int = 0


class Interruptions(Protocol):
    """Where a running query registers what stops it (a query job's ``Running``)."""

    cancelled: Any

    def attach(self, handle: Any) -> None:
        """Register ``handle`` (anything with ``interrupt()``) while the query runs."""

    def detach(self) -> None: ...


class EventStore(Protocol):
    engine: str
    """The HogQL dialect its queries are compiled for: ``duckdb`` or ``clickhouse``."""
    store_id: str
    """This store's identity, kept in it: processes sharing a store share its delivery outbox."""
    outbox_teams: frozenset[int]
    """Projects whose events are queued for delivery (set by delivery; see
    :mod:`hedgerow.store.delivery_outbox`)."""

    def execute(self, compiled: Any, timeout_seconds: float = 60.0, *,
                running: Interruptions | None = None) -> Any:  # fmt: skip
        """Run a compiled HogQL query; a ``QueryResult``."""

    def explain(self, compiled: Any) -> list[str]:
        """The engine's plan for a compiled query, one line per item."""

    def commit(self, batch: WriteBatch) -> set[int]:
        """Write ``batch`` in one durable transaction; return the indexes of ``maybe`` rows
        that were skipped because their uuid was already stored."""

    def maintain(self) -> None:
        """Housekeeping the writer thread runs between commits (e.g. folding logs)."""

    def load_identity(self) -> IdentityRows:
        """Persons, distinct ids, groups and group types, to fill the in-memory index."""

    def load_uuid_columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every stored event's team id and uuid (high, low 64 bits), for dedup."""

    def list_persons(self, team_id: int, filters: PersonFilter) -> tuple[list[dict[str, Any]], int]:
        """A page of persons (newest first) and the total count."""

    def get_person(self, team_id: int, *, uuid: str | None = None,
                   int_id: int | None = None) -> dict[str, Any] | None:  # fmt: skip
        """One person by uuid or integer id."""

    def close(self) -> None: ...


class EventStoreError(Internal):
    """The events engine failed; the driver's exception is chained as ``__cause__``."""
