"""The people behind one data point of an insight: what each kind hands the actors query.

An insight kind answers "who is in this data point" (a trends bucket, a funnel step, a
retention cohort...) as an :class:`ActorSource`: either a HogQL SELECT whose ``actor_id``
column lists the persons (plus extra columns such as ``event_count``), or, for kinds whose
per-person walk runs here (funnels), the list of person ids. :class:`ActorPoint` is the
data point, in the fields of PostHog's ``InsightActorsQuery`` / ``FunnelsActorsQuery`` /
``StickinessActorsQuery``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Sequence

from pydantic import Field
from sqlglot import exp

from hedgerow.errors import ValidationError
from hedgerow.insights.models import InsightNode

BreakdownValue = str | int | float | None | list[str | int | float | None]


class ActorPoint(InsightNode):
    """The data point whose actors are wanted (every field optional; each kind reads its own)."""

    series: int | None = Field(None, ge=0, le=49)
    day: str | int | None = None
    """Trends/lifecycle: the bucket (``2024-01-02``, ``2024-01-02 10:00:00``); stickiness: k."""
    status: Literal["new", "returning", "resurrecting", "dormant"] | None = None
    interval: int | None = Field(None, ge=0, le=1000)
    """Retention: the cohort row."""
    breakdown: BreakdownValue = None
    compare: Literal["current", "previous"] | None = None
    operator: Literal["gte", "lte", "exact"] | None = None
    funnelStep: int | None = Field(None, ge=-30, le=30)
    funnelStepBreakdown: BreakdownValue = None
    funnelCustomSteps: list[int] | None = None
    funnelTrendsDropOff: bool | None = None
    funnelTrendsEntrancePeriodStart: str | None = None
    includeRecordings: bool | None = None


@dataclass(frozen=True)
class ActorSource:
    """The actors of a data point: a HogQL ``tree`` selecting ``actor_id`` and ``columns``,
    or the person ``ids`` (no extra columns). The actors are persons, or the keys of groups
    of type ``group_type_index``."""

    tree: exp.Expression | None = None
    ids: Sequence[str] | None = None
    columns: tuple[str, ...] = ()
    group_type_index: int | None = None


def series_index(point: ActorPoint, series: Sequence[Any]) -> int:
    """The point's series (0 when not given); a 400 when the query has no such series."""
    index = point.series or 0
    if index >= len(series):
        raise ValidationError(f"The query has no series {index}", attr="series")
    return index


def breakdown_value(value: BreakdownValue) -> str | None:
    """A breakdown value as sent by a client (a list holds one value) as text, or None."""
    if isinstance(value, list):
        if len(value) != 1:
            raise ValidationError("Give one breakdown value", attr="breakdown")
        value = value[0]
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
