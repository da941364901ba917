"""``RetentionQuery``: cohorts of actors by the period of their target event, and how many of
each cohort came back (returning event) in each later period.

Periods are local days, weeks (project week start) or months. The range ends at the start of
the period after ``date_to`` (the current period is a cohort) and starts at the start of the
period holding ``date_from``, or ``totalIntervals`` periods earlier. Recurring retention puts an
actor in every cohort whose period holds one of their target events; first-time retention only
in the period of their first-ever target event (over all time), when that period is in range. A
return in the cohort's own period never counts; with ``minimumOccurrences`` a period counts as a
return only with that many returning events in it, and ``cumulative`` retention counts an actor in
every period up to their last return. Actors are persons, or the groups of
``aggregation_group_type_index`` (events without one left out). With a breakdown, each actor is
pinned to the value of their earliest event in scope; values are ranked by their cohorts' total
size, the top ``breakdown_limit`` kept and the rest merged into the "other" value.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlglot import exp

from hedgerow.errors import ValidationError
from hedgerow.insights import breakdown, date_range, series as series_
from hedgerow.insights.actor_source import ActorPoint, ActorSource, breakdown_value
from hedgerow.insights.context import Runner, global_properties, resolve_range, run_rows, timezone
from hedgerow.insights.models import EventsNode, RetentionQuery
from hedgerow.hogql.property_filters import field
from hedgerow.insights.templates import and_, expr, select
from hedgerow.insights.trends import BUCKETS

DEFAULT_ENTITY = "$pageview"


def _condition(entity: Any, properties: Any, tz: str) -> exp.Expression:
    return series_.condition(series_.entity_node(entity, DEFAULT_ENTITY), properties, tz)


def periods(query: RetentionQuery, rng: date_range.DateRange) -> tuple[str, list[dt.datetime], dt.datetime]:
    """(interval, cohort period starts, end of the range) for the query over ``rng``."""
    options = query.retentionFilter
    interval = (options.period or "Day").lower()
    total = options.totalIntervals or 11
    week_start = rng.week_start_day
    end = date_range.step(date_range.start_of(rng.date_to, interval, week_start), interval)
    raw_from = query.dateRange.date_from if query.dateRange else None
    if raw_from:
        start = date_range.start_of(rng.date_from, interval, week_start)
    else:
        start = date_range.step(end, interval, -total)
    starts = []
    while start < end:
        starts.append(start)
        start = date_range.step(start, interval)
    return interval, starts, end


def _iso(value: dt.datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _scope(ctx: Runner, query: RetentionQuery, interval: str, starts: list[dt.datetime],
           end: dt.datetime) -> tuple[dict[str, Any], str, str, str, str]:
    """(holes, targets, returns, breakdown join, value column) of the retention queries."""
    if breakdown.multiple(query.breakdownFilter):
        raise ValidationError("Several breakdowns are only supported by trends", attr="breakdowns")
    tz = timezone(ctx)
    options = query.retentionFilter
    bucket = expr(BUCKETS[interval])
    holes = {
        "bucket": bucket,
        "target": _condition(options.targetEntity, global_properties(ctx, query), tz),
        "returning": _condition(options.returningEntity, global_properties(ctx, query), tz),
        "date_from": date_range.to_utc(starts[0]),
        "date_to": date_range.to_utc(end),
        "first_period": starts[0].date(),
        "actor": field("person_id"),
        "minimum": options.minimumOccurrences or 1,
    }
    if query.aggregation_group_type_index is not None:
        holes["actor"] = field(f"$group_{query.aggregation_group_type_index}")
        has_group = expr("{group} != ''", group=holes["actor"])
        holes["target"] = and_(holes["target"], has_group)
        holes["returning"] = and_(holes["returning"], has_group)
    if options.retentionType == "retention_first_time":
        targets = ("SELECT {actor} AS actor, min({bucket}) AS cohort FROM events"
                   " WHERE {target} AND timestamp < {date_to} GROUP BY actor HAVING cohort >= {first_period}")
    else:
        targets = ("SELECT {actor} AS actor, {bucket} AS cohort FROM events"
                   " WHERE {target} AND timestamp >= {date_from} AND timestamp < {date_to} GROUP BY actor, cohort")
    returns = ("SELECT {actor} AS actor, {bucket} AS period FROM events"
               " WHERE {returning} AND timestamp >= {date_from} AND timestamp < {date_to} GROUP BY actor, period"
               " HAVING count() >= {minimum}")
    if breakdown.enabled(query.breakdownFilter):
        holes["value"] = breakdown.expression(query.breakdownFilter)
        # each actor is pinned to the value of their earliest event in scope
        pinned = (" JOIN (SELECT {actor} AS actor, argMin({value}, timestamp) AS value FROM events"
                  " WHERE ({target} OR {returning}) AND timestamp >= {date_from} AND timestamp < {date_to}"
                  " GROUP BY actor) AS b ON t.actor = b.actor")
        value = "b.value"
    else:
        pinned, value = "", "''"
    return holes, targets, returns, pinned, value


OFFSETS = {"day": "dateDiff('day', t.cohort, r.period)", "week": "intDiv(dateDiff('day', t.cohort, r.period), 7)",
           "month": "dateDiff('month', t.cohort, r.period)"}
"""Periods from the cohort's to a return's (both are period starts)."""


RETURNS = ("SELECT {value}, t.cohort, r.period, count(DISTINCT t.actor) FROM ({targets}) AS t{pinned}"
           " JOIN ({returns}) AS r ON t.actor = r.actor WHERE r.period > t.cohort GROUP BY {value}, t.cohort, r.period")
"""Per cohort and later period, the cohort's actors who came back in it."""
CUMULATIVE = ("SELECT value, cohort, last, count() FROM (SELECT {value} AS value, t.cohort AS cohort, t.actor,"
              " max(r.period) AS last FROM ({targets}) AS t{pinned} JOIN ({returns}) AS r ON t.actor = r.actor"
              " WHERE r.period > t.cohort GROUP BY value, cohort, t.actor) GROUP BY value, cohort, last")
"""Per cohort, its actors by the last period they came back in (cumulative retention: they count
in every period up to it)."""


def actors(ctx: Runner, query: RetentionQuery, point: ActorPoint) -> ActorSource:
    """The actors of cohort row ``point.interval`` (and breakdown value ``point.breakdown``),
    with ``appearances``: the periods after the cohort's they came back in (0: the cohort's
    own), and ``<period>_<k>`` flags, as PostHog's retention actors have."""
    interval, starts, end = periods(query, resolve_range(ctx, query.dateRange, "day"))
    row = point.interval or 0
    if row >= len(starts):
        raise ValidationError(f"The retention has no cohort {row}", attr="interval")
    holes, targets, returns, pinned, _ = _scope(ctx, query, interval, starts, end)
    condition = expr("t.cohort = {cohort}", cohort=starts[row].date())
    if breakdown.enabled(query.breakdownFilter) and point.breakdown is not None:
        wanted = breakdown_value(point.breakdown)
        if wanted == breakdown.OTHER:
            kept = [r["breakdown_value"] for r in run(ctx, query)["results"] if r["breakdown_value"] != breakdown.OTHER]
            holes["kept"] = [breakdown.NULL if v == "" else v for v in kept]
            condition = and_(condition, expr("NOT has({kept}, ifNull(b.value, {null}))", kept=holes["kept"],
                                             null=breakdown.NULL))
        else:
            condition = and_(condition, expr("ifNull(b.value, {null}) = {wanted}", null=breakdown.NULL,
                                             wanted=wanted or breakdown.NULL))
    holes["condition"] = condition
    total = query.retentionFilter.totalIntervals or 11
    flags = [f"{interval}_{k}" for k in range(total)]
    tree = select(
        f"SELECT actor_id, appearances, {', '.join(f'has(appearances, {k}) AS {flag}' for k, flag in enumerate(flags))}"
        f" FROM (SELECT t.actor AS actor_id, arraySort(groupUniqArray(if(r.period > t.cohort, {OFFSETS[interval]}, 0)))"
        f" AS appearances FROM ({targets}) AS t{pinned} LEFT JOIN ({returns}) AS r ON t.actor = r.actor"
        " WHERE {condition} GROUP BY actor_id)",
        **holes,
    )
    return ActorSource(tree=tree, columns=("appearances", *flags))


def run(ctx: Runner, query: RetentionQuery) -> dict[str, Any]:
    """Compute a RetentionQuery in PostHog's response shape."""
    options = query.retentionFilter
    interval, starts, end = periods(query, resolve_range(ctx, query.dateRange, "day"))
    total = options.totalIntervals or 11
    if not starts:
        return {"results": [], "error": None, "timings": ctx.timings}
    holes, targets, returns, pinned, value = _scope(ctx, query, interval, starts, end)
    has_breakdown = breakdown.enabled(query.breakdownFilter)
    tree = select(
        f"SELECT {value}, t.cohort, t.cohort, count(DISTINCT t.actor) FROM ({targets}) AS t{pinned}"
        f" GROUP BY {value}, t.cohort"
        " UNION ALL "
        + (CUMULATIVE if options.cumulative else RETURNS).format(value=value, targets=targets, pinned=pinned,
                                                                   returns=returns),
        **holes,
    )
    rows, hogql = run_rows(ctx, tree)
    index = {start.date().isoformat(): i for i, start in enumerate(starts)}
    counts: dict[str, dict[tuple[int, int], int]] = defaultdict(dict)
    for value_key, cohort, period, actors in rows:
        c, p = index.get(str(cohort)[:10]), index.get(str(period)[:10])
        if c is not None and p is not None:
            key = "" if value_key in (None, breakdown.NULL) else str(value_key)
            cells = counts[key]
            if options.cumulative and p > c:  # actors whose last return is period p count in 1..p
                for k in range(1, p - c + 1):
                    cells[(c, k)] = cells.get((c, k), 0) + actors
            else:
                cells[(c, p - c)] = actors
    word = interval.capitalize()

    def table(cells: dict[tuple[int, int], int], value_key: str | None) -> list[dict[str, Any]]:
        return [
            {
                "label": f"{word} {c}",
                "date": _iso(start),
                **({"breakdown_value": value_key} if has_breakdown else {}),
                "values": [{"count": cells.get((c, k), 0), "label": f"{word} {k}"} for k in range(total)],
            }
            for c, start in enumerate(starts)
        ]

    if not has_breakdown:
        results = table(counts.get("", {}), None)
    else:
        ranked = sorted(counts.items(), key=lambda kv: (-sum(v for (c, k), v in kv[1].items() if k == 0), kv[0]))
        limit = breakdown.limit_of(query.breakdownFilter)
        kept = ranked[:limit]
        if ranked[limit:]:
            merged: dict[tuple[int, int], int] = defaultdict(int)
            for _, cells in ranked[limit:]:
                for cell, n in cells.items():
                    merged[cell] += n  # exact: every actor is pinned to one value
            kept.append((breakdown.OTHER, dict(merged)))
        results = [row for value_key, cells in kept for row in table(cells, value_key)]
    return {"results": results, "hogql": hogql, "error": None, "timings": ctx.timings}
