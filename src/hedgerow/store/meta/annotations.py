"""Annotation records: a project's own, and its organization's (shown in every project)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hedgerow import clock
from hedgerow.store.meta.tables import annotations


@dataclass(frozen=True)
class AnnotationRecord:
    id: int | None
    organization_id: str
    project_id: int | None
    content: str | None
    date_marker: datetime | None
    creation_type: str
    scope: str
    dashboard_item: int | None
    dashboard_id: int | None
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime
    deleted: bool


@dataclass(frozen=True)
class AnnotationQuery:
    scope: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    search: str | None = None


def _record(row: Any) -> AnnotationRecord:
    values = dict(row._mapping)
    for name in ("date_marker", "created_at", "updated_at"):
        values[name] = clock.as_utc(values[name]) if values[name] else None
    return AnnotationRecord(**values)


def _visible(organization_id: str, project_id: int) -> Any:
    return sa.and_(
        annotations.c.deleted.is_(False),
        sa.or_(
            annotations.c.project_id == project_id,
            sa.and_(annotations.c.scope == "organization", annotations.c.organization_id == organization_id),
        ),
    )


def insert(conn: Connection, annotation: AnnotationRecord) -> AnnotationRecord:
    values = asdict(annotation)
    values.pop("id")
    new_id = conn.execute(annotations.insert().values(**values)).inserted_primary_key[0]
    return replace(annotation, id=new_id)


def get(conn: Connection, organization_id: str, project_id: int, annotation_id: int) -> AnnotationRecord | None:
    query = sa.select(annotations).where(annotations.c.id == annotation_id, _visible(organization_id, project_id))
    row = conn.execute(query).first()
    return _record(row) if row else None


def search(conn: Connection, organization_id: str, project_id: int, q: AnnotationQuery) -> list[AnnotationRecord]:
    query = sa.select(annotations).where(_visible(organization_id, project_id))
    if q.scope is not None:
        query = query.where(annotations.c.scope == q.scope)
    if q.date_from is not None:
        query = query.where(annotations.c.date_marker >= q.date_from)
    if q.date_to is not None:
        query = query.where(annotations.c.date_marker <= q.date_to)
    if q.search:
        escaped = q.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(annotations.c.content.ilike(f"%{escaped}%", escape="\\"))
    query = query.order_by(annotations.c.date_marker.desc(), annotations.c.id.desc())
    return [_record(row) for row in conn.execute(query)]


def save(conn: Connection, annotation: AnnotationRecord) -> None:
    values = asdict(annotation)
    conn.execute(annotations.update().where(annotations.c.id == values.pop("id")).values(**values))
