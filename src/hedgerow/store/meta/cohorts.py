"""Cohort rows (definitions and calculation state; membership lives in the events store)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hedgerow import clock
from hedgerow.store.meta.tables import cohorts


@dataclass(frozen=True)
class CohortRecord:
    id: int
    project_id: int
    name: str | None
    description: str
    groups: list[Any]
    filters: dict[str, Any] | None
    query: dict[str, Any] | None
    deleted: bool
    is_static: bool
    cohort_type: str | None
    is_calculating: bool
    last_calculation: datetime | None
    errors_calculating: int
    last_error_at: datetime | None
    count: int | None
    version: int | None
    pending_version: int | None
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime


_COLUMNS = [c.name for c in cohorts.columns]
_TIMES = ("last_calculation", "last_error_at", "created_at", "updated_at")


def _record(row: Any) -> CohortRecord:
    data = {name: getattr(row, name) for name in _COLUMNS}
    data["groups"] = list(data["groups"] or [])
    for name in _TIMES:
        if data[name] is not None:
            data[name] = clock.as_utc(data[name])
    return CohortRecord(**data)


def insert(conn: Connection, values: dict[str, Any]) -> CohortRecord:
    cohort_id = conn.execute(cohorts.insert().values(**values)).inserted_primary_key[0]
    found = get(conn, values["project_id"], cohort_id)
    assert found is not None
    return found


def get(conn: Connection, project_id: int, cohort_id: int) -> CohortRecord | None:
    row = conn.execute(
        sa.select(cohorts).where(cohorts.c.project_id == project_id, cohorts.c.id == cohort_id)
    ).first()
    return _record(row) if row else None


def in_project(conn: Connection, project_id: int, include_deleted: bool = False) -> list[CohortRecord]:
    query = sa.select(cohorts).where(cohorts.c.project_id == project_id)
    if not include_deleted:
        query = query.where(cohorts.c.deleted.is_(False))
    return [_record(row) for row in conn.execute(query.order_by(cohorts.c.created_at.desc(), cohorts.c.id.desc()))]


def update(conn: Connection, cohort_id: int, values: dict[str, Any]) -> None:
    conn.execute(cohorts.update().where(cohorts.c.id == cohort_id).values(**values))


def latest_change(conn: Connection, project_id: int) -> tuple[Any, int]:
    row = conn.execute(
        sa.select(sa.func.max(cohorts.c.updated_at), sa.func.count()).where(cohorts.c.project_id == project_id)
    ).first()
    return (row[0], row[1]) if row else (None, 0)


def ids_by_name(conn: Connection, project_id: int) -> dict[str, int]:
    """Names of the project's live cohorts -> ids (the oldest wins when names repeat)."""
    rows = conn.execute(
        sa.select(cohorts.c.id, cohorts.c.name)
        .where(cohorts.c.project_id == project_id, cohorts.c.deleted.is_(False), cohorts.c.name.is_not(None))
        .order_by(cohorts.c.id.desc())
    )
    return {row.name: row.id for row in rows}
