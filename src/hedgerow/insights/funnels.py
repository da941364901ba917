"""``FunnelsQuery`` (steps visualisation): per-person event sequences from the engine, the
walk of :mod:`.funnel_steps`, then counts and conversion times per step (and breakdown).

The engine returns, per person, their candidate events in the date range (those matching any
step or exclusion; every event for strict funnels) as a sorted array of
``(timestamp, step flags..., exclusion flags..., breakdown value)``.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from hedgerow.errors import ValidationError
from hedgerow.hogql import LimitContext
from hedgerow.insights import breakdown, date_range, funnel_steps, series as series_
from hedgerow.insights.context import Runner, resolve_range, timezone
from hedgerow.insights.models import FunnelsQuery
from hedgerow.insights.templates import and_, expr, select

WINDOW_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400, "month": 31 * 86400}
PERSON_LIMITS = LimitContext(default=1_000_000, maximum=1_000_000)
STOPPED_AT_FIRST = funnel_steps.Outcome(0, ())
OTHER = "Other"
"""Funnels merge the values past ``breakdown_limit`` into ``Other``; a missing value is ``""``."""


def _validate(query: FunnelsQuery) -> None:
    steps = len(query.series)
    for exclusion in (query.funnelsFilter.exclusions or []) if query.funnelsFilter else []:
        if not 0 <= exclusion.funnelFromStep < exclusion.funnelToStep <= steps - 1:
            raise ValidationError("Exclusion event range is invalid. End of range should be greater than start.",
                                  attr="exclusions")


EPOCH = dt.datetime(1970, 1, 1)
ATTRIBUTION = {
    "first_touch": "argMinIf({value}, timestamp, {value} != {null})",
    "last_touch": "argMaxIf({value}, timestamp, {value} != {null})",
}
"""Breakdown attribution -> the person's value among their funnel events (non-empty ones)."""


@dataclass
class Parts:
    """The pieces of a funnel's engine queries."""

    steps: list[exp.Expression]
    exclusions: list[exp.Expression]
    value: exp.Expression
    where: exp.Expression


def _parts(query: FunnelsQuery, rng: date_range.DateRange, tz: str, strict: bool) -> Parts:
    steps = [series_.condition(node, None, tz) for node in query.series]
    exclusions = [series_.condition(x, None, tz) for x in (query.funnelsFilter.exclusions or [])] \
        if query.funnelsFilter else []
    value = breakdown.expression(query.breakdownFilter) if breakdown.enabled(query.breakdownFilter) else exp.Null()
    candidates = None if strict else exp.or_(*(exp.Paren(this=c) for c in steps + exclusions))
    where = and_(
        expr("timestamp >= {f} AND timestamp <= {t}", f=date_range.to_utc(rng.date_from), t=date_range.to_utc(rng.date_to)),
        series_.filters(query.properties, tz),
        candidates,
    )
    return Parts(steps, exclusions, value, where)


def _walked(parts: Parts) -> exp.Expression:
    """Per person who did anything beyond the first step: their sorted candidate events."""
    flags = [expr("if({c}, 1, 0)", c=c) for c in parts.steps + parts.exclusions]
    item = exp.Anonymous(this="tuple", expressions=[
        expr("dateDiff('microsecond', {epoch}, timestamp)", epoch=EPOCH), *flags, parts.value])
    return select(
        "SELECT person_id, arraySort(groupArray({item})) FROM events WHERE {where} "
        "GROUP BY person_id HAVING max(if({later}, 1, 0)) = 1",
        item=item, where=parts.where, later=exp.or_(*(exp.Paren(this=c) for c in parts.steps[1:] + parts.exclusions)),
    )


def _first_step_only(parts: Parts, attribution: str) -> exp.Expression:
    """Persons whose candidate events all match the first step only: they stop at step 0,
    so they are counted in the engine (per attributed breakdown value) without a walk."""
    return select(
        "SELECT value, count() FROM ("
        f" SELECT person_id, {ATTRIBUTION[attribution]} AS value"
        " FROM events WHERE {where} GROUP BY person_id"
        " HAVING max(if({later}, 1, 0)) = 0 AND max(if({first}, 1, 0)) = 1) GROUP BY value",
        value=parts.value, where=parts.where, first=parts.steps[0], null=breakdown.NULL,
        later=exp.or_(*(exp.Paren(this=c) for c in parts.steps[1:] + parts.exclusions)),
    )


def _attribution(events: list, kind: str) -> str:
    values = [v for _, v, _ in events if v not in (None, "", breakdown.NULL)]
    if not values:
        return ""
    return values[0] if kind == "first_touch" else values[-1]


def run(ctx: Runner, query: FunnelsQuery) -> dict[str, Any]:
    """Compute a FunnelsQuery (steps) in PostHog's response shape."""
    _validate(query)
    tz = timezone(ctx)
    options = query.funnelsFilter or type(query).model_fields["funnelsFilter"].annotation.__args__[0]()  # type: ignore[union-attr]
    order = options.funnelOrderType or "ordered"
    window = (options.funnelWindowInterval or 14) * WINDOW_SECONDS[options.funnelWindowIntervalUnit or "day"]
    rng = resolve_range(ctx, query.dateRange, "day")
    attribution = options.breakdownAttributionType or "first_touch"
    parts = _parts(query, rng, tz, order == "strict")
    walked = ctx.compile(_walked(parts), limit_context=PERSON_LIMITS)
    rows = ctx.execute(walked).results
    first_only = ctx.compile(_first_step_only(parts, attribution), limit_context=PERSON_LIMITS)

    num_steps = len(query.series)
    exclusions = options.exclusions or []
    has_breakdown = breakdown.enabled(query.breakdownFilter)
    outcomes: dict[str, list[funnel_steps.Outcome]] = defaultdict(list)
    for value, persons in ctx.execute(first_only).results:
        key = (value if value not in (None, breakdown.NULL) else "") if has_breakdown else ""
        outcomes[key].extend([STOPPED_AT_FIRST] * persons)
    for _, items in rows:
        events = []
        for item in items:
            flags = item[1:1 + num_steps + len(exclusions)]
            steps = [i + 1 for i in range(num_steps) if flags[i]]
            for j, exclusion in enumerate(exclusions):
                if flags[num_steps + j]:
                    steps.extend(-(s) for s in range(exclusion.funnelFromStep + 2, exclusion.funnelToStep + 2))
            events.append((item[0] / 1e6, item[-1], steps))
        if order == "unordered":
            outcome = funnel_steps.unordered(events, num_steps, window)
        else:
            outcome = funnel_steps.ordered(events, num_steps, window, strict=order == "strict")
        if outcome is None or outcome.step < 0:
            continue
        key = _attribution([e for e in events if any(s > 0 for s in e[2])], attribution) if has_breakdown else ""
        outcomes[key].append(outcome)

    if has_breakdown:
        counted = {key: _steps(query, people, num_steps, order) for key, people in outcomes.items()}
        limit = breakdown.limit_of(query.breakdownFilter)
        ranked = sorted(counted.items(), key=lambda kv: ([-s["count"] for s in reversed(kv[1])], kv[0]))
        kept, rest = ranked[:limit], ranked[limit:]
        if rest:
            merged = [p for key, _ in rest for p in outcomes[key]]
            kept.append((OTHER, _steps(query, merged, num_steps, order)))
        as_list = isinstance(query.breakdownFilter.breakdown, list)  # type: ignore[union-attr]
        results: list = []
        for key, steps in kept:
            for step in steps:
                step["breakdown"] = [key] if as_list else key
                step["breakdown_value"] = [key] if as_list else key
            results.append(steps)
    else:
        people = outcomes.get("", [])
        results = _steps(query, people, num_steps, order) if people else []
    return {
        "results": results,
        "hogql": walked.hogql + "\n\n" + first_only.hogql,
        "isUdf": False,
        "resolved_date_range": {"date_from": rng.date_from_iso, "date_to": rng.date_to_iso},
        "error": None,
        "timings": ctx.timings,
    }


def _steps(query: FunnelsQuery, people: list[funnel_steps.Outcome], num_steps: int, order: str) -> list[dict]:
    out = []
    for index in range(num_steps):
        reached = [p for p in people if p.step >= index]
        durations = [p.durations[index - 1] for p in reached if index > 0 and p.durations[index - 1] > 0]
        node = query.series[index]
        unordered = order == "unordered"
        out.append({
            "action_id": None if unordered else node.event,
            "name": f"Completed {index + 1} step{'s' if index else ''}" if unordered else series_.label(node),
            "custom_name": None if unordered else node.custom_name,
            "order": index,
            "people": [],
            "count": len(reached),
            "type": "events",
            "average_conversion_time": statistics.fmean(durations) if durations else None,
            "median_conversion_time": statistics.median(durations) if durations else None,
        })
    return out
