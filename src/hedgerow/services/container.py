"""The running server's parts, opened once at start-up and shared by every request."""

from __future__ import annotations

from dataclasses import dataclass

from hedgerow.auth.audit import AuditLog
from hedgerow.auth.ratelimit import RateLimiter
from hedgerow.config import Settings
from hedgerow.services.cohorts import CohortService
from hedgerow.services.feature_flags import FlagService
from hedgerow.services.flag_definitions import FlagDefinitions
from hedgerow.services.keys import KeyService
from hedgerow.services.tenancy import ProjectService
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
    flag_definitions: FlagDefinitions

    @classmethod
    def open(cls, settings: Settings) -> "Services":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        meta = MetaDB(settings.database_url)
        meta.migrate()
        return cls(
            settings=settings,
            meta=meta,
            audit=AuditLog(meta),
            limiter=RateLimiter(settings),
            projects=ProjectService(meta),
            keys=KeyService(meta),
            flags=FlagService(meta),
            cohorts=CohortService(meta),
            flag_definitions=FlagDefinitions(meta),
        )

    def close(self) -> None:
        self.meta.dispose()
