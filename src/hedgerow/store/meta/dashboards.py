"""Dashboard rows, their tiles (an insight or a text card each) and text cards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hedgerow import clock
from hedgerow.store.meta import like
from hedgerow.store.meta.tables import dashboard_texts, dashboard_tiles, dashboards


@dataclass(frozen=True)
class DashboardRecord:
    id: int
    project_id: int
    name: str | None
    description: str
    pinned: bool
    deleted: bool
    creation_mode: str
    restriction_level: int
    filters: dict[str, Any]
    variables: dict[str, Any] | None
    breakdown_colors: Any
    data_color_theme_id: int | None
    tags: list[str]
    created_by_id: int | None
    created_at: datetime
    last_accessed_at: datetime | None


@dataclass(frozen=True)
class TileRecord:
    id: int
    dashboard_id: int
    insight_id: int | None
    text_id: int | None
    layouts: dict[str, Any]
    color: str | None
    filters_overrides: dict[str, Any] | None
    show_description: bool | None
    transparent_background: bool | None
    deleted: bool


@dataclass(frozen=True)
class TextRecord:
    id: int
    project_id: int
    body: str | None
    created_by_id: int | None
    last_modified_by_id: int | None
    last_modified_at: datetime


def _dashboard(row: Any) -> DashboardRecord:
    values = dict(row._mapping)
    values["created_at"] = clock.as_utc(values["created_at"])
    if values["last_accessed_at"] is not None:
        values["last_accessed_at"] = clock.as_utc(values["last_accessed_at"])
    values["tags"] = list(values["tags"] or [])
    values["filters"] = dict(values["filters"] or {})
    return DashboardRecord(**values)


def _tile(row: Any) -> TileRecord:
    values = dict(row._mapping)
    values["layouts"] = dict(values["layouts"] or {})
    return TileRecord(**values)


def _text(row: Any) -> TextRecord:
    values = dict(row._mapping)
    values["last_modified_at"] = clock.as_utc(values["last_modified_at"])
    return TextRecord(**values)


# -- dashboards ------------------------------------------------------------------------------


def insert(conn: Connection, values: dict[str, Any]) -> DashboardRecord:
    new_id = conn.execute(dashboards.insert().values(**values)).inserted_primary_key[0]
    found = get(conn, values["project_id"], new_id, include_deleted=True)
    assert found is not None
    return found


def get(conn: Connection, project_id: int, dashboard_id: int, *, include_deleted: bool = False) -> DashboardRecord | None:
    """The project's dashboard (None for ids no row can have)."""
    if not 0 < dashboard_id < 2**63:
        return None
    query = sa.select(dashboards).where(dashboards.c.project_id == project_id, dashboards.c.id == dashboard_id)
    if not include_deleted:
        query = query.where(dashboards.c.deleted.is_(False))
    row = conn.execute(query).first()
    return _dashboard(row) if row else None


def by_ids(conn: Connection, project_id: int, ids: list[int]) -> dict[int, DashboardRecord]:
    if not ids:
        return {}
    query = sa.select(dashboards).where(dashboards.c.project_id == project_id, dashboards.c.id.in_(ids))
    return {row.id: _dashboard(row) for row in conn.execute(query)}


@dataclass(frozen=True)
class DashboardQuery:
    """The list filters PostHog's dashboard viewset reads (``None``: not filtered on)."""

    search: str | None = None
    pinned: bool | None = None
    tag: str | None = None
    creation_mode: str | None = None
    exclude_generated: bool = False


GENERATED_PREFIX = "Generated Dashboard"


def search(conn: Connection, project_id: int, q: DashboardQuery) -> list[DashboardRecord]:
    """Live dashboards, pinned first, then by name (PostHog's ``-pinned, name``)."""
    query = sa.select(dashboards).where(dashboards.c.project_id == project_id, dashboards.c.deleted.is_(False))
    if q.search:
        pattern = like.contains(q.search)
        query = query.where(sa.or_(dashboards.c.name.ilike(pattern, escape=like.ESCAPE),
                                   dashboards.c.description.ilike(pattern, escape=like.ESCAPE)))  # fmt: skip
    if q.pinned is not None:
        query = query.where(dashboards.c.pinned.is_(q.pinned))
    if q.creation_mode is not None:
        query = query.where(dashboards.c.creation_mode == q.creation_mode)
    if q.exclude_generated:
        query = query.where(sa.not_(sa.func.coalesce(dashboards.c.name, "").startswith(GENERATED_PREFIX)))
    query = query.order_by(dashboards.c.pinned.desc(), dashboards.c.name.asc(), dashboards.c.id.asc())
    found = [_dashboard(row) for row in conn.execute(query)]
    return [d for d in found if q.tag in d.tags] if q.tag else found


def count_live(conn: Connection, project_id: int) -> int:
    query = sa.select(sa.func.count()).where(dashboards.c.project_id == project_id, dashboards.c.deleted.is_(False))
    return int(conn.execute(query).scalar_one())


def count_live_tiles(conn: Connection, dashboard_id: int) -> int:
    query = sa.select(sa.func.count()).where(dashboard_tiles.c.dashboard_id == dashboard_id,
                                             dashboard_tiles.c.deleted.is_(False))  # fmt: skip
    return int(conn.execute(query).scalar_one())


def update(conn: Connection, dashboard_id: int, values: dict[str, Any]) -> None:
    conn.execute(dashboards.update().where(dashboards.c.id == dashboard_id).values(**values))


# -- tiles -----------------------------------------------------------------------------------


def insert_tile(conn: Connection, values: dict[str, Any]) -> TileRecord:
    defaults = {"layouts": {}, "deleted": False}
    new_id = conn.execute(dashboard_tiles.insert().values(**{**defaults, **values})).inserted_primary_key[0]
    row = conn.execute(sa.select(dashboard_tiles).where(dashboard_tiles.c.id == new_id)).first()
    return _tile(row)


def tiles_of_dashboards(conn: Connection, dashboard_ids: list[int], *, include_deleted: bool = False) -> list[TileRecord]:
    if not dashboard_ids:
        return []
    query = sa.select(dashboard_tiles).where(dashboard_tiles.c.dashboard_id.in_(dashboard_ids))
    if not include_deleted:
        query = query.where(dashboard_tiles.c.deleted.is_(False))
    return [_tile(row) for row in conn.execute(query.order_by(dashboard_tiles.c.id))]


def tiles_of_insights(conn: Connection, insight_ids: list[int]) -> list[TileRecord]:
    """Live tiles on live dashboards holding these insights."""
    if not insight_ids:
        return []
    query = (
        sa.select(dashboard_tiles)
        .join(dashboards, dashboards.c.id == dashboard_tiles.c.dashboard_id)
        .where(dashboard_tiles.c.insight_id.in_(insight_ids), dashboard_tiles.c.deleted.is_(False),
               dashboards.c.deleted.is_(False))  # fmt: skip
        .order_by(dashboard_tiles.c.id)
    )
    return [_tile(row) for row in conn.execute(query)]


def tile(conn: Connection, dashboard_id: int, tile_id: int) -> TileRecord | None:
    query = sa.select(dashboard_tiles).where(dashboard_tiles.c.dashboard_id == dashboard_id,
                                             dashboard_tiles.c.id == tile_id)  # fmt: skip
    row = conn.execute(query).first()
    return _tile(row) if row else None


def insight_tile(conn: Connection, dashboard_id: int, insight_id: int) -> TileRecord | None:
    """The tile (deleted or not) holding this insight on this dashboard."""
    query = sa.select(dashboard_tiles).where(dashboard_tiles.c.dashboard_id == dashboard_id,
                                             dashboard_tiles.c.insight_id == insight_id)  # fmt: skip
    row = conn.execute(query.order_by(dashboard_tiles.c.id)).first()
    return _tile(row) if row else None


def update_tile(conn: Connection, tile_id: int, values: dict[str, Any]) -> None:
    conn.execute(dashboard_tiles.update().where(dashboard_tiles.c.id == tile_id).values(**values))


def set_tiles_deleted(conn: Connection, deleted: bool, *, dashboard_id: int | None = None,
                      insight_id: int | None = None) -> None:  # fmt: skip
    """Soft-delete (or restore) every tile of a dashboard, or of an insight."""
    query = dashboard_tiles.update().values(deleted=deleted)
    if dashboard_id is not None:
        query = query.where(dashboard_tiles.c.dashboard_id == dashboard_id)
    if insight_id is not None:
        query = query.where(dashboard_tiles.c.insight_id == insight_id)
    conn.execute(query)


# -- text cards ------------------------------------------------------------------------------


def insert_text(conn: Connection, values: dict[str, Any]) -> TextRecord:
    new_id = conn.execute(dashboard_texts.insert().values(**values)).inserted_primary_key[0]
    row = conn.execute(sa.select(dashboard_texts).where(dashboard_texts.c.id == new_id)).first()
    return _text(row)


def texts(conn: Connection, project_id: int, ids: list[int]) -> dict[int, TextRecord]:
    if not ids:
        return {}
    query = sa.select(dashboard_texts).where(dashboard_texts.c.project_id == project_id,
                                             dashboard_texts.c.id.in_(ids))  # fmt: skip
    return {row.id: _text(row) for row in conn.execute(query)}


def update_text(conn: Connection, text_id: int, values: dict[str, Any]) -> None:
    conn.execute(dashboard_texts.update().where(dashboard_texts.c.id == text_id).values(**values))
