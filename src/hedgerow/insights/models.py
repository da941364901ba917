"""Request models of the insight query kinds (PostHog's ``posthog/schema.py`` names).

Only the fields that change numbers are declared; display-only keys PostHog's clients send
(``showLegend``, ``resultCustomizations``...) are accepted and ignored, as the query API does
for its other kinds.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, PrivateAttr, Tag, field_validator

Filters = Union[list[dict[str, Any]], dict[str, Any], None]
Unsupported = Union[None, Literal[False]]
"""The type of a PostHog field that changes numbers but is not computed here yet: sending it is a
400 naming the field, never a silently different answer."""
Interval = Literal["hour", "day", "week", "month"]

PROPERTY_MATHS = ("sum", "avg", "min", "max", "median", "p75", "p90", "p95", "p99")
BASE_MATHS = ("total", "dau", "weekly_active", "monthly_active", "unique_session", "first_time_for_user",
              "first_matching_event_for_user", "hogql", "unique_group")
HISTOGRAM_MAX_BINS = 1000
COUNT_PER_ACTOR_MATHS = tuple(
    f"{m}_count_per_actor" for m in ("avg", "min", "max", "median", "p75", "p90", "p95", "p99")
)


class InsightNode(BaseModel):
    """A node of an insight query: unknown keys ignored, declared ones type-checked."""

    model_config = ConfigDict(extra="ignore")


class DateRange(InsightNode):
    date_from: str | None = None
    date_to: str | None = None
    explicitDate: bool | None = None


class EventsNode(InsightNode):
    kind: Literal["EventsNode"] = "EventsNode"
    event: str | None = None
    name: str | None = None
    custom_name: str | None = None
    math: Literal[BASE_MATHS + PROPERTY_MATHS + COUNT_PER_ACTOR_MATHS] | None = None  # type: ignore[valid-type]
    math_property: str | None = Field(None, max_length=400)
    math_property_type: str | None = None
    math_hogql: str | None = Field(None, max_length=2000)
    math_group_type_index: int | None = Field(None, ge=0, le=4)
    math_multiplier: None = None
    properties: Filters = None


class ActionsNode(EventsNode):
    """A series of the events matching a saved action (``matchesAction(id)``)."""

    kind: Literal["ActionsNode"]  # type: ignore[assignment]
    id: int = Field(..., ge=0, lt=2**63)
    _missing: bool = PrivateAttr(False)
    """Set when the project has no such action: the series then matches no event."""

    @field_validator("event", mode="before")
    @classmethod
    def _no_event(cls, value: Any) -> None:
        return None


def _series_kind(value: Any) -> str:
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return kind if isinstance(kind, str) else "EventsNode"


SeriesNode = Annotated[
    Union[Annotated[EventsNode, Tag("EventsNode")], Annotated[ActionsNode, Tag("ActionsNode")]],
    Discriminator(_series_kind),
]
"""A series: an ``EventsNode`` or an ``ActionsNode``, told apart by ``kind``."""


class Breakdown(InsightNode):
    property: str | int
    type: Literal["event", "person", "hogql", "group"] | None = "event"
    group_type_index: int | None = Field(None, ge=0, le=4)
    histogram_bin_count: None = None
    normalize_url: Unsupported = None


class BreakdownFilter(InsightNode):
    breakdown: str | int | list[str | int] | None = None
    breakdown_type: Literal["event", "person", "hogql", "group", "cohort"] | None = "event"
    breakdown_group_type_index: int | None = Field(None, ge=0, le=4)
    breakdown_limit: int | None = Field(None, ge=1, le=10_000)
    breakdown_hide_other_aggregation: bool | None = None
    breakdowns: list[Breakdown] | None = Field(None, min_length=1, max_length=3)
    breakdown_histogram_bin_count: None = None
    breakdown_normalize_url: Unsupported = None


class TrendsBreakdown(Breakdown):
    """A breakdown of a trends query: numeric bins and URL normalising are computed there."""

    histogram_bin_count: int | None = Field(None, ge=1, le=HISTOGRAM_MAX_BINS)  # type: ignore[assignment]
    normalize_url: bool | None = None  # type: ignore[assignment]


class TrendsBreakdownFilter(BreakdownFilter):
    """A trends query's breakdown filter (the other kinds refuse bins and URL normalising)."""

    breakdowns: list[TrendsBreakdown] | None = Field(None, min_length=1, max_length=3)  # type: ignore[assignment]
    breakdown_histogram_bin_count: int | None = Field(None, ge=1, le=HISTOGRAM_MAX_BINS)  # type: ignore[assignment]
    breakdown_normalize_url: bool | None = None  # type: ignore[assignment]


class CompareFilter(InsightNode):
    compare: bool | None = None
    compare_to: str | None = None


class FormulaNode(InsightNode):
    formula: str
    custom_name: str | None = None


class TrendsFilter(InsightNode):
    display: str | None = None
    formula: str | None = None
    formulas: list[str] | None = None
    formulaNodes: list[FormulaNode] | None = None
    smoothingIntervals: int | None = Field(None, ge=1, le=1000)


class InsightQuery(InsightNode):
    dateRange: DateRange | None = None
    properties: Filters = None
    filterTestAccounts: bool | None = None
    modifiers: dict[str, Any] | None = None
    aggregation_group_type_index: None = None


class TrendsQuery(InsightQuery):
    kind: Literal["TrendsQuery"]
    aggregation_group_type_index: int | None = Field(None, ge=0, le=4)  # type: ignore[assignment]
    """Echoed in each result's ``filter``; as in PostHog, a series counts groups through its own
    ``math_group_type_index``."""
    series: list[SeriesNode] = Field(..., min_length=1, max_length=50)
    interval: Literal["minute", "hour", "day", "week", "month"] | None = "day"
    breakdownFilter: TrendsBreakdownFilter | None = None
    compareFilter: CompareFilter | None = None
    trendsFilter: TrendsFilter | None = None


class FunnelExclusion(EventsNode):
    funnelFromStep: int = 0
    funnelToStep: int = 1


class FunnelActionsExclusion(ActionsNode):
    funnelFromStep: int = 0
    funnelToStep: int = 1


ExclusionNode = Annotated[
    Union[Annotated[FunnelExclusion, Tag("EventsNode")], Annotated[FunnelActionsExclusion, Tag("ActionsNode")]],
    Discriminator(_series_kind),
]


class FunnelsFilter(InsightNode):
    funnelOrderType: Literal["ordered", "strict", "unordered"] | None = "ordered"
    funnelVizType: Literal["steps", "time_to_convert", "trends"] | None = "steps"
    funnelFromStep: int | None = None
    funnelToStep: int | None = None
    binCount: int | None = None
    funnelWindowInterval: int | None = Field(14, ge=1, le=100_000)
    funnelWindowIntervalUnit: Literal["second", "minute", "hour", "day", "week", "month"] | None = "day"
    exclusions: list[ExclusionNode] | None = None
    breakdownAttributionType: Literal["first_touch", "last_touch", "all_events", "step"] | None = "first_touch"
    breakdownAttributionValue: int | None = Field(None, ge=0, le=29)
    funnelAggregateByHogQL: str | None = Field(None, max_length=2000)


class FunnelsQuery(InsightQuery):
    kind: Literal["FunnelsQuery"]
    aggregation_group_type_index: int | None = Field(None, ge=0, le=4)  # type: ignore[assignment]
    series: list[SeriesNode] = Field(..., min_length=2, max_length=30)
    interval: Interval | None = "day"
    breakdownFilter: BreakdownFilter | None = None
    funnelsFilter: FunnelsFilter | None = None
    compareFilter: None = None


class RetentionEntity(InsightNode):
    id: str | int | None = None
    type: Literal["events", "actions"] | None = "events"
    name: str | None = None
    properties: Filters = None


class RetentionFilter(InsightNode):
    targetEntity: RetentionEntity | None = None
    returningEntity: RetentionEntity | None = None
    period: Literal["Hour", "Day", "Week", "Month"] | None = "Day"
    totalIntervals: int | None = Field(11, ge=1, le=1000)
    retentionType: Literal["retention_recurring", "retention_first_time",
                           "retention_first_ever_occurrence"] | None = "retention_recurring"
    minimumOccurrences: int | None = Field(None, ge=1, le=1_000_000)
    cumulative: bool | None = None
    timeWindowMode: Literal["strict_calendar_dates", "24_hour_windows"] | None = None
    retentionCustomBrackets: list[Annotated[int, Field(ge=1, le=10_000)]] | None = Field(None, max_length=100)
    """Return columns after the cohort's own: bracket i holds offsets up to the i-th running sum."""
    aggregationType: Literal["count"] | None = None


class RetentionQuery(InsightQuery):
    kind: Literal["RetentionQuery"]
    aggregation_group_type_index: int | None = Field(None, ge=0, le=4)  # type: ignore[assignment]
    retentionFilter: RetentionFilter
    breakdownFilter: BreakdownFilter | None = None


class StickinessCriteria(InsightNode):
    operator: Literal["gte", "lte", "exact"]
    value: int = Field(..., ge=0)


class StickinessFilter(InsightNode):
    computedAs: Literal["non_cumulative", "cumulative"] | None = None
    stickinessCriteria: StickinessCriteria | None = None


class StickinessQuery(InsightQuery):
    kind: Literal["StickinessQuery"]
    aggregation_group_type_index: int | None = Field(None, ge=0, le=4)  # type: ignore[assignment]
    series: list[SeriesNode] = Field(..., min_length=1, max_length=50)
    interval: Interval | None = "day"
    intervalCount: int | None = Field(None, ge=1, le=10_000)
    compareFilter: None = None
    stickinessFilter: StickinessFilter | None = None


class LifecycleQuery(InsightQuery):
    kind: Literal["LifecycleQuery"]
    aggregation_group_type_index: int | None = Field(None, ge=0, le=4)  # type: ignore[assignment]
    series: list[SeriesNode] = Field(..., min_length=1, max_length=1)
    interval: Interval | None = "day"


class PathsFilter(InsightNode):
    includeEventTypes: list[Literal["$pageview", "$screen", "custom_event"]] | None = None
    startPoint: str | None = None
    endPoint: str | None = None
    stepLimit: int | None = Field(5, ge=2, le=20)
    edgeLimit: int | None = Field(50, ge=1, le=10_000)
    excludeEvents: list[str] | None = None
    minEdgeWeight: int | None = None
    maxEdgeWeight: int | None = None
    pathGroupings: None = None
    pathReplacements: Unsupported = None
    localPathCleaningFilters: None = None
    pathsHogQLExpression: None = None
    pathStartKey: str | None = Field(None, max_length=2000)
    pathEndKey: str | None = Field(None, max_length=2000)
    pathDropoffKey: str | None = Field(None, max_length=2000)


class PathsQuery(InsightQuery):
    kind: Literal["PathsQuery"]
    pathsFilter: PathsFilter
    funnelPathsFilter: None = None
