"""Saved insight rows: one project's, looked up by id or short id, soft-deleted in place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hedgerow import clock
from hedgerow.store.meta import like
from hedgerow.ids import parse_id
from hedgerow.store.meta.tables import dashboard_tiles, dashboards, insights


@dataclass(frozen=True)
class InsightRecord:
    id: int
    project_id: int
    short_id: str
    name: str | None
    derived_name: str | None
    description: str | None
    query: dict[str, Any] | None
    filters: dict[str, Any]
    order: int | None
    deleted: bool
    saved: bool
    favorited: bool
    is_sample: bool
    tags: list[str]
    created_by_id: int | None
    last_modified_by_id: int | None
    created_at: datetime
    updated_at: datetime
    last_modified_at: datetime


@dataclass(frozen=True)
class InsightQuery:
    """The list filters PostHog's insight viewset reads (``None``: not filtered on)."""

    saved: bool | None = None
    favorited: bool = False
    search: str | None = None
    short_id: str | None = None
    created_by: tuple[int, ...] | None = None
    dashboards: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()
    source_kind: str | None = None
    order: str | None = None


ORDERS = ("name", "created_at", "last_modified_at", "updated_at", "order", "id")


_COLUMNS = [c.name for c in insights.columns]


def _record(row: Any) -> InsightRecord:
    values = {name: getattr(row, name) for name in _COLUMNS}
    for name in ("created_at", "updated_at", "last_modified_at"):
        values[name] = clock.as_utc(values[name])
    values["tags"] = list(values["tags"] or [])
    values["filters"] = dict(values["filters"] or {})
    return InsightRecord(**values)


def insert(conn: Connection, values: dict[str, Any]) -> InsightRecord:
    new_id = conn.execute(insights.insert().values(**values)).inserted_primary_key[0]
    found = get(conn, values["project_id"], new_id, include_deleted=True)
    assert found is not None
    return found


def get(conn: Connection, project_id: int, key: int | str, *, include_deleted: bool = False) -> InsightRecord | None:
    """By numeric id first, then by short id (PostHog's lookup order)."""
    base = sa.select(insights).where(insights.c.project_id == project_id)
    if not include_deleted:
        base = base.where(insights.c.deleted.is_(False))
    number = parse_id(key)
    if number is not None:
        row = conn.execute(base.where(insights.c.id == number)).first()
        if row is not None:
            return _record(row)
    row = conn.execute(base.where(insights.c.short_id == str(key))).first()
    return _record(row) if row else None


def by_ids(conn: Connection, project_id: int, ids: list[int]) -> dict[int, InsightRecord]:
    if not ids:
        return {}
    query = sa.select(insights).where(insights.c.project_id == project_id, insights.c.id.in_(ids))
    return {row.id: _record(row) for row in conn.execute(query)}


def short_id_taken(conn: Connection, project_id: int, short_id: str) -> bool:
    query = sa.select(insights.c.id).where(insights.c.project_id == project_id, insights.c.short_id == short_id)
    return conn.execute(query).first() is not None


def search(conn: Connection, project_id: int, q: InsightQuery) -> list[InsightRecord]:
    query = sa.select(insights).where(insights.c.project_id == project_id, insights.c.deleted.is_(False))
    if q.saved is True:
        on_dashboard = (
            sa.select(dashboard_tiles.c.id)
            .join(dashboards, dashboards.c.id == dashboard_tiles.c.dashboard_id)
            .where(dashboard_tiles.c.insight_id == insights.c.id, dashboard_tiles.c.deleted.is_(False),
                   dashboards.c.deleted.is_(False))  # fmt: skip
        )
        query = query.where(sa.or_(insights.c.saved.is_(True), sa.exists(on_dashboard)))
    elif q.saved is False:
        query = query.where(insights.c.saved.is_(False))
    if q.favorited:
        query = query.where(insights.c.favorited.is_(True))
    if q.short_id is not None:
        query = query.where(insights.c.short_id == q.short_id)
    if q.created_by:
        query = query.where(insights.c.created_by_id.in_(q.created_by))
    for dashboard_id in q.dashboards:
        held = sa.select(dashboard_tiles.c.insight_id).where(
            dashboard_tiles.c.dashboard_id == dashboard_id, dashboard_tiles.c.deleted.is_(False)
        )
        query = query.where(insights.c.id.in_(held))
    if q.search:
        pattern = like.contains(q.search)
        query = query.where(sa.or_(*(column.ilike(pattern, escape=like.ESCAPE) for column in
                                     (insights.c.name, insights.c.derived_name, insights.c.description))))  # fmt: skip
    if q.order and q.order.lstrip("-") in ORDERS:
        column = insights.c[q.order.lstrip("-")]
        query = query.order_by(column.desc() if q.order.startswith("-") else column.asc(), insights.c.id.desc())
    else:
        query = query.order_by(insights.c.order.asc().nulls_last(), insights.c.id.desc())
    found = [_record(row) for row in conn.execute(query)]
    if q.tags:
        found = [i for i in found if set(i.tags) & set(q.tags)]
    if q.source_kind is not None:
        found = [i for i in found if _source_kind(i.query) == q.source_kind]
    return found


def _source_kind(query: dict[str, Any] | None) -> str | None:
    if not isinstance(query, dict):
        return None
    source = query.get("source")
    return source.get("kind") if isinstance(source, dict) else query.get("kind")


def update(conn: Connection, insight_id: int, values: dict[str, Any]) -> None:
    conn.execute(insights.update().where(insights.c.id == insight_id).values(**values))
