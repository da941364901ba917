"""Destinations (hog functions): list, create, retrieve, update, soft delete, logs and metrics
(``/api/projects/:id/hog_functions/``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from hedgerow import clock
from hedgerow.destinations.template import TEMPLATES
from hedgerow.errors import ValidationError
from hedgerow.services.catalogue.output import EMPTY
from hedgerow.services.catalogue import Catalogue, Context, Listed, Reply, Tool
from hedgerow.services.catalogue.paging import Paged, sliced
from hedgerow.services.hog_functions import WRITABLE, HogFunctionRecord, LogQuery, relative_date
from hedgerow.services.operations.organizations import user_basic, user_lookup

operations = Catalogue()

STATUS = {"state": 1, "tokens": 10000}
"""PostHog's HogWatcher status: always healthy here (nothing throttles a destination yet)."""
INTERVALS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}
MAX_LABELS = 2_000


def hog_function_json(ctx: Context, fn: HogFunctionRecord, users: Any = None, *,
                      minimal: bool = False) -> dict[str, Any]:  # fmt: skip
    """A function as PostHog's serializer shows it (the minimal one in lists)."""
    users = users or user_lookup(ctx)
    body: dict[str, Any] = {
        "id": fn.id,
        "type": fn.type,
        "name": fn.name,
        "description": fn.description,
        "created_at": clock.iso(fn.created_at),
        "created_by": user_basic(users(fn.created_by_id)),
        "updated_at": clock.iso(fn.updated_at),
        "enabled": fn.enabled,
        "hog": fn.hog,
        "filters": fn.filters,
        "icon_url": fn.icon_url,
        "template": TEMPLATES.get(fn.template_id or ""),
        "status": STATUS,
        "execution_order": fn.execution_order,
    }
    if not minimal:
        body.update({
            "bytecode": None, "transpiled": None, "inputs_schema": fn.inputs_schema, "inputs": fn.inputs,
            "masking": fn.masking, "mappings": fn.mappings,
        })  # fmt: skip
    return body


class HogFunctionList(Paged):
    type: str | None = None
    types: str | None = None
    enabled: str | None = None
    search: str | None = None


class HogFunctionFields(BaseModel):
    """The writable fields; checked by the service in DRF's words."""

    model_config = ConfigDict(extra="ignore")
    type: Any = None
    name: Any = None
    description: Any = None
    enabled: Any = None
    deleted: Any = None
    hog: Any = None
    inputs_schema: Any = None
    inputs: Any = None
    filters: Any = None
    masking: Any = None
    mappings: Any = None
    icon_url: Any = None
    template_id: Any = None
    execution_order: Any = None

    def given(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump(exclude_unset=True).items() if k in WRITABLE}


class HogFunctionId(BaseModel):
    model_config = ConfigDict(extra="ignore")
    hog_function_id: str = Field(validation_alias=AliasChoices("hog_function_id", "id"), max_length=64)


class HogFunctionUpdate(HogFunctionFields, HogFunctionId):
    pass


WHEN: dict[str, Any] = {"json_schema_extra": {"anyOf": [
    {"type": "string", "format": "date-time"}, {"type": "string", "pattern": "^-[0-9]{1,5}[hdwm]$"}]}}  # fmt: skip
"""A time parameter: ISO 8601, or relative to now (``-7d``, ``-24h``, ``-2w``, ``-30m``)."""


class LogList(HogFunctionId, Paged):
    DEFAULT_LIMIT: ClassVar[int] = 50
    MAX_LIMIT: ClassVar[int | None] = 500
    after: str | None = Field(default=None, **WHEN)
    before: str | None = Field(default=None, **WHEN)
    level: str | None = None
    search: str | None = Field(default=None, max_length=1000)
    instance_id: str | None = Field(default=None, max_length=64)


class MetricsQuery(HogFunctionId):
    after: str | None = Field(default=None, max_length=64, **WHEN)
    before: str | None = Field(default=None, max_length=64, **WHEN)
    interval: str = Field(default="day", json_schema_extra={"enum": ["hour", "day", "week"]})
    breakdown_by: str = Field(default="kind", json_schema_extra={"enum": ["name", "kind"]})
    name: str | None = Field(default=None, max_length=1000)
    kind: str | None = Field(default=None, max_length=1000)
    instance_id: str | None = Field(default=None, max_length=64)


def _types(args: HogFunctionList) -> list[str]:
    if args.type:
        return [args.type[:100]]
    if args.types:
        return [t[:100] for t in args.types.split(",")[:20]]
    return ["destination"]


@operations.operation("hog_function.list", "hog_function:read", input=HogFunctionList,
                      tool=Tool("cdp-functions-list", "List destinations", read_only=True))  # fmt: skip
def list_hog_functions(ctx: Context, args: HogFunctionList) -> Listed:
    """The project's functions of the asked types (destinations by default)."""
    assert ctx.project is not None
    enabled = None if args.enabled is None else args.enabled.lower() in ("true", "1")
    rows = ctx.services.hog_functions.list(ctx.project, types=_types(args), enabled=enabled,
                                           search=args.search[:400] if args.search else None)  # fmt: skip
    users = user_lookup(ctx)
    page = sliced(args, rows)
    return Listed([hog_function_json(ctx, fn, users, minimal=True) for fn in page.results], page.count,
                  page.limit, page.offset)  # fmt: skip


@operations.operation("hog_function.create", "hog_function:write", input=HogFunctionFields,
                      tool=Tool("cdp-functions-create", "Create a destination", read_only=False))  # fmt: skip
def create_hog_function(ctx: Context, args: HogFunctionFields) -> dict[str, Any]:
    """A new destination from the HTTP webhook template."""
    assert ctx.project is not None
    return hog_function_json(ctx, ctx.services.hog_functions.create(ctx.project, ctx.user_id, args.given()))


@operations.operation("hog_function.retrieve", "hog_function:read", input=HogFunctionId,
                      tool=Tool("cdp-functions-retrieve", "Get a destination", read_only=True))  # fmt: skip
def retrieve_hog_function(ctx: Context, args: HogFunctionId) -> dict[str, Any]:
    """One function (a deleted one answers 404)."""
    assert ctx.project is not None
    return hog_function_json(ctx, ctx.services.hog_functions.get(ctx.project, args.hog_function_id))


@operations.operation("hog_function.update", "hog_function:write", input=HogFunctionUpdate,
                      tool=Tool("cdp-functions-partial-update", "Update a destination", read_only=False))  # fmt: skip
def update_hog_function(ctx: Context, args: HogFunctionUpdate) -> dict[str, Any]:
    """Change a function; ``deleted: true`` soft-deletes it (and ``deleted: false`` restores it)."""
    assert ctx.project is not None
    return hog_function_json(ctx, ctx.services.hog_functions.update(ctx.project, args.hog_function_id, args.given()))


@operations.operation("hog_function.destroy", "hog_function:write", input=HogFunctionId, output=EMPTY)
def destroy_hog_function(ctx: Context, args: HogFunctionId) -> Reply:
    """Hard deletion is not allowed: 405 with no body (soft-delete with ``deleted: true``)."""
    return Reply(405)


def _date(raw: str | None, attr: str, now: datetime) -> datetime | None:
    return relative_date(raw, now, attr) if raw else None


@operations.operation("hog_function.logs", "hog_function:read", input=LogList,
                      tool=Tool("cdp-functions-logs-retrieve", "A destination's logs", read_only=True))  # fmt: skip
def hog_function_logs(ctx: Context, args: LogList) -> Listed:
    """The function's log lines, newest first (PostHog's ``LogEntry`` shape)."""
    assert ctx.project is not None
    now = clock.now()
    levels = tuple(level.strip()[:10] for level in (args.level or "").split(",") if level.strip())[:10]
    query = LogQuery(limit=args.page_limit + args.offset, after=_date(args.after, "after", now),
                     before=_date(args.before, "before", now), search=args.search, levels=levels,
                     instance_id=args.instance_id)  # fmt: skip
    rows = ctx.services.hog_functions.logs(ctx.project, args.hog_function_id, query)
    entries = [{"log_source_id": args.hog_function_id, "instance_id": instance, "timestamp": clock.iso(ts),
                "level": level.upper(), "message": message} for instance, ts, level, message in rows]  # fmt: skip
    return sliced(args, entries)


def _floor(value: datetime, interval: str) -> datetime:
    if interval == "hour":
        return value.replace(minute=0, second=0, microsecond=0)
    value = value.replace(hour=0, minute=0, second=0, microsecond=0)
    return value - timedelta(days=value.weekday()) if interval == "week" else value


def _metrics_args(args: MetricsQuery, now: datetime, *, totals: bool) -> dict[str, Any]:
    if args.interval not in INTERVALS:
        raise ValidationError(f'"{args.interval[:20]}" is not a valid choice.', code="invalid_choice", attr="interval")
    if args.breakdown_by not in ("name", "kind"):
        raise ValidationError(f'"{args.breakdown_by[:20]}" is not a valid choice.', code="invalid_choice",
                              attr="breakdown_by")  # fmt: skip
    after = _date(args.after, "after", now) if args.after or totals else now - timedelta(days=7)
    before = _date(args.before, "before", now) if args.before or totals else now
    return {
        "breakdown": args.breakdown_by, "after": after, "before": before,
        "names": [n for n in (args.name or "").split(",") if n][:50],
        "kinds": [k for k in (args.kind or "").split(",") if k][:50],
    }  # fmt: skip


@operations.operation("hog_function.metrics", "hog_function:read", input=MetricsQuery)
def hog_function_metrics(ctx: Context, args: MetricsQuery) -> dict[str, Any]:
    """Delivery counts per interval, by metric kind (or name): ``{labels, series}``."""
    assert ctx.project is not None
    now = clock.now()
    window = _metrics_args(args, now, totals=False)
    rows = ctx.services.hog_functions.metrics(ctx.project, args.hog_function_id, **window)
    label_format = "%Y-%m-%dT%H:%M" if args.interval == "hour" else "%Y-%m-%d"
    labels: list[str] = []
    at = _floor(window["after"], args.interval)
    while at <= window["before"] and len(labels) < MAX_LABELS:
        labels.append(at.strftime(label_format))
        at += INTERVALS[args.interval]
    counts: dict[str, dict[str, int]] = {}
    for hour, value, n in rows:
        label = _floor(hour, args.interval).strftime(label_format)
        bucket = counts.setdefault(value, {})
        bucket[label] = bucket.get(label, 0) + n
    return {"labels": labels,
            "series": [{"name": name, "values": [by_label.get(label, 0) for label in labels]}
                       for name, by_label in counts.items()]}  # fmt: skip


@operations.operation("hog_function.metrics_totals", "hog_function:read", input=MetricsQuery)
def hog_function_metrics_totals(ctx: Context, args: MetricsQuery) -> dict[str, Any]:
    """Delivery counts over the period, by metric kind (or name): ``{totals}``."""
    assert ctx.project is not None
    window = _metrics_args(args, clock.now(), totals=True)
    totals: dict[str, int] = {}
    for _, value, n in ctx.services.hog_functions.metrics(ctx.project, args.hog_function_id, **window):
        totals[value] = totals.get(value, 0) + n
    return {"totals": totals}
