"""``RetentionQuery``: cohorts of actors by the period of their target event, and how many of
each cohort came back (returning event) in each later period.

Periods are local hours, days, weeks (project week start) or months. The range ends at the start
of the period after ``date_to`` (the current period is a cohort) and starts at the start of the
period holding ``date_from``, or ``totalIntervals`` periods earlier. Recurring retention puts an
actor in every cohort whose period holds one of their target events; first-time retention only
in the period of their first-ever target event (over all time), when that period is in range;
first-ever-occurrence retention likewise, but only when that first target event, found without
the target's own property filters, also matches them. A return in the cohort's own period never
counts; with ``minimumOccurrences`` a period counts as a return only with that many returning
events in it, and ``cumulative`` retention counts an actor in every period up to their last
return. ``retentionCustomBrackets`` turns the return columns into brackets: column i holds the
offsets (in periods from the cohort's) after the (i-1)-th running sum of the brackets, up to the
i-th. With ``timeWindowMode: 24_hour_windows`` each actor has one cohort, the window of their
first target event in range (windows of 1 hour, 24 hours, 7 days or 30 days counted from the
range start, as ClickHouse's ``dateDiff`` counts boundaries), and their returns are counted in
windows of the same length from that event's own time. Actors are persons, or the groups of
``aggregation_group_type_index`` (events without one left out). With a breakdown, each actor is
pinned to the value of their earliest event in scope; values are ranked by their cohorts' total
size, the top ``breakdown_limit`` kept and the rest merged into the "other" value.

Everything runs in the engine as one statement: a CTE of (actor, cohort, column) rows, one per
cohort an actor is in and return column they reach, which the counts and the actors both read.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from hedgerow.errors import ValidationError
from hedgerow.insights import breakdown, date_range, series as series_
from hedgerow.insights.actor_source import ActorPoint, ActorSource, breakdown_value
from hedgerow.insights.context import Runner, global_properties, resolve_range, run_rows, timezone
from hedgerow.insights.models import RetentionQuery
from hedgerow.hogql.property_filters import field
from hedgerow.insights.templates import and_, expr, select
from hedgerow.insights.trends import BUCKETS, bucket_key

DEFAULT_ENTITY = "$pageview"
MAX_INTERVALS, MAX_COHORTS, MAX_CELLS, MAX_RESPONSE_CELLS = 100, 10_000, 100_000, 1_000_000
"""PostHog's bounds of a retention matrix: return columns (or the brackets' sum), cohort rows,
their product, and that product over every breakdown value kept (plus "other")."""
TOO_MANY = "retention_too_many_intervals"
FIRST_TIME = ("retention_first_time", "retention_first_ever_occurrence")


def _condition(entity: Any, properties: Any, tz: str) -> Any:
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
        if len(starts) > MAX_COHORTS:
            raise ValidationError(f"Retention supports up to {MAX_COHORTS:,} cohorts. Shorten the date range,"
                                  " or use a longer period.", code=TOO_MANY, attr="dateRange")
        start = date_range.step(start, interval)
    return interval, starts, end


def _iso(value: dt.datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _key(start: dt.datetime, interval: str) -> str:
    """How a period start compares with an engine bucket value (:func:`bucket_key`)."""
    return start.strftime("%Y-%m-%d %H:%M:%S" if interval == "hour" else "%Y-%m-%d")


OFFSETS = {"hour": "dateDiff('hour', c.period, r.period)", "day": "dateDiff('day', c.period, r.period)",
           "week": "intDiv(dateDiff('day', c.period, r.period), 7)", "month": "dateDiff('month', c.period, r.period)"}
"""Calendar mode: periods from the cohort's to a return's (both are period starts)."""
WINDOWS = {"hour": ("hour", 1), "day": ("hour", 24), "week": ("day", 7), "month": ("day", 30)}
"""24-hour-windows mode: the dateDiff unit and how many of them make one window (PostHog's)."""


@dataclass(frozen=True)
class Plan:
    """A retention query's shape: its periods, its return columns and the HogQL of its pairs."""

    interval: str
    starts: list[dt.datetime]
    columns: int
    windows: bool
    """24-hour-windows mode: cohorts are row numbers, not period starts."""
    exact_pairs: bool
    """Each (actor, cohort, column) pair appears once, so ``count()`` needs no DISTINCT."""
    ctes: str
    holes: dict[str, Any]

    def cohort(self, row: int) -> Any:
        """The ``cohort`` value of row ``row`` in the pairs."""
        if self.windows:
            return row
        start = self.starts[row]
        return start if self.interval == "hour" else start.date()

    def row(self, cohort: Any, index: dict[str, int]) -> int | None:
        """The row of a ``cohort`` value read back from the engine (None: outside the table)."""
        if self.windows:
            return int(cohort) if 0 <= int(cohort) < len(self.starts) else None
        return index.get(bucket_key(cohort))


def _check_size(query: RetentionQuery, cohorts: int, columns: int) -> None:
    """A 400 for a matrix past PostHog's bounds (see :data:`MAX_INTERVALS`)."""
    options = query.retentionFilter
    brackets = options.retentionCustomBrackets or []
    if max(options.totalIntervals or 0, len(brackets), sum(brackets)) > MAX_INTERVALS:
        raise ValidationError(f"Retention supports up to {MAX_INTERVALS} intervals. Ask for fewer intervals,"
                              " or use a longer period.", code=TOO_MANY, attr="retentionFilter")
    cells = cohorts * columns
    if cells > MAX_CELLS:
        raise ValidationError(f"Retention supports up to {MAX_CELLS:,} cells, and this query asks for {cells:,}."
                              " Shorten the date range, or ask for fewer intervals.", code=TOO_MANY,
                              attr="retentionFilter")
    if breakdown.enabled(query.breakdownFilter):
        cells *= breakdown.limit_of(query.breakdownFilter) + 1
        if cells > MAX_RESPONSE_CELLS:
            raise ValidationError(f"Retention supports up to {MAX_RESPONSE_CELLS:,} cells across a breakdown, and"
                                  f" this query asks for {cells:,}. Break down by fewer values, shorten the date"
                                  " range, or ask for fewer intervals.", code=TOO_MANY, attr="breakdownFilter")


def _column(offset: str, brackets: list[int] | None, holes: dict[str, Any]) -> str:
    """The return column of an offset: itself, or its custom bracket (-1: past the last one)."""
    if not brackets:
        return offset
    arms = [f"{offset} <= 0, 0"]
    running = 0
    for i, size in enumerate(brackets, start=1):
        running += size
        holes[f"bracket_{i}"] = running
        arms.append(f"{offset} <= {{bracket_{i}}}, {i}")
    return f"multiIf({', '.join(arms)}, -1)"


def plan(ctx: Runner, query: RetentionQuery) -> Plan:
    """The shape and the ``WITH ... pairs AS (...)`` HogQL of the query (see module docstring)."""
    if breakdown.multiple(query.breakdownFilter):
        raise ValidationError("Several breakdowns are only supported by trends", attr="breakdowns")
    options = query.retentionFilter
    interval = (options.period or "Day").lower()
    _, starts, end = periods(query, resolve_range(ctx, query.dateRange, "hour" if interval == "hour" else "day"))
    brackets = options.retentionCustomBrackets or None
    columns = len(brackets) + 1 if brackets else options.totalIntervals or 11
    _check_size(query, len(starts), columns)
    windows = options.timeWindowMode == "24_hour_windows"
    if windows and options.cumulative:
        raise ValidationError("Cumulative retention is not supported for 24 hour windows.",
                              code="retention_cumulative_24_hour_windows_unsupported", attr="cumulative")
    if not starts:
        return Plan(interval, starts, columns, windows, True, "", {})
    tz = timezone(ctx)
    scope = global_properties(ctx, query)
    target_entity = options.targetEntity
    bare = target_entity.model_copy(update={"properties": None}) if target_entity is not None else None
    holes: dict[str, Any] = {
        "bucket": expr(BUCKETS[interval]),
        "target": _condition(target_entity, scope, tz),
        "returning": _condition(options.returningEntity, scope, tz),
        "anchor": _condition(bare, scope, tz),
        "date_from": date_range.to_utc(starts[0]),
        "date_to": date_range.to_utc(end),
        "actor": field("person_id"),
        "minimum": options.minimumOccurrences or 1,
        "columns": columns,
    }
    if query.aggregation_group_type_index is not None:
        holes["actor"] = field(f"$group_{query.aggregation_group_type_index}")
        has_group = expr("{group} != ''", group=holes["actor"])
        for name in ("target", "returning", "anchor"):
            holes[name] = and_(holes[name], has_group)
    if breakdown.enabled(query.breakdownFilter):
        holes["breakdown"] = breakdown.expression(query.breakdownFilter)
        # each actor is pinned to the value of their earliest event in scope
        pinned = (" JOIN (SELECT {actor} AS actor, argMin({breakdown}, timestamp) AS value FROM events"
                  " WHERE ({target} OR {returning}) AND timestamp >= {date_from} AND timestamp < {date_to}"
                  " GROUP BY actor) AS b ON {side}.actor = b.actor")
        value = "b.value"
    else:
        pinned, value = "", "''"
    first_time = options.retentionType in FIRST_TIME
    if windows:
        unit, size = WINDOWS[interval]
        holes["unit"], holes["size"] = unit, size
        if options.retentionType == "retention_first_ever_occurrence":
            anchors = ("SELECT {actor} AS actor, min(timestamp) AS t0 FROM events WHERE {anchor} AND timestamp < {date_to}"
                       " GROUP BY actor HAVING min(timestamp) >= {date_from} AND minIf(timestamp, {target}) = min(timestamp)")
        elif first_time:
            anchors = ("SELECT {actor} AS actor, min(timestamp) AS t0 FROM events WHERE {target} AND timestamp < {date_to}"
                       " GROUP BY actor HAVING min(timestamp) >= {date_from}")
        else:
            anchors = ("SELECT {actor} AS actor, min(timestamp) AS t0 FROM events WHERE {target}"
                       " AND timestamp >= {date_from} AND timestamp < {date_to} GROUP BY actor")
        column = _column("intDiv(dateDiff({unit}, s.t0, r.timestamp), {size})", brackets, holes)
        # the range start as a zoned DateTime: a datetime constant would be read as wall time
        holes["range_start"] = date_range.to_utc(starts[0]).strftime("%Y-%m-%d %H:%M:%S")
        holes["tz"] = tz
        cohort = "intDiv(dateDiff({unit}, toTimeZone(toDateTime({range_start}, 'UTC'), {tz}), s.t0), {size})"
        ctes = (
            f"WITH anchors AS ({anchors}), pairs AS ("
            f"SELECT s.actor AS actor, {value} AS value, {cohort} AS cohort, 0 AS col FROM anchors AS s"
            + pinned.replace("{side}", "s")
            + f" UNION ALL SELECT s.actor AS actor, {value} AS value, {cohort} AS cohort, {column} AS col"
            " FROM anchors AS s JOIN (SELECT {actor} AS actor, timestamp FROM events WHERE {returning}"
            " AND timestamp >= {date_from} AND timestamp < {date_to}) AS r ON s.actor = r.actor"
            + pinned.replace("{side}", "s")
            + f" WHERE r.timestamp >= s.t0 GROUP BY actor, value, cohort, col HAVING count() >= {{minimum}})"
        )
        return Plan(interval, starts, columns, windows, False, ctes, holes)
    column = _column(OFFSETS[interval], brackets, holes)
    if options.retentionType == "retention_first_ever_occurrence":
        holes["first_bucket"] = expr(BUCKETS[interval].replace("timestamp", "first_at"))
        firsts = (" JOIN (SELECT actor, {first_bucket} AS first FROM (SELECT {actor} AS actor, min(timestamp) AS first_at,"
                  " minIf(timestamp, {target}) AS matched_at FROM events WHERE {anchor} AND timestamp < {date_to}"
                  " GROUP BY actor) WHERE first_at = matched_at) AS f ON c.actor = f.actor AND c.period = f.first")
    elif first_time:
        firsts = (" JOIN (SELECT {actor} AS actor, min({bucket}) AS first FROM events WHERE {target}"
                  " AND timestamp < {date_to} GROUP BY actor) AS f ON c.actor = f.actor AND c.period = f.first")
    else:
        firsts = ""
    if holes["minimum"] == 1 and holes["target"].sql() == holes["returning"].sql():
        # the usual case (the same entity both ways): each active period is both
        flags, scope_events = "true AS is_target, true AS is_return", "{target}"
    else:
        flags = "countIf({target}) > 0 AS is_target, countIf({returning}) >= {minimum} AS is_return"
        scope_events = "({target} OR {returning})"
    ctes = (
        f"WITH periods AS (SELECT {{actor}} AS actor, {{bucket}} AS period, {flags} FROM events WHERE {scope_events}"
        " AND timestamp >= {date_from} AND timestamp < {date_to} GROUP BY actor, period),"
        f" pairs AS (SELECT c.actor AS actor, {value} AS value, c.period AS cohort, {column} AS col"
        " FROM periods AS c JOIN periods AS r ON c.actor = r.actor" + firsts + pinned.replace("{side}", "c")
        + " WHERE c.is_target AND r.period >= c.period AND (r.period = c.period OR r.is_return))"
    )
    return Plan(interval, starts, columns, windows, not brackets, ctes, holes)


def actors(ctx: Runner, query: RetentionQuery, point: ActorPoint) -> ActorSource:
    """The actors of cohort row ``point.interval`` (and breakdown value ``point.breakdown``),
    with ``appearances``: the return columns they reached (0: the cohort's own), and
    ``<period>_<k>`` flags, as PostHog's retention actors have."""
    shape = plan(ctx, query)
    row = point.interval or 0
    if row >= len(shape.starts):
        raise ValidationError(f"The retention has no cohort {row}", attr="interval")
    holes = dict(shape.holes)
    condition = expr("cohort = {cohort}", cohort=shape.cohort(row))
    if breakdown.enabled(query.breakdownFilter) and point.breakdown is not None:
        wanted = breakdown_value(point.breakdown)
        if wanted == breakdown.OTHER:
            kept = [r["breakdown_value"] for r in run(ctx, query)["results"] if r["breakdown_value"] != breakdown.OTHER]
            holes["kept"] = [breakdown.NULL if v == "" else v for v in kept]
            condition = and_(condition, expr("NOT has({kept}, ifNull(value, {null}))", kept=holes["kept"],
                                             null=breakdown.NULL))
        else:
            condition = and_(condition, expr("ifNull(value, {null}) = {wanted}", null=breakdown.NULL,
                                             wanted=wanted or breakdown.NULL))
    holes["condition"] = condition
    flags = [f"{shape.interval}_{k}" for k in range(shape.columns)]
    tree = select(
        shape.ctes
        + f" SELECT actor_id, appearances, {', '.join(f'has(appearances, {k}) AS {flag}' for k, flag in enumerate(flags))}"
        " FROM (SELECT actor AS actor_id, arraySort(groupUniqArray(col)) AS appearances FROM pairs"
        " WHERE col >= 0 AND col < {columns} AND {condition} GROUP BY actor_id)",
        **holes,
    )
    return ActorSource(tree=tree, columns=("appearances", *flags), group_type_index=query.aggregation_group_type_index)


def column_labels(word: str, brackets: list[int] | None, columns: int) -> list[str]:
    """PostHog's value labels: ``Day 0`` .. ``Day n``, or one per bracket (``Day 2-4``)."""
    if not brackets:
        return [f"{word} {k}" for k in range(columns)]
    labels, first = [f"{word} 0"], 1
    for size in brackets:
        last = first + size - 1
        labels.append(f"{word} {first}" if first == last else f"{word} {first}-{last}")
        first = last + 1
    return labels


def run(ctx: Runner, query: RetentionQuery) -> dict[str, Any]:
    """Compute a RetentionQuery in PostHog's response shape."""
    options = query.retentionFilter
    shape = plan(ctx, query)
    if not shape.starts:
        return {"results": [], "error": None, "timings": ctx.timings}
    has_breakdown = breakdown.enabled(query.breakdownFilter)
    if options.cumulative:  # an actor counts in every column up to the last one they reached
        text = (" SELECT value, cohort, last, count() FROM (SELECT value, cohort, actor, max(col) AS last FROM pairs"
                " WHERE col >= 0 AND col < {columns} GROUP BY value, cohort, actor) GROUP BY value, cohort, last")
    else:
        count = "count()" if shape.exact_pairs else "count(DISTINCT actor)"
        text = f" SELECT value, cohort, col, {count} FROM pairs WHERE col >= 0 AND col < {{columns}} GROUP BY value, cohort, col"
    rows, hogql = run_rows(ctx, select(shape.ctes + text, **shape.holes))
    index = {_key(start, shape.interval): i for i, start in enumerate(shape.starts)}
    counts: dict[str, dict[tuple[int, int], int]] = defaultdict(lambda: defaultdict(int))
    for value_key, cohort, column, actors_ in rows:
        c = shape.row(cohort, index)
        if c is None:
            continue
        cells = counts["" if value_key in (None, breakdown.NULL) else str(value_key)]
        last = int(column)
        for k in range(min(last, shape.columns - 1) + 1) if options.cumulative else range(last, min(last + 1, shape.columns)):
            cells[(c, k)] += actors_
    word = shape.interval.capitalize()
    labels = column_labels(word, options.retentionCustomBrackets or None, shape.columns)

    def table(cells: dict[tuple[int, int], int], value_key: str | None) -> list[dict[str, Any]]:
        return [
            {
                "label": f"{word} {c}",
                "date": _iso(start),
                **({"breakdown_value": value_key} if has_breakdown else {}),
                "values": [{"count": cells.get((c, k), 0), "label": label} for k, label in enumerate(labels)],
            }
            for c, start in enumerate(shape.starts)
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
