"""PostHog's count limits on dashboards (its defaults for ``analytics.max_dashboards_per_team``
and ``analytics.max_insights_per_dashboard``), checked inside the writing transaction."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from hedgerow.errors import ValidationError
from hedgerow.store.meta import dashboards as store

MAX_DASHBOARDS_PER_PROJECT = 500
MAX_TILES_PER_DASHBOARD = 100


def check_dashboard_room(conn: Connection, project_id: int) -> None:
    if store.count_live(conn, project_id) >= MAX_DASHBOARDS_PER_PROJECT:
        raise ValidationError(f"This project already has the maximum of {MAX_DASHBOARDS_PER_PROJECT} dashboards.",
                              code="limit_exceeded")  # fmt: skip


def check_tile_room(conn: Connection, dashboard_id: int, attr: str = "dashboards") -> None:
    if store.count_live_tiles(conn, dashboard_id) >= MAX_TILES_PER_DASHBOARD:
        raise ValidationError(f"This dashboard already has the maximum of {MAX_TILES_PER_DASHBOARD} tiles.",
                              code="limit_exceeded", attr=attr)  # fmt: skip
