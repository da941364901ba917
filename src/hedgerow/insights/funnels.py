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
from typing import Any

from sqlglot import exp

from hedgerow.errors import ValidationError
from hedgerow.hogql import LimitContext
from hedgerow.insights import breakdown, date_range, funnel_steps, series as series_
from hedgerow.insights.context import Runner, now, timezone, week_start_day
from hedgerow.insights.models import FunnelsQuery
from hedgerow.insights.templates import and_, expr, select

WINDOW_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400, "month": 31 * 86400}
PERSON_LIMITS = LimitContext(default=1_000_000, maximum=1_000_000)


def _seconds(text: Any) -> float:
    value = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.timestamp()


def _validate(query: FunnelsQuery) -> None:
    steps = len(query.series)
    for exclusion in (query.funnelsFilter.exclusions or []) if query.funnelsFilter else []:
        if not 0 <= exclusion.funnelFromStep < exclusion.funnelToStep <= steps - 1:
            raise ValidationError("Exclusion event range is invalid. End of range should be greater than start.",
                                  attr="exclusions")


def _tree(query: FunnelsQuery, rng: date_range.DateRange, tz: str, strict: bool) -> exp.Expression:
    steps = [series_.condition(node.model_copy(update={"properties": node.properties}), None, tz)
             for node in query.series]
    exclusions = [series_.condition(x, None, tz) for x in (query.funnelsFilter.exclusions or [])] \
        if query.funnelsFilter else []
    flags = [expr("if({c}, 1, 0)", c=c) for c in steps + exclusions]
    has_breakdown = breakdown.enabled(query.breakdownFilter)
    value = breakdown.expression(query.breakdownFilter) if has_breakdown else exp.Null()
    item = exp.Anonymous(this="tuple", expressions=[expr("timestamp"), *flags, value])
    candidates = None if strict else exp.or_(*(exp.Paren(this=c) for c in steps + exclusions))
    return select(
        "SELECT person_id, arraySort(groupArray({item})) FROM events "
        "WHERE timestamp >= {date_from} AND timestamp <= {date_to} AND {condition} GROUP BY person_id",
        item=item,
        date_from=date_range.to_utc(rng.date_from),
        date_to=date_range.to_utc(rng.date_to),
        condition=and_(series_.filters(query.properties, tz), candidates),
    )


def _attribution(events: list, kind: str) -> str:
    values = [v for _, v, _ in events if v not in (None, "")]
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
    rng = date_range.resolve(query.dateRange, interval="day", timezone=tz, week_start_day=week_start_day(ctx), now=now())
    compiled = ctx.compile(_tree(query, rng, tz, order == "strict"), limit_context=PERSON_LIMITS)
    rows = ctx.execute(compiled).results

    num_steps = len(query.series)
    exclusions = (options.exclusions or []) if order != "unordered" else (options.exclusions or [])
    has_breakdown = breakdown.enabled(query.breakdownFilter)
    outcomes: dict[str, list[funnel_steps.Outcome]] = defaultdict(list)
    for _, items in rows:
        events = []
        for item in items:
            flags = item[1:1 + num_steps + len(exclusions)]
            steps = [i + 1 for i in range(num_steps) if flags[i]]
            for j, exclusion in enumerate(exclusions):
                if flags[num_steps + j]:
                    steps.extend(-(s) for s in range(exclusion.funnelFromStep + 2, exclusion.funnelToStep + 2))
            events.append((_seconds(item[0]), item[-1], steps))
        if order == "unordered":
            outcome = funnel_steps.unordered(events, num_steps, window)
        else:
            outcome = funnel_steps.ordered(events, num_steps, window, strict=order == "strict")
        if outcome is None or outcome.step < 0:
            continue
        key = _attribution([e for e in events if any(s > 0 for s in e[2])],
                           options.breakdownAttributionType or "first_touch") if has_breakdown else ""
        outcomes[key].append(outcome)

    if has_breakdown:
        counted = {key: _steps(query, people, num_steps, order) for key, people in outcomes.items()}
        limit = breakdown.limit_of(query.breakdownFilter)
        ranked = sorted(counted.items(), key=lambda kv: ([-s["count"] for s in reversed(kv[1])], kv[0]))
        kept, rest = ranked[:limit], ranked[limit:]
        if rest:
            merged = [p for key, _ in rest for p in outcomes[key]]
            kept.append((breakdown.OTHER, _steps(query, merged, num_steps, order)))
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
        "hogql": compiled.hogql,
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
