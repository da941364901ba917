"""``TrendsQuery``: one HogQL aggregate per series (and per compare period), shaped here.

Each series compiles to ``SELECT bucket[, breakdown], <math> FROM events WHERE <window> AND
<series filters> GROUP BY ...``; weekly/monthly active users first reduce events to distinct
(actor, local day) pairs and spread each over the 7 or 30 days it counts in. Buckets are local
dates (``toDate``/``toStartOfWeek``/``toStartOfMonth``) or local hours, zero-filled here from
the resolved :class:`~hedgerow.insights.date_range.DateRange`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from hedgerow.errors import ValidationError
from hedgerow.hogql.property_filters import literal
from hedgerow.insights import breakdown, date_range, formula, histogram, series as series_
from hedgerow.insights.actor_source import ActorPoint, ActorSource, breakdown_value, series_index
from hedgerow.insights.context import Runner, global_properties, resolve_range, run_rows, timezone
from hedgerow.insights.models import COUNT_PER_ACTOR_MATHS, TrendsQuery
from hedgerow.insights.templates import and_, expr, select

EXACT_DISPLAY = "BoldNumber"
"""PostHog counts a bold number over its exact range: a relative start is not rounded to the day,
and without ``date_to`` it ends now."""
TOTAL_DISPLAYS = frozenset({"BoldNumber", "ActionsPie", "ActionsBarValue", "ActionsTable", "WorldMap"})
ACTIVE_WINDOWS = {"weekly_active": 7, "monthly_active": 30}
FIRST_TIME_MATHS = ("first_time_for_user", "first_matching_event_for_user")
BUCKETS = {"minute": "toStartOfMinute(timestamp)", "hour": "toStartOfHour(timestamp)", "day": "toDate(timestamp)", "week": "toStartOfWeek(timestamp)",
           "month": "toStartOfMonth(timestamp)"}  # fmt: skip


def bucket_key(value: Any) -> str:
    """An engine bucket value (local date, or local datetime with offset) as a ``days`` key."""
    text = str(value)
    return text[:19].replace("T", " ") if len(text) > 10 else text[:10]


@dataclass(frozen=True)
class Period:
    """One date range a series is computed over (the current one, or the compare one)."""

    range: date_range.DateRange
    compare_label: str | None


def _math(node: Any, interval: str, total_value: bool) -> str:
    """The math computed: weekly (monthly) active users per week (month) or longer is plain
    unique users per bucket, as in PostHog; sliding windows are only computed per day."""
    math = node.math or "total"
    if math in ACTIVE_WINDOWS and not total_value:
        if interval in ("week", "month") and (math == "weekly_active" or interval == "month"):
            return "dau"
        if interval != "day":
            raise ValidationError(f"Math '{math}' with a {interval} interval is not supported", attr="math")
    return math


WINDOW = "timestamp >= {date_from} AND timestamp <= {date_to}"
TEMPLATES: dict[tuple[str, bool], str] = {
    ("plain", False): "SELECT {bucket} AS bucket, {breakdown} AS breakdown_value, {value} AS value FROM events"
                      " WHERE " + WINDOW + " AND {condition} GROUP BY bucket, breakdown_value",
    ("plain", True): "SELECT {breakdown} AS breakdown_value, {value} AS value FROM events"
                     " WHERE " + WINDOW + " AND {condition} GROUP BY breakdown_value",
    # weekly/monthly active: each (actor, local day) counts in the {span} days from that day on
    ("active", False): "SELECT bucket, breakdown_value, count(DISTINCT actor) AS value FROM ("
                       " SELECT addDays(day, arrayJoin(range({span}))) AS bucket, actor, breakdown_value FROM ("
                       "  SELECT DISTINCT {actor} AS actor, toDate(timestamp) AS day, {breakdown} AS breakdown_value"
                       "  FROM events WHERE " + WINDOW + " AND {condition})) GROUP BY bucket, breakdown_value",
    ("active", True): "SELECT {breakdown} AS breakdown_value, count(DISTINCT {actor}) AS value FROM events"
                      " WHERE " + WINDOW + " AND {condition} GROUP BY breakdown_value",
    ("per_actor", False): "SELECT bucket, breakdown_value, {value} AS value FROM (SELECT {bucket} AS bucket,"
                          " {breakdown} AS breakdown_value, person_id, count() AS n FROM events"
                          " WHERE " + WINDOW + " AND {condition} GROUP BY bucket, breakdown_value, person_id)"
                          " GROUP BY bucket, breakdown_value",
    ("per_actor", True): "SELECT breakdown_value, {value} AS value FROM (SELECT {breakdown} AS breakdown_value,"
                         " person_id, count() AS n FROM events WHERE " + WINDOW + " AND {condition}"
                         " GROUP BY breakdown_value, person_id) GROUP BY breakdown_value",
    # cumulative unique users (groups): each counts once, in the bucket of their first event
    ("first_bucket", False): "SELECT bucket, breakdown_value, count() AS value FROM ("
                             " SELECT {actor} AS actor, min({bucket}) AS bucket, {breakdown} AS breakdown_value"
                             " FROM events WHERE " + WINDOW + " AND {condition} GROUP BY actor, breakdown_value)"
                             " GROUP BY bucket, breakdown_value",
    # first time for user: each person once, at their first-ever event of the series, if it {passes}
    ("first_seen", False): "SELECT {first_bucket} AS bucket, breakdown_value, count() AS value FROM ("
                           " SELECT person_id, min(timestamp) AS first_seen, argMin(if({passes}, 1, 0), timestamp)"
                           "  AS passes, argMin({breakdown}, timestamp) AS breakdown_value FROM events"
                           "  WHERE {seen} AND timestamp <= {date_to} GROUP BY person_id)"
                           " WHERE passes = 1 AND first_seen >= {date_from} GROUP BY bucket, breakdown_value",
    ("first_seen", True): "SELECT breakdown_value, count() AS value FROM ("
                          " SELECT person_id, min(timestamp) AS first_seen, argMin(if({passes}, 1, 0), timestamp)"
                          "  AS passes, argMin({breakdown}, timestamp) AS breakdown_value FROM events"
                          "  WHERE {seen} AND timestamp <= {date_to} GROUP BY person_id)"
                          " WHERE passes = 1 AND first_seen >= {date_from} GROUP BY breakdown_value",
}
"""(query shape, one total value) -> the HogQL of one series; holes filled by :func:`_series_query`."""


def _shape(math: str, cumulative: bool) -> str:
    if math in ACTIVE_WINDOWS:
        return "active"
    if math in COUNT_PER_ACTOR_MATHS:
        return "per_actor"
    if math in FIRST_TIME_MATHS:
        return "first_seen"
    return "first_bucket" if cumulative and math in ("dau", "unique_group") else "plain"


def _series_query(query: TrendsQuery, node: Any, period: Period, math: str, total_value: bool, tz: str,
                  properties: Any, cumulative: bool = False, kept: list[str] | None = None) -> exp.Expression:
    rng = period.range
    has_breakdown = breakdown.enabled(query.breakdownFilter)
    shape = _shape(math, cumulative and not total_value)
    holes: dict[str, Any] = {
        "condition": series_.condition(node, properties, tz),
        "date_from": date_range.to_utc(rng.window_from),
        "date_to": date_range.to_utc(rng.date_to),
        "breakdown": breakdown.expression(query.breakdownFilter, kept) if has_breakdown else exp.Null(),
        "bucket": expr(BUCKETS[rng.interval]),
        "actor": series_.actor(node.model_copy(update={"math": math})),
    }
    if shape == "active":
        holes["span"] = ACTIVE_WINDOWS[math]
        start = rng.date_from if total_value else rng.window_from
        holes["date_from"] = date_range.to_utc(date_range.step(start, "day", -(holes["span"] - 1)))
    elif shape == "per_actor":
        holes["value"] = series_.per_actor(node)
    elif shape == "first_seen":
        filters = and_(series_.filters(properties, tz), series_.filters(node.properties, tz))
        event = series_.node_condition(node)
        if math == "first_matching_event_for_user":
            holes.update(seen=and_(event, filters), passes=exp.true())
        else:
            holes.update(seen=and_(event), passes=filters)
        holes["first_bucket"] = expr(BUCKETS[rng.interval].replace("timestamp", "first_seen"))
    else:
        holes["value"] = series_.aggregate(node.model_copy(update={"math": math}))
    text = TEMPLATES[(shape, total_value)]
    return select(text, **{name: hole for name, hole in holes.items() if "{" + name + "}" in text})


def _number(value: Any) -> Any:
    return 0 if value is None else value


def _filter_dict(query: TrendsQuery, rng: date_range.DateRange) -> dict[str, Any]:
    out: dict[str, Any] = {
        "insight": "TRENDS",
        "properties": query.properties,
        "filter_test_accounts": query.filterTestAccounts,
        "date_to": rng.date_to_iso,
        "date_from": rng.date_from_iso,
        "entity_type": "events",
        "aggregation_group_type_index": query.aggregation_group_type_index,
        "interval": query.interval,
    }
    if query.trendsFilter is not None:
        out.update(query.trendsFilter.model_dump(exclude_none=True))
    if query.breakdownFilter is not None:
        out.update(query.breakdownFilter.model_dump(exclude_none=True))
    return {k: v for k, v in out.items() if v is not None}


def _action(node: Any, order: int, rng: date_range.DateRange) -> dict[str, Any]:
    return {
        "days": [rng.key(b) for b in rng.buckets],
        "id": series_.node_id(node),
        "type": series_.node_type(node),
        "order": order,
        "name": series_.label(node),
        "custom_name": node.custom_name,
        "math": node.math,
        "math_property": node.math_property,
        "math_hogql": node.math_hogql,
        "math_group_type_index": node.math_group_type_index,
        "properties": {},
    }


def _rows_by_value(rows: list, total_value: bool) -> dict[str, Any]:
    """Engine rows as ``breakdown value -> {bucket: value}`` (or ``-> value`` for totals)."""
    out: dict[str, Any] = {}
    for row in rows:
        if total_value:
            out[breakdown.normalise(row[0])] = _number(row[1])
        else:
            out.setdefault(breakdown.normalise(row[1]), {})[bucket_key(row[0])] = _number(row[2])
    return out


def run(ctx: Runner, query: TrendsQuery) -> dict[str, Any]:
    """Compute a TrendsQuery in PostHog's response shape."""
    tz = timezone(ctx)
    display = (query.trendsFilter.display if query.trendsFilter else None) or "ActionsLineGraph"
    total_value = display in TOTAL_DISPLAYS
    interval = "day" if total_value else (query.interval or "day")
    current = resolve_range(ctx, query.dateRange, interval, exact=display == EXACT_DISPLAY)
    periods = [Period(current, None)]
    compare = query.compareFilter is not None and bool(query.compareFilter.compare)
    if compare:
        periods = [Period(current, "current"), Period(_previous(query, current), "previous")]
    has_breakdown = breakdown.enabled(query.breakdownFilter)
    properties = global_properties(ctx, query)
    limit = breakdown.limit_of(query.breakdownFilter) if has_breakdown else 0
    cohorts = breakdown.cohorts(query.breakdownFilter)
    bins = breakdown.histogram_bins(query.breakdownFilter) if cohorts is None else []
    if bins:
        histogram.refuse_unsupported_maths(query.series)
    unbroken = query.model_copy(update={"breakdownFilter": None})
    cohort_names: dict[Any, str] = {"all": "all users"}
    if cohorts:
        cohort_names.update(ctx.cohort_names([c for c in cohorts if c != "all"]))
    hogql: list[str] = []
    results: list[dict[str, Any]] = []
    has_more = False
    for period in periods:
        rng = period.range
        days = [rng.key(b) for b in rng.buckets]
        for order, node in enumerate(query.series):
            math = _math(node, interval, total_value)
            cumulative = display == "ActionsLineGraphCumulative"
            total = (lambda v: v) if total_value else (lambda cells: sum(cells.values()))
            if cohorts is not None:
                ranked = []
                for cohort in cohorts:
                    tree = _series_query(unbroken, node, period, math, total_value, tz,
                                         _with_cohort(properties, cohort), cumulative)
                    rows, text = run_rows(ctx, tree)
                    hogql.append(text)
                    cells = _rows_by_value(rows, total_value).get(breakdown.NULL, 0 if total_value else {})
                    ranked.append((cohort, cells))
                for value_key, cells in ranked:
                    element = _element(query, node, order, rng, days, cells, total_value, display)
                    name = cohort_names.get(value_key, str(value_key))
                    element["label"] = name if len(query.series) == 1 else f"{element['label']} - {name}"
                    element["breakdown_value"] = value_key
                    if compare:
                        element.update(compare=True, compare_label=period.compare_label)
                    results.append(element)
                continue
            tree = _series_query(query, node, period, math, total_value, tz, properties, cumulative)
            rows, text = run_rows(ctx, tree)
            hogql.append(text)
            by_value = _rows_by_value(rows, total_value)
            if bins:
                by_value = histogram.binned(by_value, bins, bool(breakdown.multiple(query.breakdownFilter)))
                kept = breakdown.top(by_value, total, limit)
                if kept is not None:
                    by_value = histogram.fold_other(by_value, kept)
                ranked = breakdown.order(by_value, total)
            elif has_breakdown:
                kept = breakdown.top(by_value, total, limit)
                if kept is not None:
                    tree = _series_query(query, node, period, math, total_value, tz, properties, cumulative, kept)
                    rows, text = run_rows(ctx, tree)
                    hogql.append(text)
                    by_value = _rows_by_value(rows, total_value)
                ranked = breakdown.order(by_value, total)
            else:
                ranked = [(None, by_value.get(breakdown.NULL, 0 if total_value else {}))]
            for value_key, cells in ranked:
                element = _element(query, node, order, rng, days, cells, total_value, display)
                if has_breakdown:
                    has_more = has_more or value_key == breakdown.OTHER
                    shown, label = breakdown.shown(query.breakdownFilter, value_key)
                    element["label"] = label if len(query.series) == 1 else f"{element['label']} - {label}"
                    element["breakdown_value"] = shown
                if compare:
                    element["compare"] = True
                    element["compare_label"] = period.compare_label
                results.append(element)
    if cohorts:  # PostHog runs one query per cohort and series, cohort by cohort
        position = {cohort: i for i, cohort in enumerate(cohorts)}
        periods_order = {None: 0, "current": 0, "previous": 1}
        results.sort(key=lambda r: (periods_order[r.get("compare_label")], position[r["breakdown_value"]]))
    formulas = _formulas(query)
    if formulas:
        results = _with_formulas(results, formulas, has_breakdown, compare, total_value)
    if has_more and query.breakdownFilter and query.breakdownFilter.breakdown_hide_other_aggregation:
        results = [r for r in results if not _is_other(r.get("breakdown_value"))]
    return {
        "results": results,
        "hasMore": has_more,
        "hogql": "\n\n".join(hogql),
        "resolved_date_range": {"date_from": current.date_from_iso, "date_to": current.date_to_iso},
        "error": None,
        "timings": ctx.timings,
    }


def _with_cohort(properties: Any, cohort: int | str) -> Any:
    """The global properties and, for a cohort breakdown value, membership of that cohort."""
    condition = breakdown.cohort_filter(cohort)
    return properties if condition is None else [*(properties or []), condition]


def _element(query: TrendsQuery, node: Any, order: int, rng: date_range.DateRange, days: list[str],
             cells: Any, total_value: bool, display: str) -> dict[str, Any]:
    element: dict[str, Any]
    if total_value:
        element = {"data": [], "days": days, "count": 0, "aggregated_value": cells}
    else:
        data = [cells.get(day, 0) for day in days]
        smoothing = query.trendsFilter.smoothingIntervals if query.trendsFilter else None
        if smoothing and smoothing > 1:
            data = [math.floor(sum(data[max(0, i - smoothing + 1):i + 1]) / (i + 1 - max(0, i - smoothing + 1)))
                    for i in range(len(data))]
        if display == "ActionsLineGraphCumulative":
            running, cumulative = 0, []
            for value in data:
                running += value
                cumulative.append(running)
            data = cumulative
        count = data[-1] if display == "ActionsLineGraphCumulative" and data else float(sum(data))
        element = {"data": data, "labels": [rng.label(b) for b in rng.buckets], "days": days, "count": count}
    element.update(
        label=series_.label(node),
        filter=_filter_dict(query, rng),
        action=_action(node, order, rng),
    )
    return element


def _previous(query: TrendsQuery, current: date_range.DateRange) -> date_range.DateRange:
    """The compare period: the previous one of the same length, or shifted by ``compare_to``."""
    compare_to = query.compareFilter.compare_to if query.compareFilter else None
    if compare_to:
        return current.shifted(date_range.offset(current.date_from, compare_to, field="compare_to"),
                               date_range.offset(current.date_to, compare_to, field="compare_to"))
    start, end = current.date_from, current.date_to
    diff = end - start
    previous_from = start - diff
    if current.interval in date_range.SUB_DAY:
        previous_from = previous_from.replace(minute=start.minute, second=start.second, microsecond=start.microsecond,
                                              hour=start.hour)
        previous_to = (previous_from + diff).replace(minute=end.minute, second=end.second, microsecond=end.microsecond)
    else:
        previous_from = previous_from.replace(hour=start.hour, minute=start.minute, second=start.second,
                                              microsecond=start.microsecond)
        raw_from = query.dateRange.date_from if query.dateRange else None
        raw_to = query.dateRange.date_to if query.dateRange else None
        weekly = _days_delta(raw_from)
        if current.interval == "day" and weekly is not None and weekly % 7 == 0 and not _is_relative(raw_to):
            previous_from += dt.timedelta(days=1)
        previous_to = (previous_from + diff).replace(hour=end.hour, minute=end.minute, second=end.second,
                                                    microsecond=end.microsecond)
    return current.shifted(previous_from, previous_to)


def _days_delta(raw: str | None) -> int | None:
    if raw is None:
        return date_range.DEFAULT_DAYS
    match = date_range.RELATIVE.match(raw.strip())
    if not match or match.group(3) != "d" or match.group(4):
        return None
    return int(match.group(2) or 1)


def _is_relative(raw: str | None) -> bool:
    return bool(raw) and date_range.RELATIVE.match(raw.strip()) is not None


def _formulas(query: TrendsQuery) -> list[tuple[Any, str, str | None]]:
    """(parsed, text, custom name) of each formula (``formulaNodes`` win over the older keys)."""
    options = query.trendsFilter
    if options is None:
        return []
    nodes = [(n.formula, n.custom_name) for n in options.formulaNodes or []]
    if not nodes:
        texts = options.formulas or ([options.formula] if options.formula else [])
        nodes = [(text, None) for text in texts]
    return [(formula.parse(text), text, name) for text, name in nodes if text and text.strip()]


def _hashable(value: Any) -> Any:
    """A breakdown value as a set member (several breakdowns' values are a list)."""
    return tuple(value) if isinstance(value, list) else value


def _is_other(value: Any) -> bool:
    """Whether a result's breakdown value is the "other" row (of one or several breakdowns)."""
    if isinstance(value, list):
        return bool(value) and all(v == breakdown.OTHER for v in value)
    return value == breakdown.OTHER


def _group_key(element: dict[str, Any]) -> tuple:
    value = element.get("breakdown_value")
    if _is_other(value):
        value = breakdown.OTHER
    rank = -2 if value == breakdown.OTHER else -1 if value == breakdown.NULL else 0
    total = element["aggregated_value"] if "aggregated_value" in element else sum(element.get("data") or [])
    return rank, total, element.get("count"), element.get("data"), repr(value)


def _with_formulas(results: list[dict[str, Any]], formulas: list, has_breakdown: bool, compare: bool,
                   total_value: bool) -> list[dict[str, Any]]:
    """Replace the series results by one result per formula (per breakdown value / period)."""
    out: list[dict[str, Any]] = []
    labels = ["current", "previous"] if compare else [None]
    for tree, text, custom_name in formulas:
        for period_label in labels:
            subset = [r for r in results if r.get("compare_label") == period_label]
            by_order: dict[int, list[dict[str, Any]]] = {}
            for element in subset:
                by_order.setdefault(element["action"]["order"], []).append(element)
            orders = sorted(by_order)
            keys = sorted({_hashable(e.get("breakdown_value")) for e in subset}, key=str) if has_breakdown else [None]
            group = []
            for key in keys:
                members = [next((e for e in by_order[o] if _hashable(e.get("breakdown_value")) == key), None)
                           for o in orders]
                base = next(m for m in members if m is not None)
                element = {k: v for k, v in base.items()}
                element.update(label=custom_name or f"Formula ({text})", action=None)
                if total_value:
                    values = [[m["aggregated_value"] if m else 0] for m in members]
                    element.update(aggregated_value=float(sum(formula.apply(tree, values))), data=None, count=0)
                else:
                    width = len(base["data"])
                    values = [m["data"] if m else [0] * width for m in members]
                    data = formula.apply(tree, values)
                    element.update(data=data, count=float(sum(data)))
                group.append(element)
            if has_breakdown:
                group.sort(key=_group_key, reverse=True)
            out.extend(group)
    return out


# -- actors --------------------------------------------------------------------------------

ACTOR_TEMPLATES = {
    "events": "SELECT person_id AS actor_id, count() AS event_count,"
              " arraySort(groupUniqArray(distinct_id)) AS event_distinct_ids FROM events"
              " WHERE timestamp >= {date_from} AND timestamp < {date_to} AND {condition} GROUP BY actor_id",
    "group_events": "SELECT {group} AS actor_id, count() AS event_count FROM events"
                    " WHERE timestamp >= {date_from} AND timestamp < {date_to} AND {condition} GROUP BY actor_id",
    "first_seen": "SELECT actor_id, 1 AS event_count, [first_distinct_id] AS event_distinct_ids FROM ("
                  " SELECT person_id AS actor_id, min(timestamp) AS first_seen, argMin(if({passes}, 1, 0), timestamp)"
                  "  AS passes, argMin(distinct_id, timestamp) AS first_distinct_id,"
                  "  argMin({breakdown}, timestamp) AS breakdown_value FROM events"
                  "  WHERE {seen} AND timestamp < {date_to} GROUP BY actor_id)"
                  " WHERE passes = 1 AND first_seen >= {date_from} AND {matches}",
}  # fmt: skip
"""The actors of one trends data point: those with series events in its window (or, for the
first-time maths, whose first event falls in it), with their number of events and the distinct
ids those events came from; for a series counting groups, its groups (keys) with their number
of events (as PostHog, no distinct ids; the first-time maths count persons only)."""


def _actor_window(rng: date_range.DateRange, math: str, day: str | int | None, total_value: bool,
                  cumulative: bool) -> tuple[dt.datetime, dt.datetime]:
    """The local [start, end) of the events behind a data point."""
    end_of_range = rng.date_to + dt.timedelta(microseconds=1)
    if day is None or total_value:
        start, end = rng.window_from, end_of_range
        if math in ACTIVE_WINDOWS:
            start = date_range.step(rng.date_from, "day", -(ACTIVE_WINDOWS[math] - 1))
        return start, end
    keys = {rng.key(b): b for b in rng.buckets}
    bucket = keys.get(str(day)[:19].replace("T", " ") if rng.interval in date_range.SUB_DAY else str(day)[:10])
    if bucket is None:
        raise ValidationError(f"The day '{day}' is not a bucket of the insight's date range", attr="day")
    start = max(bucket, rng.window_from)
    end = min(date_range.step(bucket, rng.interval), end_of_range)
    if math in ACTIVE_WINDOWS:
        start = date_range.step(bucket, "day", -(ACTIVE_WINDOWS[math] - 1))
    if cumulative:
        start = rng.window_from
    return start, end


def actors(ctx: Runner, query: TrendsQuery, point: ActorPoint) -> ActorSource:
    """The actors behind one trends value: series ``point.series`` in bucket ``point.day``
    (the whole range for total-value displays), breakdown value ``point.breakdown``, period
    ``point.compare``; the groups of a series counting groups, else the persons."""
    tz = timezone(ctx)
    node = query.series[series_index(point, query.series)]
    display = (query.trendsFilter.display if query.trendsFilter else None) or "ActionsLineGraph"
    total_value = display in TOTAL_DISPLAYS
    interval = "day" if total_value else (query.interval or "day")
    rng = resolve_range(ctx, query.dateRange, interval, exact=display == EXACT_DISPLAY)
    if point.compare == "previous":
        rng = _previous(query, rng)
    math = _math(node, interval, total_value)
    counted = node.model_copy(update={"math": math})
    group_type_index = node.math_group_type_index if series_.counts_groups(counted) else None
    cumulative = display == "ActionsLineGraphCumulative"
    start, end = _actor_window(rng, math, point.day, total_value, cumulative)
    properties = global_properties(ctx, query)
    matches: exp.Expression = exp.true()
    value_expr: exp.Expression = exp.Null()
    cohorts = breakdown.cohorts(query.breakdownFilter)
    bins = breakdown.histogram_bins(query.breakdownFilter) if cohorts is None else []
    if bins:
        wanted_parts = _wanted_parts(query.breakdownFilter, point.breakdown)
        if len(wanted_parts) > 1 and math in FIRST_TIME_MATHS:
            raise ValidationError("The first-time actors of several breakdowns with bins are not supported",
                                  attr="breakdown")
        value_expr, wanted_bin = wanted_parts[0]
        matches = _part_condition(wanted_bin, exp.column("breakdown_value")) or matches
    elif cohorts is not None:
        wanted = breakdown_value(point.breakdown)
        chosen = next((c for c in cohorts if str(c) == wanted), None)
        if chosen is None:
            raise ValidationError(f"The breakdown has no cohort {wanted!r}", attr="breakdown")
        properties = _with_cohort(properties, chosen)
    elif breakdown.enabled(query.breakdownFilter):
        wanted = breakdown.key_of(query.breakdownFilter, point.breakdown)
        kept = None
        if wanted == breakdown.OTHER:
            tree = _series_query(query, node, Period(rng, None), math, total_value, tz, properties, cumulative)
            by_value = _rows_by_value(run_rows(ctx, tree)[0], total_value)
            total = (lambda v: v) if total_value else (lambda cells: sum(cells.values()))
            kept = breakdown.top(by_value, total, breakdown.limit_of(query.breakdownFilter)) or []
        value_expr = breakdown.expression(query.breakdownFilter, kept)
        if wanted is not None:
            matches = exp.EQ(this=exp.column("breakdown_value"), expression=literal(wanted))
    if math in FIRST_TIME_MATHS:
        filters = and_(series_.filters(properties, tz), series_.filters(node.properties, tz))
        event = series_.event_condition(node.event)
        first_matching = math == "first_matching_event_for_user"
        tree = select(ACTOR_TEMPLATES["first_seen"], seen=and_(event, filters) if first_matching else and_(event),
                      passes=exp.true() if first_matching else filters, breakdown=value_expr, matches=matches,
                      date_from=date_range.to_utc(start), date_to=date_range.to_utc(end))
    else:
        condition = series_.condition(node, properties, tz)
        if bins:
            condition = and_(condition, *(_part_condition(wanted, value) for value, wanted in wanted_parts))
        elif not isinstance(matches, exp.Boolean):
            condition = and_(condition, exp.EQ(this=value_expr, expression=matches.expression))
        if group_type_index is not None:
            tree = select(ACTOR_TEMPLATES["group_events"], condition=condition, group=series_.group_key(counted),
                          date_from=date_range.to_utc(start), date_to=date_range.to_utc(end))
            return ActorSource(tree=tree, columns=("event_count",), group_type_index=group_type_index)
        tree = select(ACTOR_TEMPLATES["events"], condition=condition,
                      date_from=date_range.to_utc(start), date_to=date_range.to_utc(end))
    return ActorSource(tree=tree, columns=("event_count", "event_distinct_ids"))


def _wanted_parts(breakdown_filter: Any, wanted: Any) -> list[tuple[exp.Expression, Any]]:
    """(each breakdown's value over events, the value asked for) of a breakdown with bins."""
    parts = breakdown.parts(breakdown_filter)
    if isinstance(wanted, list) and not breakdown_filter.breakdowns and len(wanted) == 1:
        wanted = wanted[0]  # one breakdown's value, sent in a list
    values = wanted if breakdown_filter.breakdowns and isinstance(wanted, list) else [wanted]
    if len(values) != len(parts):
        raise ValidationError(f"Give {len(parts)} breakdown values", attr="breakdown")
    return [(value, (asked, binned)) for (value, binned), asked in zip(parts, values)]


def _part_condition(wanted: tuple[Any, bool], value: exp.Expression) -> exp.Expression | None:
    """The events whose breakdown ``value`` is the one ``wanted``: in its bin for a histogram."""
    asked, binned = wanted
    if binned:
        return histogram.actor_condition(asked, value)
    if asked == breakdown.OTHER:
        return None
    text = breakdown_value(asked)
    return exp.EQ(this=value, expression=literal(breakdown.NULL if text is None else text))
