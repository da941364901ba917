"""The running server's parts, opened once at start-up and shared by every request."""

from __future__ import annotations

from dataclasses import dataclass

from hedgerow.auth.audit import AuditLog
from hedgerow.auth.ratelimit import RateLimiter
from hedgerow.config import Settings
from hedgerow.services.cohorts import CohortService
from hedgerow.services.feature_flags import FlagService
from hedgerow.services.keys import KeyService
from hedgerow.services.query import QueryService
from hedgerow.services.tenancy import ProjectService
from hedgerow.store.events.database import EventsDatabase
from hedgerow.store.meta.db import MetaDB


@dataclass
class Services:
    """Stores and use cases, wired together from :class:`Settings`."""

    settings: Settings
    meta: MetaDB
    audit: AuditLog
    limiter: RateLimiter
    projects: ProjectService
    keys: KeyService
    flags: FlagService
    cohorts: CohortService
    events: EventsDatabase | None
    query: QueryService

    @classmethod
    def open(cls, settings: Settings, *, events: bool = True) -> "Services":
        """Open the stores. ``events=False`` leaves the events database closed: CLI commands
        run next to a serving process, and DuckDB allows one process per file."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        meta = MetaDB(settings.database_url)
        meta.migrate()
        events_db = EventsDatabase.from_url(settings.events_url) if events else None
        return cls(
            settings=settings,
            meta=meta,
            audit=AuditLog(meta),
            limiter=RateLimiter(settings),
            projects=ProjectService(meta),
            keys=KeyService(meta),
            flags=FlagService(meta),
            cohorts=CohortService(meta),
            events=events_db,
            query=QueryService(meta, events_db),
        )

    def close(self) -> None:
        self.query.close()
        if self.events is not None:
            self.events.close()
        self.meta.dispose()
