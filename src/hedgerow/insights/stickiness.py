"""``StickinessQuery``: for k = 1..N, how many actors were active in exactly k of the N
intervals of the range (N counted over the interval-aligned range).

An interval is active for an actor when they did the series' event in it, or, with
``stickinessCriteria``, when their count of such events there is >=, <= or == the given value.
``computedAs: cumulative`` turns bucket k into "k or more intervals".
"""

from __future__ import annotations

from typing import Any

from hedgerow.errors import ValidationError
from hedgerow.insights import date_range, series as series_
from hedgerow.insights.actor_source import ActorPoint, ActorSource, series_index
from hedgerow.insights.context import Runner, global_properties, resolve_range, run_rows, timezone
from hedgerow.insights.models import StickinessQuery
from hedgerow.insights.templates import expr, select
from hedgerow.insights.trends import BUCKETS


CRITERIA = {"gte": "events >= {value}", "lte": "events <= {value}", "exact": "events = {value}"}


def _criterion(query: StickinessQuery) -> Any:
    criteria = query.stickinessFilter.stickinessCriteria  # type: ignore[union-attr]
    return expr(CRITERIA[criteria.operator], value=criteria.value)


def _label(k: int, interval: str) -> str:
    return f"{k} {interval}{'' if k == 1 else 's'}"


def _per_person(ctx: Runner, query: StickinessQuery, node: Any, rng: date_range.DateRange) -> Any:
    """``SELECT person_id, active``: each actor's number of active intervals (when > 0)."""
    interval = rng.interval
    options = query.stickinessFilter
    holes = {
        "bucket": expr(BUCKETS[interval]),
        "date_from": date_range.to_utc(date_range.start_of(rng.date_from, interval, rng.week_start_day)),
        "date_to": date_range.to_utc(rng.date_to),
        "condition": series_.condition(node, global_properties(ctx, query), timezone(ctx)),
    }
    if options is None or options.stickinessCriteria is None:
        return select(
            "SELECT person_id, count(DISTINCT {bucket}) AS active FROM events"
            " WHERE timestamp >= {date_from} AND timestamp <= {date_to} AND {condition} GROUP BY person_id",
            **holes,
        )
    return select(
        "SELECT person_id, active FROM (SELECT person_id, countIf({criterion}) AS active FROM ("
        " SELECT person_id, {bucket} AS bucket, count() AS events FROM events"
        " WHERE timestamp >= {date_from} AND timestamp <= {date_to} AND {condition} GROUP BY person_id, bucket)"
        " GROUP BY person_id) WHERE active > 0",
        criterion=_criterion(query),
        **holes,
    )


OPERATORS = {"exact": "active = {k}", "gte": "active >= {k}", "lte": "active >= 1 AND active <= {k}"}


def actors(ctx: Runner, query: StickinessQuery, point: ActorPoint) -> ActorSource:
    """The actors active in exactly (``operator``: at least, at most) ``point.day`` intervals."""
    node = query.series[series_index(point, query.series)]
    try:
        k = int(point.day) if point.day is not None else None
    except ValueError:
        k = None
    if k is None or k < 1:
        raise ValidationError("A stickiness data point needs day: the number of active intervals", attr="day")
    rng = resolve_range(ctx, query.dateRange, query.interval or "day")
    tree = select("SELECT person_id AS actor_id, active AS active_intervals FROM ({per_person}) WHERE "
                  + OPERATORS[point.operator or "exact"], per_person=_per_person(ctx, query, node, rng), k=k)
    return ActorSource(tree=tree, columns=("active_intervals",))


def run(ctx: Runner, query: StickinessQuery) -> dict[str, Any]:
    """Compute a StickinessQuery in PostHog's response shape."""
    interval = query.interval or "day"
    rng = resolve_range(ctx, query.dateRange, interval)
    intervals = len(rng.buckets)
    options = query.stickinessFilter
    cumulative = bool(options and options.computedAs == "cumulative")
    results, hogql = [], []
    for order, node in enumerate(query.series):
        tree = select("SELECT active, count() FROM ({per_person}) GROUP BY active",
                      per_person=_per_person(ctx, query, node, rng))
        rows, text = run_rows(ctx, tree)
        hogql.append(text)
        by_active = {int(active): actors for active, actors in rows}
        data = [by_active.get(k, 0) for k in range(1, intervals + 1)]
        count = sum(data)
        if cumulative:
            data = [sum(data[k:]) for k in range(len(data))]
        results.append({
            "count": count,
            "data": data,
            "days": list(range(1, intervals + 1)),
            "labels": [_label(k, interval) + (" or more" if cumulative else "") for k in range(1, intervals + 1)],
            "label": series_.label(node),
            "action": {"order": order, "type": series_.node_type(node), "name": series_.label(node),
                       "id": series_.node_id(node),
                       "custom_name": node.custom_name, "math": node.math},
        })
    return {"results": results, "hogql": "\n\n".join(hogql), "error": None, "timings": ctx.timings}
