"""``StickinessQuery``: for k = 1..N, how many actors were active in exactly k of the N
intervals of the range (N counted over the interval-aligned range).

An interval is active for an actor when they did the series' event in it, or, with
``stickinessCriteria``, when their count of such events there is >=, <= or == the given value.
``computedAs: cumulative`` turns bucket k into "k or more intervals".

With ``intervalCount`` (PostHog reads it whenever it is given, 1 included) the periods are
counted back from the range's end, as ClickHouse's ``age`` does: an event ``age`` whole
intervals before ``date_to`` falls in period ``age // intervalCount``, and N is the range's
interval count divided by ``intervalCount``, rounded up.

Actors are persons; the groups of a series with ``math: unique_group`` (its
``math_group_type_index``), or of the query's ``aggregation_group_type_index``, are counted
instead (events without such a group are left out); ``math: hogql`` counts the values of
``math_hogql``.
"""

from __future__ import annotations

from typing import Any

from hedgerow.errors import ValidationError
from hedgerow.hogql.parse import parse_expr
from hedgerow.hogql.property_filters import field
from hedgerow.insights import date_range, series as series_
from hedgerow.insights.actor_source import ActorPoint, ActorSource, series_index
from hedgerow.insights.context import Runner, global_properties, resolve_range, run_rows, timezone
from hedgerow.insights.events_query import is_aggregation
from hedgerow.insights.models import StickinessQuery
from hedgerow.insights.templates import and_, expr, select
from hedgerow.insights.trends import BUCKETS


CRITERIA = {"gte": "events >= {value}", "lte": "events <= {value}", "exact": "events = {value}"}


def _criterion(query: StickinessQuery) -> Any:
    criteria = query.stickinessFilter.stickinessCriteria  # type: ignore[union-attr]
    return expr(CRITERIA[criteria.operator], value=criteria.value)


def _label(k: int, interval: str) -> str:
    return f"{k} {interval}{'' if k == 1 else 's'}"


def group_type(query: StickinessQuery, node: Any) -> int | None:
    """The group type a series counts (None: persons or a HogQL value)."""
    if node.math == "unique_group":
        series_.group_key(node)  # a 400 without math_group_type_index
        return node.math_group_type_index
    # As in PostHog, the query's aggregation_group_type_index does not make stickiness count
    # groups: only a unique_group series does.
    return None


def _actor(query: StickinessQuery, node: Any) -> tuple[Any, Any]:
    """(what is counted, the condition events need to have one)."""
    group = group_type(query, node)
    if group is not None:
        key = field(f"$group_{group}")
        return key, expr("{key} != ''", key=key)
    if node.math == "hogql" and node.math_hogql:
        target = parse_expr(node.math_hogql, what="math_hogql")
        if is_aggregation(target):
            raise ValidationError("A stickiness series' math_hogql may not aggregate", attr="math_hogql")
        return target, None
    return field("person_id"), None


def periods_of(query: StickinessQuery, rng: date_range.DateRange) -> int:
    """N: how many periods the range holds."""
    return -(-len(rng.buckets) // (query.intervalCount or 1))


def _period(query: StickinessQuery, rng: date_range.DateRange) -> Any:
    """The period of an event: its interval bucket, or with ``intervalCount`` its ``age`` before
    ``date_to`` in whole intervals (a local time of day, or day of month, later than
    ``date_to``'s leaves one interval unfinished) divided by the count."""
    interval = rng.interval
    if query.intervalCount is None:
        return expr(BUCKETS[interval])
    end = rng.date_to
    time_of_day = (end - end.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds()
    holes = {"end_date": end.date(), "end_day": end.day, "end_utc": date_range.to_utc(end),
             "end_time": int(round(time_of_day * 1_000_000)), "count": query.intervalCount}
    later = "dateDiff('microsecond', toStartOfDay(timestamp), timestamp) > {end_time}"
    days = f"(dateDiff('day', toDate(timestamp), {{end_date}}) - if({later}, 1, 0))"
    age = {
        "hour": "intDiv(dateDiff('microsecond', timestamp, {end_utc}), 3600000000)",
        "day": days,
        "week": f"intDiv({days}, 7)",
        "month": "(dateDiff('month', toStartOfMonth(timestamp), toStartOfMonth({end_date}))"
                 f" - if(toDayOfMonth(timestamp) > {{end_day}} OR (toDayOfMonth(timestamp) = {{end_day}} AND {later}),"
                 " 1, 0))",
    }[interval]
    return expr(f"intDiv({age}, {{count}})", **holes)


def _per_person(ctx: Runner, query: StickinessQuery, node: Any, rng: date_range.DateRange) -> Any:
    """``SELECT person_id, active``: each actor's number of active periods (when > 0);
    ``person_id`` holds the actor, whatever it is."""
    interval = rng.interval
    options = query.stickinessFilter
    actor, has_actor = _actor(query, node)
    holes = {
        "actor": actor,
        "bucket": _period(query, rng),
        "date_from": date_range.to_utc(date_range.start_of(rng.date_from, interval, rng.week_start_day)),
        "date_to": date_range.to_utc(rng.date_to),
        "condition": and_(series_.condition(node, global_properties(ctx, query), timezone(ctx)), has_actor),
    }
    if options is None or options.stickinessCriteria is None:
        return select(
            "SELECT {actor} AS person_id, count(DISTINCT {bucket}) AS active FROM events"
            " WHERE timestamp >= {date_from} AND timestamp <= {date_to} AND {condition} GROUP BY person_id",
            **holes,
        )
    return select(
        "SELECT person_id, active FROM (SELECT person_id, countIf({criterion}) AS active FROM ("
        " SELECT {actor} AS person_id, {bucket} AS bucket, count() AS events FROM events"
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
    return ActorSource(tree=tree, columns=("active_intervals",), group_type_index=group_type(query, node))


def run(ctx: Runner, query: StickinessQuery) -> dict[str, Any]:
    """Compute a StickinessQuery in PostHog's response shape."""
    interval = query.interval or "day"
    rng = resolve_range(ctx, query.dateRange, interval)
    intervals = periods_of(query, rng)
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
