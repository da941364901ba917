"""Event and property definitions: recorded from ingestion, listed by the API.

Ingestion reports what is new on its hot path, so :class:`MetaDefinitionSink` only queues the
changes; a background thread writes them to the metadata database in one transaction every
half second (and on close).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timezone

from hedgerow import clock
from hedgerow.ingest.definitions import (
    DefinitionChanges,
    EventDefinition,
    PropertyDefinition,
)
from hedgerow.store.meta import definitions as store
from hedgerow.store.meta.db import MetaDB
from hedgerow.store.meta.definitions import EventDefinitionRow, PropertyDefinitionRow

log = logging.getLogger(__name__)

KINDS = {"event": 1, "person": 2, "group": 3}
FLUSH_EVERY_SECONDS = 0.5


class MetaDefinitionSink:
    """A :class:`~hedgerow.ingest.definitions.DefinitionSink` over the metadata database."""

    def __init__(self, db: MetaDB) -> None:
        self._db = db
        self._pending = DefinitionChanges()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="definitions-writer", daemon=True)
        self._thread.start()

    def write(self, changes: DefinitionChanges) -> None:
        with self._lock:
            self._pending.events.extend(changes.events)
            self._pending.properties.extend(changes.properties)
            self._pending.event_properties.extend(changes.event_properties)

    def known(self) -> tuple[list[PropertyDefinition], list[EventDefinition]]:
        """What the store already holds, to seed ingestion's tracker at start."""
        with self._db.read() as conn:
            props = store.properties(conn)
            events = store.events(conn)
        return (
            [PropertyDefinition(p.project_id, p.name, p.type, p.property_type, p.group_type_index) for p in props],
            [
                EventDefinition(e.project_id, e.name, int((e.last_seen_at or e.created_at).timestamp() * 1e6))
                for e in events
            ],
        )

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, DefinitionChanges()
        if not pending:
            return
        now = clock.now()
        latest: dict[tuple[int, str], datetime] = {}
        for ev in pending.events:
            seen = datetime.fromtimestamp(ev.last_seen_at_us / 1e6, tz=timezone.utc)
            key = (ev.team_id, ev.name)
            latest[key] = max(latest.get(key, seen), seen)
        props = {
            (p.team_id, p.name, p.kind, p.group_type_index): p.property_type for p in pending.properties
        }
        try:
            with self._db.write() as conn:
                store.upsert_events(conn, [(t, n, seen) for (t, n), seen in latest.items()])
                store.upsert_properties(conn, [(t, n, k, g, ptype) for (t, n, k, g), ptype in props.items()], now)
                store.add_event_properties(conn, sorted(set(pending.event_properties)))
        except Exception:  # noqa: BLE001 - definitions are advisory; never break ingestion
            log.exception("could not record event/property definitions")

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(FLUSH_EVERY_SECONDS)
            self._wake.clear()
            self.flush()

    def close(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout=5)
        self.flush()


@dataclass(frozen=True)
class PropertyQuery:
    type: str = "event"
    group_type_index: int | None = None
    search: str | None = None
    event_names: tuple[str, ...] = ()
    properties: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    is_numerical: bool | None = None
    filter_by_event_names: bool = False


class DefinitionsService:
    """Reads for ``event_definitions`` and ``property_definitions``."""

    def __init__(self, db: MetaDB) -> None:
        self._db = db

    def events(self, project_id: int, search: str | None = None) -> list[EventDefinitionRow]:
        with self._db.read() as conn:
            rows = store.events(conn, project_id)
        if search:
            rows = [r for r in rows if search.lower() in r.name.lower()]
        return rows

    def properties(self, project_id: int, query: PropertyQuery) -> list[PropertyDefinitionRow]:
        kind = KINDS.get(query.type, 1)
        with self._db.read() as conn:
            rows = store.properties(conn, project_id)
            seen_on = store.properties_of_events(conn, project_id, query.event_names) if query.event_names else None
        rows = [r for r in rows if r.type == kind]
        if kind == 3 and query.group_type_index is not None:
            rows = [r for r in rows if r.group_type_index == query.group_type_index]
        if query.search:
            rows = [r for r in rows if query.search.lower() in r.name.lower()]
        if query.properties:
            rows = [r for r in rows if r.name in query.properties]
        if query.excluded:
            rows = [r for r in rows if r.name not in query.excluded]
        if query.is_numerical is not None:
            rows = [r for r in rows if r.is_numerical == query.is_numerical]
        if seen_on is not None and query.filter_by_event_names:
            rows = [r for r in rows if r.name in seen_on]
        return rows

    def seen_on(self, project_id: int, event_names: tuple[str, ...]) -> set[str]:
        with self._db.read() as conn:
            return store.properties_of_events(conn, project_id, event_names)

    def property_types(self, project_id: int) -> dict[tuple[str, str], str]:
        with self._db.read() as conn:
            return store.property_types(conn, project_id)
