"""The audit table: one row per authorization decision."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hedgerow import clock
from hedgerow.store.meta.tables import audit_log


@dataclass(frozen=True)
class AuditEntry:
    created_at: datetime
    via: str
    key_id: str | None
    key_label: str | None
    user_id: int | None
    method: str
    path: str
    object: str | None
    action: str | None
    project_id: int | None
    organization_id: str | None
    decision: str
    reason: str
    status: int | None
    sentence: str
    id: int | None = None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = clock.iso(self.created_at)
        return data


def insert_many(conn: Connection, entries: list[AuditEntry]) -> None:
    rows = [asdict(entry) for entry in entries]
    for row in rows:
        row.pop("id")
    conn.execute(audit_log.insert(), rows)


def newest(
    conn: Connection, limit: int = 50, key_id: str | None = None, decision: str | None = None
) -> list[AuditEntry]:
    query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if key_id is not None:
        query = query.where(audit_log.c.key_id == key_id)
    if decision is not None:
        query = query.where(audit_log.c.decision == decision)
    entries = []
    for row in conn.execute(query):
        data = dict(row._mapping)
        data["created_at"] = clock.as_utc(data["created_at"])
        entries.append(AuditEntry(**data))
    return entries
