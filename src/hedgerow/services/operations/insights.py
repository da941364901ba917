"""Saved insights: list, create, retrieve (with results), update, soft delete
(``/api/projects/:id/insights/``, and the environments alias)."""

from __future__ import annotations

import json
import logging
from typing import Any, Callable

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from hedgerow import clock
from hedgerow.errors import Exposed, ValidationError
from hedgerow.services.catalogue.validation import TEXT_LIST, json_text
from hedgerow.services.catalogue import Catalogue, Context, Listed, Output, Tool
from hedgerow.services.catalogue.paging import Paged, sliced
from hedgerow.services.catalogue.tool_data import ToolData
from hedgerow.services.fields import TRUE_WORDS
from hedgerow.services.insights import ORDERS, WRAPPERS, InsightQuery, InsightRecord, runnable
from hedgerow.services.operations.organizations import UserBasic, user_lookup
from hedgerow.services.operations.query import refused_data
from hedgerow.services.query_schema import REFRESH_MODES
from hedgerow.store.meta.dashboards import TileRecord

operations = Catalogue()
log = logging.getLogger("hedgerow.insights")

MAX_SEARCH = 1000
KIND_FILTERS = {
    "TRENDS": "TrendsQuery", "FUNNELS": "FunnelsQuery", "RETENTION": "RetentionQuery", "PATHS": "PathsQuery",
    "STICKINESS": "StickinessQuery", "LIFECYCLE": "LifecycleQuery", "SQL": "HogQLQuery",
}  # fmt: skip


def refresh_mode(raw: Any) -> str | bool | None:
    """PostHog's ``refresh`` parameter: a mode by name, else a boolean (``true`` forces a run)."""
    if raw is None or isinstance(raw, bool):
        return raw or None
    text = str(raw)
    if text in REFRESH_MODES:
        return text
    return True if text.lower() in TRUE_WORDS else None


class ResultOptions(BaseModel):
    """How results are computed: ``refresh`` mode and dashboard filter overrides."""

    model_config = ConfigDict(extra="ignore")
    refresh: Any = None
    filters_override: Any = None
    variables_override: Any = None


def computed(ctx: Context, query: Any, options: ResultOptions,
             dashboard_filters: dict[str, Any] | None = None, *, strict: bool = True) -> dict[str, Any] | None:  # fmt: skip
    """A saved query's response from the query service (None when there is no query, or on
    a cache miss in ``force_cache``). ``strict``: a refusal or a query error is the call's
    answer (retrieve); otherwise it becomes the insight's ``query_status`` (lists, tiles)."""
    if not isinstance(query, dict):
        return None
    data: dict[str, Any] = {"query": runnable(query), "refresh": refresh_mode(options.refresh)}
    overrides = json_param(options.filters_override, "filters_override") or dashboard_filters
    if overrides:
        data["filters_override"] = overrides
    variables = json_param(options.variables_override, "variables_override")
    if variables:
        data["variables_override"] = variables
    assert ctx.project is not None
    try:
        return ctx.services.query.saved(ctx.project, data, refused=refused_data(ctx))
    except Exposed as error:
        if strict:
            raise
        return _failed(str(error.detail))
    except Exception:
        if strict:
            raise
        log.exception("insight calculation failed")  # as PostHog: one insight's crash does not fail a list
        return _failed("Internal error while calculating this insight.")


def _failed(message: str) -> dict[str, Any]:
    return {"query_status": {"id": None, "error": True, "complete": True, "error_message": message}}


def json_param(raw: Any, attr: str) -> dict[str, Any] | None:
    """An override given as a JSON object, or as its text in a query parameter."""
    if raw is None or isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if isinstance(value, dict):
            return value
    raise ValidationError(f"{attr} must be a JSON object.", attr=attr)


class TileBasic(Output):
    """A tile as it appears inside the objects it holds (``dashboard_tiles``)."""

    id: int
    dashboard_id: int
    deleted: bool

    @classmethod
    def of(cls, tile: TileRecord) -> "TileBasic":
        return cls(id=tile.id, dashboard_id=tile.dashboard_id, deleted=tile.deleted)


class Insight(Output):
    """An insight as PostHog's ``InsightSerializer`` shows it (results from the query service)."""

    id: int
    short_id: str
    name: str | None
    derived_name: str | None
    filters: dict[str, Any]
    query: dict[str, Any] | None
    order: int | None
    deleted: bool
    dashboards: list[int]
    dashboard_tiles: list[TileBasic]
    last_refresh: str | None
    cache_target_age: str | None
    next_allowed_client_refresh: str | None
    result: Any
    hasMore: bool | None
    columns: list[Any] | None
    created_at: str | None
    created_by: UserBasic | None
    description: str | None
    updated_at: str | None
    tags: list[str]
    favorited: bool
    saved: bool
    last_modified_at: str | None
    last_modified_by: UserBasic | None
    is_sample: bool
    effective_restriction_level: int = 21
    effective_privilege_level: int = 37
    user_access_level: str = "editor"
    timezone: str | None
    is_cached: bool
    query_status: dict[str, Any] | None
    hogql: str | None
    types: list[Any] | None
    resolved_date_range: dict[str, Any] | None
    alerts: list[Any] = []
    last_viewed_at: None = None
    search_match_type: None = None
    filters_hash: str | None

    @classmethod
    def of(cls, insight: InsightRecord, tiles: list[TileRecord], result: dict[str, Any] | None,
           users: Callable[[int | None], Any]) -> "Insight":  # fmt: skip
        r = result or {}
        return cls(
            id=insight.id,
            short_id=insight.short_id,
            name=insight.name,
            derived_name=insight.derived_name,
            filters={} if insight.query is not None else insight.filters,
            query=insight.query,
            order=insight.order,
            deleted=insight.deleted,
            dashboards=[t.dashboard_id for t in tiles],
            dashboard_tiles=[TileBasic.of(t) for t in tiles],
            last_refresh=r.get("last_refresh"),
            cache_target_age=r.get("cache_target_age"),
            next_allowed_client_refresh=r.get("next_allowed_client_refresh"),
            result=r.get("results"),
            hasMore=r.get("hasMore"),
            columns=r.get("columns"),
            created_at=clock.iso(insight.created_at),
            created_by=UserBasic.of(users(insight.created_by_id)),
            description=insight.description,
            updated_at=clock.iso(insight.updated_at),
            tags=insight.tags,
            favorited=insight.favorited,
            saved=insight.saved,
            last_modified_at=clock.iso(insight.last_modified_at),
            last_modified_by=UserBasic.of(users(insight.last_modified_by_id)),
            is_sample=insight.is_sample,
            timezone=r.get("timezone"),
            is_cached=bool(r.get("is_cached", False)),
            query_status=r.get("query_status"),
            hogql=r.get("hogql"),
            types=r.get("types"),
            resolved_date_range=r.get("resolved_date_range"),
            filters_hash=r.get("cache_key"),
        )


class InsightBasic(Output):
    """PostHog's ``InsightBasicSerializer`` (``basic=true``): metadata only, no results."""

    id: int
    short_id: str
    name: str | None
    derived_name: str | None
    filters: dict[str, Any]
    query: dict[str, Any] | None
    dashboards: list[int]
    dashboard_tiles: list[TileBasic]
    description: str | None
    last_refresh: str | None
    saved: bool
    tags: list[str]
    updated_at: str | None
    created_by: UserBasic | None
    created_at: str | None
    last_modified_at: str | None
    favorited: bool
    user_access_level: str
    last_viewed_at: None
    search_match_type: None
    refreshing: bool = False

    @classmethod
    def of(cls, full: Insight) -> "InsightBasic":
        return cls(**{name: getattr(full, name) for name in cls.model_fields if name != "refreshing"})


class InsightRun(Output):
    """PostHog's ``insight-query`` tool: the query run, the insight, and its results."""

    query: dict[str, Any] | None
    insight: Insight
    results: Any


# -- inputs ----------------------------------------------------------------------------------


ID_LIST: dict[str, Any] = {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}}
"""The JSON a list-of-ids parameter holds (``created_by``, ``dashboards``)."""


class InsightList(ToolData, Paged, ResultOptions):
    saved: str | bool | None = None
    favorited: str | bool | None = None
    search: str | None = None
    short_id: str | None = None
    created_by: str | list | None = json_text(ID_LIST)
    user: str | None = None
    dashboards: str | list | None = json_text(ID_LIST)
    tags: str | list | None = json_text(TEXT_LIST)
    insight: str | None = None
    basic: str | bool | None = None
    order: str | None = None


class InsightFields(ToolData):
    """The writable fields (checked by the insight service in DRF's words)."""

    model_config = ConfigDict(extra="allow")

    def given(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump(exclude_unset=True).items()
                if k not in ("insight_id", "refresh", "filters_override", "variables_override")}  # fmt: skip


class InsightKey(ResultOptions):
    insight_id: str = Field(validation_alias=AliasChoices("insight_id", "id", "insightId"), max_length=64)
    from_dashboard: Any = None
    basic: str | bool | None = None


class InsightUpdate(InsightFields):
    insight_id: str = Field(validation_alias=AliasChoices("insight_id", "id", "insightId"), max_length=64)


def _json_list(raw: Any, attr: str, item: type) -> tuple[Any, ...] | None:
    """A JSON list of ``item`` (a query parameter's text, or a list); None when absent."""
    if raw in (None, ""):
        return None
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
    if not isinstance(value, list) or not all(isinstance(v, item) and not isinstance(v, bool) for v in value):
        raise ValidationError(f"{attr} must be a JSON list of {'ids' if item is int else 'names'}.", attr=attr)
    return tuple(value)


def flag_param(raw: Any) -> bool | None:
    if raw is None:
        return None
    return raw if isinstance(raw, bool) else str(raw).lower() in TRUE_WORDS


def _query(ctx: Context, args: InsightList) -> InsightQuery:
    if args.search is not None and len(args.search) > MAX_SEARCH:
        raise ValidationError(f"Search query must be {MAX_SEARCH} characters or fewer.", attr="search")
    created_by = _json_list(args.created_by, "created_by", int)
    if args.user is not None:
        created_by = (ctx.user_id or 0,)
    kind = args.insight.upper() if args.insight else None
    if args.order and args.order.lstrip("-") not in ORDERS and args.order.lstrip("-") != "last_viewed_at":
        raise ValidationError(f"Cannot order insights by {args.order[:100]!r}.", attr="order")
    return InsightQuery(
        order=None if (args.order or "").lstrip("-") == "last_viewed_at" else args.order,
        saved=flag_param(args.saved),
        favorited=args.favorited is not None,  # PostHog: the parameter's presence filters
        search=args.search or None,
        short_id=args.short_id,
        created_by=created_by,
        dashboards=_json_list(args.dashboards, "dashboards", int) or (),
        tags=_json_list(args.tags, "tags", str) or (),
        source_kind=KIND_FILTERS.get(kind, kind) if kind else None,
    )


def _listed(ctx: Context, insights: list[InsightRecord], options: ResultOptions,
            basic: bool) -> list[Insight] | list[InsightBasic]:  # fmt: skip
    users = user_lookup(ctx)
    tiles = ctx.services.insights.tiles([i.id for i in insights])
    out = []
    for insight in insights:
        quiet = basic or (refused_data(ctx) and refresh_mode(options.refresh) is None)
        result = None if quiet else computed(ctx, insight.query, options, strict=False)
        shown = Insight.of(insight, tiles.get(insight.id, []), result, users)
        out.append(InsightBasic.of(shown) if basic else shown)
    return out


def one(ctx: Context, insight: InsightRecord, options: ResultOptions,
        dashboard_filters: dict[str, Any] | None = None, result: dict[str, Any] | None = None) -> Insight:  # fmt: skip
    """One insight with its results (computed unless ``result`` is given)."""
    if result is None:
        result = computed(ctx, insight.query, options, dashboard_filters)
    tiles = ctx.services.insights.tiles([insight.id])[insight.id]
    return Insight.of(insight, tiles, result, user_lookup(ctx))


# -- operations ------------------------------------------------------------------------------

LIST_SCHEMA = {
    "type": "object",
    "properties": {"data": {"type": "object", "properties": {
        "limit": {"type": "integer"}, "offset": {"type": "integer"}, "favorited": {"type": "boolean"},
        "search": {"type": "string"}}}},
}  # fmt: skip
GET_SCHEMA = {"type": "object", "properties": {"insightId": {"type": "string", "description":
              "The insight's numeric id or its short id"}}, "required": ["insightId"]}  # fmt: skip
CREATE_SCHEMA = {
    "type": "object",
    "properties": {"data": {"type": "object", "properties": {
        "name": {"type": "string"},
        "query": {"type": "object", "description": "InsightVizNode {source: TrendsQuery...} or "
                  "DataVisualizationNode {source: HogQLQuery}", "properties": {"kind": {"type": "string"}}},
        "description": {"type": "string"}, "favorited": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}}},
        "required": ["name", "query"]}},
    "required": ["data"],
}  # fmt: skip


@operations.operation("insight.list", "insight:read", input=InsightList, output=Insight | InsightBasic,
                      tool=Tool("insights-get-all", "List saved insights", read_only=True,
                                input_schema=LIST_SCHEMA))  # fmt: skip
def list_insights(ctx: Context, args: InsightList) -> Listed:
    """The project's insights (not deleted), with PostHog's filters; results per ``refresh``."""
    assert ctx.project is not None
    rows = ctx.services.insights.search(ctx.project, _query(ctx, args))
    page = sliced(args, rows)
    results = _listed(ctx, list(page.results), args, flag_param(args.basic) or False)
    return Listed(results, page.count, page.limit, page.offset)


def _wrapped_for_mcp(ctx: Context, given: dict[str, Any]) -> dict[str, Any]:
    """PostHog's MCP serializer saves a bare query wrapped: HogQL in a DataVisualizationNode,
    an insight query in an InsightVizNode."""
    query = given.get("query")
    if ctx.channel != "mcp" or not isinstance(query, dict):
        return given
    kind = query.get("kind")
    if kind == "HogQLQuery":
        return {**given, "query": {"kind": "DataVisualizationNode", "source": query}}
    if kind not in WRAPPERS:
        return {**given, "query": {"kind": "InsightVizNode", "source": query}}
    return given


def _checked_result(ctx: Context, query: Any) -> dict[str, Any] | None:
    """For a caller whose queries are checked for what they read: run the query the insight
    will hold before anything is written, so a refused call changes nothing."""
    if not refused_data(ctx) or not isinstance(query, dict):
        return None
    return computed(ctx, query, ResultOptions())


@operations.operation("insight.create", "insight:write", input=InsightFields, output=Insight,
                      tool=Tool("insight-create-from-query", "Save a query as an insight", read_only=False,
                                input_schema=CREATE_SCHEMA))  # fmt: skip
def create_insight(ctx: Context, args: InsightFields) -> Insight:
    """A new insight (``short_id`` assigned; a tile on each of ``dashboards``)."""
    assert ctx.project is not None
    given = _wrapped_for_mcp(ctx, args.given())
    result = _checked_result(ctx, given.get("query"))
    insight = ctx.services.insights.create(ctx.project, ctx.user_id, given)
    return one(ctx, insight, ResultOptions(), result=result)


@operations.operation("insight.retrieve", "insight:read", input=InsightKey, output=Insight | InsightBasic,
                      tool=Tool("insight-get", "Get a saved insight", read_only=True, input_schema=GET_SCHEMA))  # fmt: skip
def retrieve_insight(ctx: Context, args: InsightKey) -> Insight | InsightBasic:
    """One insight by id or short id, its results per ``refresh`` (cache only by default)."""
    assert ctx.project is not None
    insight = ctx.services.insights.get(ctx.project, args.insight_id)
    if flag_param(args.basic):
        return InsightBasic.of(one(ctx, insight, args, result={}))
    dashboard = ctx.services.dashboards.find(ctx.project, args.from_dashboard)
    return one(ctx, insight, args, dashboard.filters if dashboard is not None else None)


QUERY_SCHEMA = {"type": "object", "properties": {
    "insightId": {"type": "string", "description": "The insight's numeric id or its short id"},
    "filters_override": {"type": "object"}, "variables_override": {"type": "object"}}, "required": ["insightId"]}  # fmt: skip


@operations.operation("insight.query", "insight:read", input=InsightKey, also=("query:read",), rate="query",
                      output=InsightRun,
                      tool=Tool("insight-query", "Run a saved insight", read_only=True, input_schema=QUERY_SCHEMA))  # fmt: skip
def query_insight(ctx: Context, args: InsightKey) -> InsightRun:
    """Run a saved insight's query now (as PostHog's ``insight-query`` tool does): the query
    run, the insight, and its results (``{columns, results}`` for a SQL insight)."""
    assert ctx.project is not None
    insight = ctx.services.insights.get(ctx.project, args.insight_id)
    options = ResultOptions(refresh="blocking", filters_override=args.filters_override,
                            variables_override=args.variables_override)  # fmt: skip
    response = computed(ctx, insight.query, options) or {}
    inner = runnable(insight.query) if isinstance(insight.query, dict) else None
    tabular = isinstance(inner, dict) and inner.get("kind") == "HogQLQuery"
    results = ({"columns": response.get("columns") or [], "results": response.get("results") or []}
               if tabular else response.get("results"))  # fmt: skip
    return InsightRun(query=inner, insight=one(ctx, insight, options, result=response), results=results)


@operations.operation("insight.update", "insight:write", input=InsightUpdate, output=Insight,
                      tool=Tool("insight-update", "Update a saved insight", read_only=False, idempotent=True))  # fmt: skip
def update_insight(ctx: Context, args: InsightUpdate) -> Insight:
    """Change an insight; ``deleted: true`` soft-deletes it (and its tiles), ``false`` restores."""
    assert ctx.project is not None
    return checked_update(ctx, args.insight_id, _wrapped_for_mcp(ctx, args.given()))


def checked_update(ctx: Context, key: int | str, given: dict[str, Any]) -> Insight:
    """Update an insight; for a caller whose queries are checked, the query it will hold
    (new or current) is checked first, so a refused update changes nothing."""
    assert ctx.project is not None
    query = given.get("query")
    if "query" not in given and refused_data(ctx):
        restoring = given.get("deleted") is False
        query = ctx.services.insights.get(ctx.project, key, include_deleted=restoring).query
    result = _checked_result(ctx, query)
    insight = ctx.services.insights.update(ctx.project, key, ctx.user_id, given)
    return one(ctx, insight, ResultOptions(), result=result)


@operations.operation("insight.delete", "insight:write", input=InsightKey, output=Insight,
                      tool=Tool("insight-delete", "Delete a saved insight", read_only=False, destructive=True,
                                idempotent=True, input_schema=GET_SCHEMA))  # fmt: skip
def delete_insight(ctx: Context, args: InsightKey) -> Insight:
    """Soft-delete an insight (``deleted: true``), as PostHog's delete tool does."""
    assert ctx.project is not None
    insight = ctx.services.insights.update(ctx.project, args.insight_id, ctx.user_id, {"deleted": True})
    return one(ctx, insight, ResultOptions(), result={})


operations.soft_delete_only("insight.destroy", "insight:write", input=InsightKey)
