"""Destinations (hog functions): list, create, retrieve, update, soft delete, logs and metrics
(``/api/projects/:id/hog_functions/``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from hedgerow import clock
from hedgerow.destinations.template import TEMPLATES
from hedgerow.errors import ValidationError
from hedgerow.services.catalogue import Catalogue, Context, Listed, Output, Tool
from hedgerow.services.catalogue.paging import Paged, shown, sliced
from hedgerow.services.hog_functions import WRITABLE, HogFunctionRecord, LogQuery, relative_date
from hedgerow.services.operations.organizations import UserBasic, user_lookup

operations = Catalogue()

STATUS = {"state": 1, "tokens": 10000}
"""PostHog's HogWatcher status: always healthy here (nothing throttles a destination yet)."""
INTERVALS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}
MAX_LABELS = 2_000


class HogFunctionMinimal(Output):
    """A function as PostHog's minimal serializer shows it (in lists)."""

    id: str
    type: str
    name: str | None
    description: str
    created_at: str | None
    created_by: UserBasic | None
    updated_at: str | None
    enabled: bool
    hog: str
    filters: dict[str, Any]
    icon_url: str | None
    template: dict[str, Any] | None
    status: dict[str, int] = STATUS
    execution_order: int | None

    @classmethod
    def of(cls, ctx: Context, fn: HogFunctionRecord, users: Any = None) -> "HogFunctionMinimal":
        users = users or user_lookup(ctx)
        return cls(
            id=fn.id,
            type=fn.type,
            name=fn.name,
            description=fn.description,
            created_at=clock.iso(fn.created_at),
            created_by=UserBasic.of(users(fn.created_by_id)),
            updated_at=clock.iso(fn.updated_at),
            enabled=fn.enabled,
            hog=fn.hog,
            filters=fn.filters,
            icon_url=fn.icon_url,
            template=TEMPLATES.get(fn.template_id or ""),
            execution_order=fn.execution_order,
        )


class HogFunction(HogFunctionMinimal):
    """A function as PostHog's serializer shows it."""

    bytecode: None = None
    transpiled: None = None
    inputs_schema: list[Any]
    inputs: dict[str, Any]
    masking: dict[str, Any] | None
    mappings: list[Any] | None

    @classmethod
    def of(cls, ctx: Context, fn: HogFunctionRecord, users: Any = None) -> "HogFunction":
        minimal = HogFunctionMinimal.of(ctx, fn, users)
        return cls(**dict(minimal), inputs_schema=fn.inputs_schema, inputs=fn.inputs, masking=fn.masking,
                   mappings=fn.mappings)  # fmt: skip


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


@operations.operation("hog_function.list", "hog_function:read", input=HogFunctionList, output=HogFunctionMinimal,
                      tool=Tool("cdp-functions-list", "List destinations", read_only=True))  # fmt: skip
def list_hog_functions(ctx: Context, args: HogFunctionList) -> Listed:
    """The project's functions of the asked types (destinations by default)."""
    assert ctx.project is not None
    enabled = None if args.enabled is None else args.enabled.lower() in ("true", "1")
    rows = ctx.services.hog_functions.list(ctx.project, types=_types(args), enabled=enabled,
                                           search=args.search[:400] if args.search else None)  # fmt: skip
    users = user_lookup(ctx)
    return shown(args, rows, lambda fn: HogFunctionMinimal.of(ctx, fn, users))


@operations.operation("hog_function.create", "hog_function:write", output=HogFunction, input=HogFunctionFields,
                      tool=Tool("cdp-functions-create", "Create a destination", read_only=False))  # fmt: skip
def create_hog_function(ctx: Context, args: HogFunctionFields) -> HogFunction:
    """A new destination from the HTTP webhook template."""
    assert ctx.project is not None
    return HogFunction.of(ctx, ctx.services.hog_functions.create(ctx.project, ctx.user_id, args.given()))


@operations.operation("hog_function.retrieve", "hog_function:read", output=HogFunction, input=HogFunctionId,
                      tool=Tool("cdp-functions-retrieve", "Get a destination", read_only=True))  # fmt: skip
def retrieve_hog_function(ctx: Context, args: HogFunctionId) -> HogFunction:
    """One function (a deleted one answers 404)."""
    assert ctx.project is not None
    return HogFunction.of(ctx, ctx.services.hog_functions.get(ctx.project, args.hog_function_id))


@operations.operation("hog_function.update", "hog_function:write", output=HogFunction, input=HogFunctionUpdate,
                      tool=Tool("cdp-functions-partial-update", "Update a destination", read_only=False))  # fmt: skip
def update_hog_function(ctx: Context, args: HogFunctionUpdate) -> HogFunction:
    """Change a function; ``deleted: true`` soft-deletes it (and ``deleted: false`` restores it)."""
    assert ctx.project is not None
    return HogFunction.of(ctx, ctx.services.hog_functions.update(ctx.project, args.hog_function_id, args.given()))


operations.soft_delete_only("hog_function.destroy", "hog_function:write", input=HogFunctionId)


class LogEntry(Output):
    """One log line, as PostHog's ``LogEntry``."""

    log_source_id: str
    instance_id: str | None
    timestamp: str | None
    level: str
    message: str


class MetricSeries(Output):
    name: str
    values: list[int]


class Metrics(Output):
    """Delivery counts per interval: one series per metric kind (or name)."""

    labels: list[str]
    series: list[MetricSeries]


class MetricsTotals(Output):
    """Delivery counts over the period, by metric kind (or name)."""

    totals: dict[str, int]


def _date(raw: str | None, attr: str, now: datetime) -> datetime | None:
    return relative_date(raw, now, attr) if raw else None


@operations.operation("hog_function.logs", "hog_function:read", input=LogList, output=LogEntry,
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
    entries = [LogEntry(log_source_id=args.hog_function_id, instance_id=instance, timestamp=clock.iso(ts),
                        level=level.upper(), message=message) for instance, ts, level, message in rows]  # fmt: skip
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


@operations.operation("hog_function.metrics", "hog_function:read", input=MetricsQuery, output=Metrics)
def hog_function_metrics(ctx: Context, args: MetricsQuery) -> Metrics:
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
    return Metrics(labels=labels, series=[MetricSeries(name=name, values=[by_label.get(label, 0) for label in labels])
                                          for name, by_label in counts.items()])  # fmt: skip


@operations.operation("hog_function.metrics_totals", "hog_function:read", input=MetricsQuery, output=MetricsTotals)
def hog_function_metrics_totals(ctx: Context, args: MetricsQuery) -> MetricsTotals:
    """Delivery counts over the period, by metric kind (or name): ``{totals}``."""
    assert ctx.project is not None
    window = _metrics_args(args, clock.now(), totals=True)
    totals: dict[str, int] = {}
    for _, value, n in ctx.services.hog_functions.metrics(ctx.project, args.hog_function_id, **window):
        totals[value] = totals.get(value, 0) + n
    return MetricsTotals(totals=totals)
