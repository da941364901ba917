"""Request models of experiments' query kinds and metrics (PostHog's ``posthog/schema.py`` names).

Unknown keys are ignored (PostHog's clients send display-only ones); fields that would change the
numbers but are not computed here (data-warehouse sources, retention metrics, CUPED) are refused
with a 400 naming them. A source is an ``EventsNode`` or an ``ActionsNode`` (a saved action's
events, matched by ``matchesAction`` like everywhere else).
"""

from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

Filters = Union[list[dict[str, Any]], dict[str, Any], None]
WindowUnit = Literal["second", "minute", "hour", "day", "week", "month"]

WINDOW_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400, "month": 30 * 86400}
"""A conversion window's unit in seconds (a month is 30 days, as in PostHog's experiments)."""

MATHS = ("total", "sum", "avg", "min", "max", "dau", "unique_session", "unique_group")
PROPERTY_MATHS = ("sum", "avg", "min", "max")
MAX_FUNNEL_STEPS = 20
MAX_BREAKDOWNS = 3


class Loose(BaseModel):
    """A node: unknown keys ignored, declared ones type-checked."""

    model_config = ConfigDict(extra="ignore")


class MetricSource(Loose):
    """An ``EventsNode`` (``event: null`` is every event) or an ``ActionsNode`` (the events of
    action ``id``) a metric counts or aggregates."""

    kind: Literal["EventsNode", "ActionsNode"] = "EventsNode"
    event: str | None = Field(None, max_length=400)
    id: int | None = Field(None, ge=0, lt=2**63)
    name: str | None = None
    custom_name: str | None = None
    math: Literal[MATHS] | None = "total"  # type: ignore[valid-type]
    math_property: str | None = Field(None, max_length=400)
    math_group_type_index: int | None = Field(None, ge=0, le=4)
    properties: Filters = None

    @model_validator(mode="after")
    def _needs_property(self) -> "MetricSource":
        if self.kind == "ActionsNode" and self.id is None:
            raise ValueError("an ActionsNode needs the action's id")
        if self.math in PROPERTY_MATHS and not self.math_property:
            raise ValueError(f"math '{self.math}' needs a math_property")
        if self.math == "unique_group" and self.math_group_type_index is None:
            raise ValueError("math 'unique_group' needs math_group_type_index")
        return self


class Breakdown(Loose):
    property: str = Field(..., max_length=400)
    type: Literal["event", "person"] | None = "event"


class MetricBreakdownFilter(Loose):
    breakdowns: list[Breakdown] | None = Field(None, max_length=MAX_BREAKDOWNS)


class ExperimentMetric(Loose):
    """``ExperimentMetric`` of ``metric_type`` mean, funnel or ratio."""

    kind: Literal["ExperimentMetric"] = "ExperimentMetric"
    metric_type: Literal["mean", "funnel", "ratio"]
    uuid: str | None = Field(None, max_length=100)
    fingerprint: str | None = None
    name: str | None = Field(None, max_length=400)
    conversion_window: int | None = Field(None, ge=1, le=100_000)
    conversion_window_unit: WindowUnit | None = None
    goal: Literal["increase", "decrease"] | None = None
    breakdownFilter: MetricBreakdownFilter | None = None
    isSharedMetric: bool | None = None
    sharedMetricId: int | None = None
    source: MetricSource | None = None
    lower_bound_percentile: float | None = Field(None, ge=0, le=1)
    upper_bound_percentile: float | None = Field(None, ge=0, le=1)
    ignore_zeros: bool | None = None
    series: list[MetricSource] | None = Field(None, min_length=1, max_length=MAX_FUNNEL_STEPS - 1)
    funnel_order_type: Literal["ordered", "strict", "unordered"] | None = "ordered"
    numerator: MetricSource | None = None
    denominator: MetricSource | None = None

    @model_validator(mode="after")
    def _parts_of_its_type(self) -> "ExperimentMetric":
        needed = {"mean": ("source",), "funnel": ("series",), "ratio": ("numerator", "denominator")}
        for name in needed[self.metric_type]:
            if getattr(self, name) is None:
                raise ValueError(f"a {self.metric_type} metric needs '{name}'")
        return self

    def window_seconds(self) -> int:
        """The conversion window in seconds (0: none)."""
        if self.conversion_window and self.conversion_window_unit:
            return self.conversion_window * WINDOW_SECONDS[self.conversion_window_unit]
        return 0

    def breakdowns(self) -> list[Breakdown]:
        return list(self.breakdownFilter.breakdowns or []) if self.breakdownFilter else []


class ExperimentQuery(Loose):
    kind: Literal["ExperimentQuery"]
    experiment_id: int | None = None
    metric: ExperimentMetric
    name: str | None = None
    modifiers: dict[str, Any] | None = None


class ExperimentExposureQuery(Loose):
    kind: Literal["ExperimentExposureQuery"]
    experiment_id: int | None = None
    experiment_name: str | None = None
    exposure_criteria: dict[str, Any] | None = None
    feature_flag: dict[str, Any] | None = None
    start_date: str | None = Field(None, max_length=64)
    end_date: str | None = Field(None, max_length=64)
    holdout: None = None
    modifiers: dict[str, Any] | None = None


class ExperimentTrendsQuery(Loose):
    """The legacy trends metric: ``count_query`` (a ``TrendsQuery``), optional ``exposure_query``."""

    kind: Literal["ExperimentTrendsQuery"]
    experiment_id: int | None = None
    count_query: dict[str, Any]
    exposure_query: dict[str, Any] | None = None
    name: str | None = None
    modifiers: dict[str, Any] | None = None


class ExperimentFunnelsQuery(Loose):
    """The legacy funnel metric: ``funnels_query`` (a ``FunnelsQuery``)."""

    kind: Literal["ExperimentFunnelsQuery"]
    experiment_id: int | None = None
    funnels_query: dict[str, Any]
    name: str | None = None
    modifiers: dict[str, Any] | None = None


class ExposureCriteria(Loose):
    filterTestAccounts: bool | None = True
    exposure_config: dict[str, Any] | None = None
    multiple_variant_handling: Literal["exclude", "first_seen"] | None = "exclude"
