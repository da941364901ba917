"""Dashboards: list, create (empty or a duplicate), retrieve with tiles, update (tiles, text
cards, layouts), soft delete (``/api/projects/:id/dashboards/``, and the environments alias)."""

from __future__ import annotations

from typing import Any, Callable

from pydantic import AliasChoices, ConfigDict, Field

from hedgerow import clock
from hedgerow.services.catalogue import Catalogue, Context, Listed, Output, Tool
from hedgerow.services.catalogue.paging import Paged, shown
from hedgerow.services.catalogue.tool_data import ToolData
from hedgerow.services.dashboards import DashboardQuery, DashboardRecord, TextRecord, TileRecord
from hedgerow.services.operations.insights import (
    Insight,
    ResultOptions,
    TileBasic,
    checked_update,
    computed,
    flag_param,
    json_param,
)
from hedgerow.services.operations.organizations import UserBasic, user_lookup

operations = Catalogue()

Users = Callable[[int | None], Any]


class DashboardBasic(Output):
    """A dashboard as PostHog's list (basic) serializer shows it."""

    id: int
    name: str | None
    description: str
    pinned: bool
    created_at: str | None
    created_by: UserBasic | None
    last_accessed_at: str | None
    last_viewed_at: None = None
    folder: None = None
    is_shared: bool = False
    deleted: bool
    creation_mode: str
    tags: list[str]
    restriction_level: int
    effective_restriction_level: int
    effective_privilege_level: int = 37
    user_access_level: str = "editor"
    access_control_version: str
    last_refresh: None = None
    team_id: int
    search_match_type: None = None

    @classmethod
    def of(cls, dashboard: DashboardRecord, users: Users) -> "DashboardBasic":
        return cls(
            id=dashboard.id,
            name=dashboard.name,
            description=dashboard.description,
            pinned=dashboard.pinned,
            created_at=clock.iso(dashboard.created_at),
            created_by=UserBasic.of(users(dashboard.created_by_id)),
            last_accessed_at=clock.iso(dashboard.last_accessed_at),
            deleted=dashboard.deleted,
            creation_mode=dashboard.creation_mode,
            tags=dashboard.tags,
            restriction_level=dashboard.restriction_level,
            effective_restriction_level=dashboard.restriction_level,
            access_control_version="v1" if dashboard.restriction_level > 21 else "v2",
            team_id=dashboard.project_id,
        )


class Text(Output):
    """A text card."""

    id: int
    body: str | None
    created_by: UserBasic | None
    last_modified_by: UserBasic | None
    last_modified_at: str | None
    team: int
    dashboard_tiles: list[TileBasic]

    @classmethod
    def of(cls, text: TextRecord, tile: TileRecord, users: Users) -> "Text":
        return cls(
            id=text.id,
            body=text.body,
            created_by=UserBasic.of(users(text.created_by_id)),
            last_modified_by=UserBasic.of(users(text.last_modified_by_id)),
            last_modified_at=clock.iso(text.last_modified_at),
            team=text.project_id,
            dashboard_tiles=[TileBasic.of(tile)],
        )


class Tile(Output):
    """A dashboard tile: an insight with its results, or a text card."""

    id: int
    insight: Insight | None
    text: Text | None
    button_tile: None = None
    widget: None = None
    layouts: dict[str, Any]
    color: str | None
    filters_overrides: dict[str, Any] | None
    show_description: bool | None
    transparent_background: bool | None
    order: int
    last_refresh: str | None
    is_cached: bool


def _tiles(ctx: Context, dashboard: DashboardRecord, options: ResultOptions, users: Users) -> list[Tile]:
    assert ctx.project is not None
    tiles, insights, texts = ctx.services.dashboards.contents(ctx.project, dashboard.id)
    held = ctx.services.insights.tiles(list(insights))
    out = []
    for order, tile in enumerate(tiles):
        shown = None
        insight = insights.get(tile.insight_id) if tile.insight_id is not None else None
        if insight is not None:
            overrides = tile.filters_overrides or dashboard.filters or None
            result = computed(ctx, insight.query, options, overrides, strict=False)
            shown = Insight.of(insight, held.get(insight.id, []), result, users)
        text = texts.get(tile.text_id) if tile.text_id is not None else None
        out.append(Tile(
            id=tile.id,
            insight=shown,
            text=Text.of(text, tile, users) if text is not None else None,
            layouts=tile.layouts,
            color=tile.color,
            filters_overrides=tile.filters_overrides,
            show_description=tile.show_description,
            transparent_background=tile.transparent_background,
            order=order,
            last_refresh=shown.last_refresh if shown else None,
            is_cached=shown.is_cached if shown else False,
        ))  # fmt: skip
    return out


class Dashboard(DashboardBasic):
    """A dashboard as PostHog's full serializer shows it: its filters and its tiles, each
    insight with its results per ``refresh``."""

    filters: dict[str, Any]
    variables: dict[str, Any]
    breakdown_colors: Any
    data_color_theme_id: int | None
    persisted_filters: dict[str, Any] | None
    persisted_variables: dict[str, Any] | None
    quick_filter_ids: list[int] = []
    tiles: list[Tile]

    @classmethod
    def full(cls, ctx: Context, dashboard: DashboardRecord, options: ResultOptions) -> "Dashboard":
        users = user_lookup(ctx)
        override = json_param(options.filters_override, "filters_override")
        return cls(
            **dict(DashboardBasic.of(dashboard, users)),
            filters={**dashboard.filters, **(override or {})},
            variables=json_param(options.variables_override, "variables_override") or dashboard.variables or {},
            breakdown_colors=dashboard.breakdown_colors,
            data_color_theme_id=dashboard.data_color_theme_id,
            persisted_filters=dashboard.filters or None,
            persisted_variables=dashboard.variables or None,
            tiles=_tiles(ctx, dashboard, options, users),
        )


class DashboardList(ToolData, Paged):
    search: str | None = Field(default=None, max_length=1000)
    pinned: str | bool | None = None
    tags: str | None = Field(default=None, max_length=255)
    creation_mode: str | None = Field(default=None, max_length=16)
    exclude_generated: str | None = None


class DashboardFields(ToolData):
    """The writable fields (checked by the dashboard service in DRF's words)."""

    model_config = ConfigDict(extra="allow")

    def given(self) -> dict[str, Any]:
        skip = ("dashboard_id", "refresh", "filters_override", "variables_override")
        return {k: v for k, v in self.model_dump(exclude_unset=True).items() if k not in skip}


class DashboardKey(ResultOptions):
    dashboard_id: int = Field(validation_alias=AliasChoices("dashboard_id", "id", "dashboardId"))


class DashboardUpdate(DashboardFields, DashboardKey):
    model_config = ConfigDict(extra="allow")


LIST_SCHEMA = {
    "type": "object",
    "properties": {"data": {"type": "object", "properties": {
        "limit": {"type": "integer"}, "offset": {"type": "integer"}, "search": {"type": "string"},
        "pinned": {"type": "boolean"}}}},
}  # fmt: skip
GET_SCHEMA = {"type": "object", "properties": {"dashboardId": {"type": "integer"}}, "required": ["dashboardId"]}
CREATE_SCHEMA = {
    "type": "object",
    "properties": {"data": {"type": "object", "properties": {
        "name": {"type": "string"}, "description": {"type": "string"}, "pinned": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}}}, "required": ["name"]}},
    "required": ["data"],
}  # fmt: skip


@operations.operation("dashboard.list", "dashboard:read", input=DashboardList, output=DashboardBasic,
                      tool=Tool("dashboards-get-all", "List dashboards", read_only=True, input_schema=LIST_SCHEMA))  # fmt: skip
def list_dashboards(ctx: Context, args: DashboardList) -> Listed:
    """The project's dashboards (not deleted), pinned first, then by name."""
    assert ctx.project is not None
    query = DashboardQuery(search=args.search or None, pinned=flag_param(args.pinned), tag=args.tags or None,
                           creation_mode=args.creation_mode or None,
                           exclude_generated=args.exclude_generated == "true")  # fmt: skip
    rows = ctx.services.dashboards.search(ctx.project, query)
    users = user_lookup(ctx)
    return shown(args, rows, lambda d: DashboardBasic.of(d, users))


@operations.operation("dashboard.create", "dashboard:write", output=Dashboard, input=DashboardFields,
                      tool=Tool("dashboard-create", "Create a dashboard", read_only=False,
                                input_schema=CREATE_SCHEMA))  # fmt: skip
def create_dashboard(ctx: Context, args: DashboardFields) -> Dashboard:
    """A new dashboard: empty, or a duplicate of ``use_dashboard`` (``duplicate_tiles`` copies
    its insights and text cards too)."""
    assert ctx.project is not None
    dashboard = ctx.services.dashboards.create(ctx.project, ctx.user_id, args.given())
    return Dashboard.full(ctx, dashboard, ResultOptions())


@operations.operation("dashboard.retrieve", "dashboard:read", output=Dashboard, input=DashboardKey,
                      tool=Tool("dashboard-get", "Get a dashboard with its tiles", read_only=True,
                                input_schema=GET_SCHEMA))  # fmt: skip
def retrieve_dashboard(ctx: Context, args: DashboardKey) -> Dashboard:
    """One dashboard with its tiles (insights with results per ``refresh``, text cards)."""
    assert ctx.project is not None
    return Dashboard.full(ctx, ctx.services.dashboards.opened(ctx.project, args.dashboard_id), args)


@operations.operation("dashboard.update", "dashboard:write", output=Dashboard, input=DashboardUpdate,
                      tool=Tool("dashboard-update", "Update a dashboard", read_only=False, idempotent=True))  # fmt: skip
def update_dashboard(ctx: Context, args: DashboardUpdate) -> Dashboard:
    """Change a dashboard: fields, ``tiles`` (text cards, layouts, removal), ``deleted``."""
    assert ctx.project is not None
    dashboard = ctx.services.dashboards.update(ctx.project, args.dashboard_id, ctx.user_id, args.given())
    return Dashboard.full(ctx, dashboard, args)


class AddInsight(ToolData):
    model_config = ConfigDict(extra="ignore")
    insight_id: str = Field(validation_alias=AliasChoices("insight_id", "insightId"), max_length=64)
    dashboard_id: int = Field(validation_alias=AliasChoices("dashboard_id", "dashboardId"))


ADD_INSIGHT_SCHEMA = {
    "type": "object",
    "properties": {"data": {"type": "object", "properties": {
        "insightId": {"type": "string", "description": "The insight's numeric id or its short id"},
        "dashboardId": {"type": "integer"}}, "required": ["insightId", "dashboardId"]}},
    "required": ["data"],
}  # fmt: skip


@operations.operation("dashboard.add_insight", "insight:write", input=AddInsight, also=("dashboard:write",),
                      output=Insight,
                      tool=Tool("add-insight-to-dashboard", "Add a saved insight to a dashboard", read_only=False,
                                idempotent=True, input_schema=ADD_INSIGHT_SCHEMA))  # fmt: skip
def add_insight(ctx: Context, args: AddInsight) -> Insight:
    """Put an insight on one more dashboard (a tile), keeping the dashboards it is on."""
    assert ctx.project is not None
    insight = ctx.services.insights.get(ctx.project, args.insight_id)
    held = [t.dashboard_id for t in ctx.services.insights.tiles([insight.id])[insight.id]]
    return checked_update(ctx, insight.id, {"dashboards": held + [args.dashboard_id]})


@operations.operation("dashboard.delete", "dashboard:write", input=DashboardKey, output=DashboardBasic,
                      tool=Tool("dashboard-delete", "Delete a dashboard", read_only=False, destructive=True,
                                idempotent=True, input_schema=GET_SCHEMA))  # fmt: skip
def delete_dashboard(ctx: Context, args: DashboardKey) -> DashboardBasic:
    """Soft-delete a dashboard (``deleted: true``; its insights stay), as PostHog's delete tool does."""
    assert ctx.project is not None
    dashboard = ctx.services.dashboards.update(ctx.project, args.dashboard_id, ctx.user_id, {"deleted": True})
    return DashboardBasic.of(dashboard, user_lookup(ctx))


operations.soft_delete_only("dashboard.destroy", "dashboard:write", input=DashboardKey)
