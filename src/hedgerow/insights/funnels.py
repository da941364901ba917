"""``FunnelsQuery`` (steps and time-to-convert visualisations): each person's outcome (the
furthest step reached, and the times between steps), then counts and conversion times per step
(and breakdown value).

Ordered and strict funnels without exclusions are computed in the engine, set-based
(:mod:`.funnel_chains`); only the persons that query cannot settle (tied timestamps, or in
strict funnels one event matching several steps) are walked here with :mod:`.funnel_steps`.
Without a breakdown, their steps visualisation is summed up in the engine too (counts, exact
mean and median conversion times per step: one row, not one per converted person).
Other funnels (unordered, with exclusions) are walked here throughout: candidate events are
those in the date range matching any step or exclusion (every event for strict funnels).
Persons whose candidate events all match only the first step stop there: the engine counts them
per attributed breakdown value. For everyone else it returns the sorted candidate events, each as
one integer (time since the range start, shifted left past one flag bit per step and exclusion),
and the attributed breakdown value; they are walked here. "Person" is the aggregation target:
the person, the group of ``aggregation_group_type_index``, or the ``funnelAggregateByHogQL``
expression; with ``all_events`` attribution, each (person, breakdown value) is a funnel apart.
The ``trends`` visualisation and its actors are walked here too (:mod:`.funnel_trends`).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlglot import exp

from hedgerow.errors import ValidationError
from hedgerow.insights import breakdown, date_range, funnel_chains, funnel_steps, funnel_trends, series as series_
from hedgerow.insights.actor_source import ActorPoint, ActorSource, breakdown_value
from hedgerow.insights.context import (PER_PERSON_LIMITS, Runner, global_properties, now, resolve_range, run_rows,
                                       timezone)
from hedgerow.insights.models import FunnelsFilter, FunnelsQuery
from hedgerow.hogql.parse import parse_expr
from hedgerow.hogql.property_filters import field
from hedgerow.insights.events_query import is_aggregation
from hedgerow.insights.templates import and_, expr, select

WINDOW_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400, "month": 31 * 86400}
STOPPED_AT_FIRST = funnel_steps.Outcome(0, ())
OTHER = "Other"
"""Funnels merge the values past ``breakdown_limit`` into ``Other``; a missing value is ``""``."""


def _validate(query: FunnelsQuery) -> None:
    steps = len(query.series)
    for exclusion in (query.funnelsFilter.exclusions or []) if query.funnelsFilter else []:
        if not 0 <= exclusion.funnelFromStep < exclusion.funnelToStep <= steps - 1:
            raise ValidationError("Exclusion event range is invalid. End of range should be greater than start.",
                                  attr="exclusions")


ATTRIBUTION = {
    ("first_touch", False): "argMin({value}, timestamp)",
    ("last_touch", False): "argMax({value}, timestamp)",
    ("first_touch", True): "argMinIf({value}, timestamp, {value} != {null})",
    ("last_touch", True): "argMaxIf({value}, timestamp, {value} != {null})",
    ("step", False): "argMinIf({value}, timestamp, {attributed})",
    ("step", True): "argMinIf({value}, timestamp, {attributed})",
    ("all_events", False): "any({value})",
    ("all_events", True): "any({value})",
}
"""(attribution, breakdown given as a list) -> the person's value among their candidate events.
As in PostHog, a breakdown named by a string takes the value of the first (last) event even when
it is empty; one given as a list skips empty values. ``step`` takes the value of the person's
first event of step ``breakdownAttributionValue``; ``all_events`` walks each value's events
apart (see :func:`_grouped`)."""


def _grouped(attribution: tuple[str, bool]) -> str:
    """What the per-actor queries group by besides the actor: with ``all_events`` attribution
    the funnel is walked once per breakdown value, over the events that have it."""
    return ", {value}" if attribution[0] == "all_events" else ""


@dataclass
class Parts:
    """The pieces of a funnel's engine queries."""

    steps: list[exp.Expression]
    exclusions: list[exp.Expression]
    value: exp.Expression
    where: exp.Expression
    actor: exp.Expression
    """What is counted: the person, the group of ``aggregation_group_type_index``, or the
    ``funnelAggregateByHogQL`` expression."""
    attributed: exp.Expression
    """The events whose breakdown value counts for ``step`` attribution."""


def _by_hogql(query: FunnelsQuery) -> str | None:
    by_hogql = query.funnelsFilter.funnelAggregateByHogQL if query.funnelsFilter else None
    return by_hogql if by_hogql and by_hogql.strip() not in ("person_id", "person.id") else None


def _actor(query: FunnelsQuery) -> tuple[exp.Expression, exp.Expression | None]:
    """(the aggregation target, the condition events need to have one)."""
    by_hogql = _by_hogql(query)
    if query.aggregation_group_type_index is not None:
        group = field(f"$group_{query.aggregation_group_type_index}")
        return group, expr("{group} != ''", group=group)
    if by_hogql:
        target = parse_expr(by_hogql, what="funnelAggregateByHogQL")
        if is_aggregation(target):
            raise ValidationError("funnelAggregateByHogQL may not aggregate", attr="funnelAggregateByHogQL")
        return target, None
    return field("person_id"), None


def _parts(query: FunnelsQuery, rng: date_range.DateRange, tz: str, strict: bool, properties: Any) -> Parts:
    if breakdown.multiple(query.breakdownFilter):
        raise ValidationError("Several breakdowns are only supported by trends", attr="breakdowns")
    steps = [series_.condition(node, None, tz) for node in query.series]
    exclusions = [series_.condition(x, None, tz) for x in (query.funnelsFilter.exclusions or [])] \
        if query.funnelsFilter else []
    value = breakdown.expression(query.breakdownFilter) if breakdown.enabled(query.breakdownFilter) else exp.Null()
    candidates = None if strict else exp.or_(*(exp.Paren(this=c) for c in steps + exclusions))
    actor, has_actor = _actor(query)
    where = and_(
        expr("timestamp >= {f} AND timestamp <= {t}",
             f=date_range.to_utc(rng.date_from), t=date_range.to_utc(rng.date_to)),
        series_.filters(properties, tz),
        candidates,
        has_actor,
    )
    options = query.funnelsFilter or FunnelsFilter()
    attributed: exp.Expression = exp.true()
    if options.breakdownAttributionType == "step":
        index = options.breakdownAttributionValue or 0
        if index >= len(steps):
            raise ValidationError("breakdownAttributionValue must be a step of the funnel", attr="breakdownAttributionValue")
        attributed = steps[index]
    return Parts(steps, exclusions, value, where, actor, attributed)


def _encoding(rng: date_range.DateRange, flags: int) -> tuple[str, int]:
    """The time unit events are encoded in: microseconds since the range start shifted left by
    the flag bits, or milliseconds (or seconds) when the range is too long for that to fit."""
    span_us = int((rng.date_to - rng.date_from).total_seconds() * 1_000_000) + 1
    for unit, scale in (("microsecond", 1), ("millisecond", 1000), ("second", 1_000_000)):
        if (span_us // scale).bit_length() + flags <= 62:
            return unit, scale
    raise ValidationError("Too many funnel steps and exclusions for this date range", attr="series")


def _walked(parts: Parts, rng: date_range.DateRange, attribution: tuple[str, bool], window: float,
            unordered: bool, with_ids: bool = False, only: exp.Expression | None = None) -> exp.Expression:
    """Per person who did anything beyond the first step: their candidate events, each one
    integer ``time << flags | flags`` (sorted), their attributed breakdown value, and (``with_ids``)
    who they are. ``only``: an aggregate condition the persons walked must also meet.

    Events more than a window before the person's first later-step (or exclusion) event, and
    after their last one (a window after, for unordered funnels), cannot change the outcome (an
    attempt started there expires, or can reach no later step), so they are left out; whether the
    person entered at all is in ``entered``.
    """
    conditions = parts.steps + parts.exclusions
    _, scale = _encoding(rng, len(conditions))
    event = _encoded_event(parts, rng)
    shift = 1 << len(conditions)
    span = (math.ceil(window * 1_000_000 / scale) + 1) * shift
    return select(
        "SELECT arrayFilter(x -> x >= lo AND x <= hi, events), value, entered, "
        + ("actor" if with_ids else "NULL") + " FROM ("
        " SELECT {actor} AS actor, arraySort(groupArray({event})) AS events, minIf({event}, {later}) - {span} AS lo,"
        " max(if({first}, 1, 0)) AS entered,"
        " maxIf({event}, {later}) + {tail} AS hi, " + ATTRIBUTION[attribution] + " AS value FROM events"
        " WHERE {where} GROUP BY actor" + _grouped(attribution) + " HAVING max(if({later}, 1, 0)) = 1 AND {only})",
        event=event, where=parts.where, value=parts.value, null=breakdown.NULL, actor=parts.actor,
        attributed=parts.attributed,
        later=_any(parts.steps[1:] + parts.exclusions), span=span, tail=span if unordered else shift,
        first=parts.steps[0], only=only if only is not None else exp.true(),
    )


def _event_time(rng: date_range.DateRange, flags: int) -> exp.Expression:
    """An event's time since the range start, in the unit of :func:`_encoding`."""
    unit, _ = _encoding(rng, flags)
    # the base as epoch seconds through toDateTime, so both ends of dateDiff are typed instants
    return expr("dateDiff({unit}, toDateTime({start}), timestamp)", unit=unit, start=_base_seconds(rng))


def _encoded_event(parts: Parts, rng: date_range.DateRange) -> exp.Expression:
    """An event as one integer: time since the range start, shifted past its step flags."""
    conditions = parts.steps + parts.exclusions
    event = expr("{time} * {shift}", time=_event_time(rng, len(conditions)), shift=1 << len(conditions))
    for bit, condition in enumerate(conditions):
        event = exp.Add(this=event, expression=expr("if({c}, {bit}, 0)", c=condition, bit=1 << bit))
    return event


def _base_seconds(rng: date_range.DateRange) -> int:
    """Where encoded event times count from: the range start, in whole epoch seconds."""
    return math.floor(rng.date_from.timestamp())


def _entrants(parts: Parts, rng: date_range.DateRange, attribution: tuple[str, bool],
              with_ids: bool = False) -> exp.Expression:
    """Per person who did the first step: all their candidate events (encoded, sorted), value
    and (``with_ids``) who they are."""
    return select(
        "SELECT arraySort(groupArray({event})), " + ATTRIBUTION[attribution] + ", "
        + ("{actor}" if with_ids else "NULL") + " FROM events"
        " WHERE {where} GROUP BY {actor}" + _grouped(attribution) + " HAVING max(if({first}, 1, 0)) = 1",
        event=_encoded_event(parts, rng), where=parts.where, value=parts.value, null=breakdown.NULL,
        actor=parts.actor, attributed=parts.attributed,
        first=parts.steps[0],
    )


def _any(conditions: list[exp.Expression]) -> exp.Expression:
    return exp.or_(*(exp.Paren(this=c) for c in conditions))


def _first_step_only(parts: Parts, attribution: tuple[str, bool], persons: bool = False) -> exp.Expression:
    """Persons whose candidate events all match the first step only: they stop at step 0,
    so they are counted in the engine (per attributed breakdown value) without a walk; with
    ``persons``, listed (value, person id) instead."""
    outer = "SELECT value, actor FROM (" if persons else "SELECT value, count() FROM ("
    tail = ")" if persons else ") GROUP BY value"
    return select(
        outer +
        " SELECT {actor} AS actor, " + ATTRIBUTION[attribution] + " AS value"
        " FROM events WHERE {where} GROUP BY actor" + _grouped(attribution) +
        " HAVING max(if({later}, 1, 0)) = 0 AND max(if({first}, 1, 0)) = 1" + tail,
        value=parts.value, where=parts.where, first=parts.steps[0], null=breakdown.NULL, actor=parts.actor,
        attributed=parts.attributed,
        later=_any(parts.steps[1:] + parts.exclusions),
    )


class _StepSets(dict):
    """Flag bits -> the 1-based steps (negative: exclusion steps) an event matches (memoised)."""

    def __init__(self, num_steps: int, exclusions: list) -> None:
        super().__init__()
        self.num_steps, self.exclusions = num_steps, exclusions

    def __missing__(self, flags: int) -> list[int]:
        steps = [i + 1 for i in range(self.num_steps) if flags >> i & 1]
        for j, exclusion in enumerate(self.exclusions):
            if flags >> (self.num_steps + j) & 1:
                steps.extend(-s for s in range(exclusion.funnelFromStep + 2, exclusion.funnelToStep + 2))
        self[flags] = steps
        return steps


def _value(value: Any) -> str:
    return "" if value in (None, breakdown.NULL) else str(value)


@dataclass
class Walk:
    """The funnel walked: per breakdown key, each entrant's outcome (and person id)."""

    rng: date_range.DateRange
    as_list: bool
    outcomes: dict[str, list[funnel_steps.Outcome]]
    persons: dict[str, list[str]]
    hogql: str


def _walk(ctx: Runner, query: FunnelsQuery, options: FunnelsFilter, window: float, with_ids: bool = False) -> Walk:
    """Every entrant's outcome; with ``with_ids``, each one's person id in ``persons`` too."""
    tz = timezone(ctx)
    order = options.funnelOrderType or "ordered"
    rng = resolve_range(ctx, query.dateRange, "day")
    as_list = isinstance(query.breakdownFilter.breakdown, list) if query.breakdownFilter else False
    attribution = (options.breakdownAttributionType or "first_touch", as_list)
    parts = _parts(query, rng, tz, order == "strict", global_properties(ctx, query))
    num_steps = len(query.series)
    exclusions = options.exclusions or []
    bits = num_steps + len(exclusions)
    _, scale = _encoding(rng, bits)
    has_breakdown = breakdown.enabled(query.breakdownFilter)
    outcomes: dict[str, list[funnel_steps.Outcome]] = defaultdict(list)
    persons: dict[str, list[str]] = defaultdict(list)

    def add(value: Any, outcome: funnel_steps.Outcome, count: int, person: Any) -> None:
        key = _value(value) if has_breakdown else ""
        outcomes[key].extend([outcome] * count)
        if with_ids:
            persons[key].append(str(person))

    if funnel_chains.supported(order, exclusions):
        time = _event_time(rng, bits)
        chains, first_hogql = run_rows(ctx, _chains(parts, attribution, options, time, window, scale, order, with_ids),
                                       PER_PERSON_LIMITS)
        to_walk = False
        for value, step, offsets, count, person in chains:
            if step < 0:
                to_walk = True
                continue
            add(value, funnel_steps.Outcome(step, funnel_chains.durations(offsets, scale)), count, person)
        if not to_walk:
            return Walk(rng, as_list, outcomes, persons, first_hogql)
        only = funnel_chains.fallback(parts.steps, order == "strict", time)
    else:
        first_rows, first_hogql = run_rows(ctx, _first_step_only(parts, attribution, with_ids), PER_PERSON_LIMITS)
        for value, person in first_rows:
            add(value, STOPPED_AT_FIRST, 1 if with_ids else person, person)
        only = None
    walked, walked_hogql = _walk_in_python(ctx, parts, rng, attribution, window, order, exclusions, only, with_ids)
    for value, outcome, person in walked:
        add(value, outcome, 1, person)
    return Walk(rng, as_list, outcomes, persons, walked_hogql + "\n\n" + first_hogql)


def _walk_in_python(ctx: Runner, parts: Parts, rng: date_range.DateRange, attribution: tuple[str, bool],
                    window: float, order: str, exclusions: list, only: exp.Expression | None,
                    with_ids: bool) -> tuple[list[tuple[Any, funnel_steps.Outcome, Any]], str]:
    """The outcomes of the persons :func:`_walked` selects, walked here: (value, outcome, person
    id or None) each, and the query's HogQL."""
    num_steps = len(parts.steps)
    bits = num_steps + len(exclusions)
    _, scale = _encoding(rng, bits)
    rows, hogql = run_rows(ctx, _walked(parts, rng, attribution, window, order == "unordered", with_ids, only),
                           PER_PERSON_LIMITS)
    mask = (1 << bits) - 1
    step_sets = _StepSets(num_steps, exclusions)
    walked = []
    for encoded, value, entered, person in rows:
        events = [((item >> bits) * scale / 1e6, None, step_sets[item & mask]) for item in encoded]
        if order == "unordered":
            outcome = funnel_steps.unordered(events, num_steps, window)
        else:
            outcome = funnel_steps.ordered(events, num_steps, window, strict=order == "strict")
        if outcome is None:
            continue
        if outcome.step < 0:
            if not entered:
                continue
            outcome = STOPPED_AT_FIRST  # the events kept reached nothing, but the person entered
        walked.append((value, outcome, person))
    return walked, hogql


def _chains(parts: Parts, attribution: tuple[str, bool], options: FunnelsFilter, time: exp.Expression,
            window: float, scale: int, order: str, with_ids: bool, totals: bool = False) -> exp.Expression:
    """The engine's query of :mod:`.funnel_chains` for this funnel."""
    step = (options.breakdownAttributionValue or 0) + 1
    # without a breakdown every value is NULL: no need to pick one per actor
    attributed = "NULL" if isinstance(parts.value, exp.Null) else ATTRIBUTION[attribution]
    return funnel_chains.query(
        steps=parts.steps, where=parts.where, actor=parts.actor, value=parts.value,
        attribution=attributed.replace("{value}", "bv").replace("timestamp", "t"),
        by_value=attribution[0] == "all_events", time=time, later=_any(parts.steps[1:]),
        window_units=int(window * 1_000_000) // scale, strict=order == "strict", with_ids=with_ids, totals=totals,
        holes={"null": breakdown.NULL, "attributed": expr(f"s{step} = 1") if attribution[0] == "step" else exp.true()},
    )


def _ranked(query: FunnelsQuery, outcomes: dict[str, list[funnel_steps.Outcome]], order: str) -> tuple[list[str], list[str]]:
    """Breakdown keys kept (by last step's count desc, then earlier steps', then key) and the
    rest, merged into ``Other``."""
    num_steps = len(query.series)
    counted = {key: _steps(query, people, num_steps, order) for key, people in outcomes.items()}
    ranked = [key for key, _ in sorted(counted.items(), key=lambda kv: ([-s["count"] for s in reversed(kv[1])], kv[0]))]
    limit = breakdown.limit_of(query.breakdownFilter)
    return ranked[:limit], ranked[limit:]


def actors(ctx: Runner, query: FunnelsQuery, point: ActorPoint) -> ActorSource:
    """The actors (persons, or the groups of ``aggregation_group_type_index``) who reached step
    ``funnelStep`` (1-based), or, negative, who reached the step before it and dropped off there;
    with a breakdown, those of ``funnelStepBreakdown``."""
    _validate(query)
    options = query.funnelsFilter or FunnelsFilter()
    num_steps = len(query.series)
    if point.funnelCustomSteps:
        raise ValidationError("Actors of funnel custom steps are not supported", attr="funnelCustomSteps")
    groups = query.aggregation_group_type_index  # counted before a HogQL aggregation (see _actor)
    if groups is None and _by_hogql(query) is not None:
        raise ValidationError("The actors of a funnel aggregated by HogQL are not supported", attr="source")
    window = (options.funnelWindowInterval or 14) * WINDOW_SECONDS[options.funnelWindowIntervalUnit or "day"]
    if options.funnelVizType == "trends":
        return ActorSource(ids=_trend_actors(ctx, query, options, window, point), group_type_index=groups)
    step = point.funnelStep
    if step is None or step == 0 or step == -1 or abs(step) > num_steps:
        raise ValidationError(f"funnelStep must be 1..{num_steps}, or -2..-{num_steps} for drop-offs",
                              attr="funnelStep")
    walk = _walk(ctx, query, options, window, with_ids=True)
    keys = list(walk.outcomes)
    if breakdown.enabled(query.breakdownFilter) and point.funnelStepBreakdown is not None:
        wanted = breakdown_value(point.funnelStepBreakdown) or ""
        kept, rest = _ranked(query, walk.outcomes, options.funnelOrderType or "ordered")
        keys = rest if wanted == OTHER else [wanted] if wanted in kept else []

    def wanted_step(outcome: funnel_steps.Outcome) -> bool:
        return outcome.step >= step - 1 if step > 0 else outcome.step == -step - 2

    ids = [person for key in keys for outcome, person in zip(walk.outcomes.get(key, []), walk.persons.get(key, []))
           if wanted_step(outcome)]
    return ActorSource(ids=ids, group_type_index=groups)


def run(ctx: Runner, query: FunnelsQuery) -> dict[str, Any]:
    """Compute a FunnelsQuery (steps) in PostHog's response shape."""
    _validate(query)
    tz = timezone(ctx)
    options = query.funnelsFilter or FunnelsFilter()
    order = options.funnelOrderType or "ordered"
    window = (options.funnelWindowInterval or 14) * WINDOW_SECONDS[options.funnelWindowIntervalUnit or "day"]
    if options.funnelVizType == "trends":
        return _trends(ctx, query, options, window, tz)
    has_breakdown = breakdown.enabled(query.breakdownFilter)
    if not has_breakdown and options.funnelVizType in (None, "steps"):
        summed = _summed(ctx, query, options, window)
        if summed is not None:
            return summed
    walk = _walk(ctx, query, options, window)
    rng, num_steps, outcomes = walk.rng, len(query.series), walk.outcomes
    as_list = walk.as_list
    if options.funnelVizType == "time_to_convert":
        results: Any = time_to_convert([p for people in outcomes.values() for p in people], options, num_steps)
    elif has_breakdown:
        kept_keys, rest = _ranked(query, outcomes, order)
        kept = [(key, _steps(query, outcomes[key], num_steps, order)) for key in kept_keys]
        if rest:
            merged = [p for key in rest for p in outcomes[key]]
            kept.append((OTHER, _steps(query, merged, num_steps, order)))
        results = []
        for key, steps in kept:
            for step in steps:
                step["breakdown"] = [key] if as_list else key
                step["breakdown_value"] = [key] if as_list else key
            results.append(steps)
    else:
        people = outcomes.get("", [])
        results = _steps(query, people, num_steps, order) if people else []
    return _response(ctx, results, walk.hogql, rng)


def _response(ctx: Runner, results: Any, hogql: str, rng: date_range.DateRange) -> dict[str, Any]:
    return {
        "results": results,
        "hogql": hogql,
        "isUdf": False,
        "resolved_date_range": {"date_from": rng.date_from_iso, "date_to": rng.date_to_iso},
        "error": None,
        "timings": ctx.timings,
    }


def _summed(ctx: Runner, query: FunnelsQuery, options: FunnelsFilter, window: float) -> dict[str, Any] | None:
    """The steps of a funnel without breakdown summed up in the engine (see
    :func:`.funnel_chains.totals_of`); None when the engine does not compute this funnel. When
    some actors need the walk in Python, the engine's conversion times come back whole and the
    means and medians are taken here over both."""
    order = options.funnelOrderType or "ordered"
    if not funnel_chains.supported(order, options.exclusions or []):
        return None
    rng = resolve_range(ctx, query.dateRange, "day")
    attribution = (options.breakdownAttributionType or "first_touch", False)
    parts = _parts(query, rng, timezone(ctx), order == "strict", global_properties(ctx, query))
    num_steps = len(query.series)
    _, scale = _encoding(rng, num_steps)
    tree = _chains(parts, attribution, options, _event_time(rng, num_steps), window, scale, order, False, totals=True)
    rows, hogql = run_rows(ctx, tree)
    totals = funnel_chains.totals_of(rows[0], num_steps, scale)
    steps = [(t.count, t.average, t.median) for t in totals.steps]
    if totals.to_walk:
        only = funnel_chains.fallback(parts.steps, order == "strict", _event_time(rng, num_steps))
        walked, walked_hogql = _walk_in_python(ctx, parts, rng, attribution, window, order, [], only, False)
        hogql = walked_hogql + "\n\n" + hogql
        steps = []
        for index, total in enumerate(totals.steps):
            outcomes = [outcome for _, outcome, _ in walked if outcome.step >= index]
            durations = [g * scale / 1e6 for g in totals.gaps[index - 1]] if index else []
            durations += [o.durations[index - 1] for o in outcomes if index and o.durations[index - 1] > 0]
            steps.append((total.count + len(outcomes), statistics.fmean(durations) if durations else None,
                          statistics.median(durations) if durations else None))
    if not steps[0][0]:
        return _response(ctx, [], hogql, rng)
    return _response(ctx, _step_results(query, steps, order), hogql, rng)


def _steps(query: FunnelsQuery, people: list[funnel_steps.Outcome], num_steps: int, order: str) -> list[dict]:
    totals = []
    for index in range(num_steps):
        reached = [p for p in people if p.step >= index]
        durations = [p.durations[index - 1] for p in reached if index > 0 and p.durations[index - 1] > 0]
        totals.append((len(reached), statistics.fmean(durations) if durations else None,
                       statistics.median(durations) if durations else None))
    return _step_results(query, totals, order)


def _step_results(query: FunnelsQuery, totals: list[tuple[int, float | None, float | None]], order: str) -> list[dict]:
    """PostHog's steps from each step's (count, average and median conversion time)."""
    out = []
    for index, (count, average, median) in enumerate(totals):
        node = query.series[index]
        unordered = order == "unordered"
        out.append({
            "action_id": None if unordered else series_.node_id(node),
            "name": f"Completed {index + 1} step{'s' if index else ''}" if unordered else series_.label(node),
            "custom_name": None if unordered else node.custom_name,
            "order": index,
            "people": [],
            "count": count,
            "type": series_.node_type(node),
            "average_conversion_time": average,
            "median_conversion_time": median,
        })
    return out


def time_to_convert(people: list[funnel_steps.Outcome], options: Any, num_steps: int) -> dict[str, Any]:
    """PostHog's time-to-convert histogram: seconds from ``funnelFromStep`` to ``funnelToStep``
    of everyone who reached the latter, in ``binCount`` (or cbrt(n), 1..60) equal bins, with
    their mean and median (as its UDF runner answers)."""
    first = options.funnelFromStep or 0
    last = options.funnelToStep if options.funnelToStep is not None else num_steps - 1
    if not 0 < last < num_steps or not 0 <= first < last:
        raise ValidationError(f"Filter parameter funnelToStep can only be one of "
                              f"{', '.join(map(str, range(1, num_steps)))} for time to convert!", attr="funnelToStep")
    timings = [sum(p.durations[first:last]) for p in people if p.step >= last]
    if options.binCount is not None:
        bins = min(90, max(1, options.binCount))
    else:
        bins = min(60, max(1, math.ceil(round(len(timings) ** (1 / 3), 9))))
    low = math.floor(min(timings)) if timings else 0
    high = math.ceil(max(timings)) if timings else 0
    width = math.ceil((high - low) / bins) or 60
    counts = [0] * (bins + 1)
    for timing in timings:
        index = math.floor((timing - low) / width)
        if 0 <= index <= bins:
            counts[index] += 1
    return {
        "bins": [[low + n * width, counts[n]] for n in range(bins + 1)],
        "average_conversion_time": statistics.fmean(timings) if timings else None,
        "median_conversion_time": statistics.median(timings) if timings else None,
    }


@dataclass
class TrendWalk:
    """The funnel trends walked: per person, their breakdown key, id and periods
    (period key -> converted; a period where they only reached ``funnelFromStep`` is False)."""

    rng: date_range.DateRange
    as_list: bool
    people: list[tuple[str, str | None, dict[str, bool]]]
    hogql: str


def _trend_walk(ctx: Runner, query: FunnelsQuery, options: FunnelsFilter, window: float, tz: str,
                with_ids: bool = False) -> TrendWalk:
    order = options.funnelOrderType or "ordered"
    if order == "unordered":
        raise ValidationError("Unordered funnels have no trends visualisation here", attr="funnelOrderType")
    num_steps = len(query.series)
    last = options.funnelToStep if options.funnelToStep is not None else num_steps - 1
    first = options.funnelFromStep or 0
    if not 0 <= first < last < num_steps:
        raise ValidationError("funnelFromStep and funnelToStep must be steps, from before to", attr="funnelToStep")
    interval = query.interval or "day"
    rng = resolve_range(ctx, query.dateRange, interval)
    window_range = rng.shifted(rng.window_from, rng.date_to)
    as_list = isinstance(query.breakdownFilter.breakdown, list) if query.breakdownFilter else False
    attribution = (options.breakdownAttributionType or "first_touch", as_list)
    parts = _parts(query, window_range, tz, order == "strict", global_properties(ctx, query))
    rows, hogql = run_rows(ctx, _entrants(parts, window_range, attribution, with_ids), PER_PERSON_LIMITS)

    exclusions = options.exclusions or []
    bits = num_steps + len(exclusions)
    _, scale = _encoding(window_range, bits)
    mask = (1 << bits) - 1
    step_sets = _StepSets(num_steps, exclusions)
    base = dt.datetime.fromtimestamp(_base_seconds(window_range), dt.timezone.utc)
    zone = window_range.date_from.tzinfo

    def period_of(seconds: float) -> str:
        local = (base + dt.timedelta(seconds=seconds)).astimezone(zone)
        return rng.key(date_range.start_of(local, interval, rng.week_start_day))

    has_breakdown = breakdown.enabled(query.breakdownFilter)
    people = []
    for encoded, value, person in rows:
        events = [((item >> bits) * scale / 1e6, step_sets[item & mask]) for item in encoded]
        periods = funnel_trends.walk(events, period_of, last + 1, first, window, strict=order == "strict")
        people.append((_value(value) if has_breakdown else "", None if person is None else str(person), periods))
    return TrendWalk(rng, as_list, people, hogql)


def _trend_actors(ctx: Runner, query: FunnelsQuery, options: FunnelsFilter, window: float,
                  point: ActorPoint) -> list[str]:
    """The persons who entered the funnel trends in the period starting at
    ``funnelTrendsEntrancePeriodStart`` and converted, or (``funnelTrendsDropOff``) reached
    ``funnelFromStep`` there but did not convert (as PostHog's funnel trends actors)."""
    if point.funnelTrendsDropOff is None:
        raise ValidationError("Actors parameter `funnelTrendsDropOff` must be provided for funnel trends persons!",
                              attr="funnelTrendsDropOff")
    if point.funnelTrendsEntrancePeriodStart is None:
        raise ValidationError("Actors parameter `funnelTrendsEntrancePeriodStart` must be provided for funnel trends"
                              " persons!", attr="funnelTrendsEntrancePeriodStart")
    tz = timezone(ctx)
    walk = _trend_walk(ctx, query, options, window, tz, with_ids=True)
    start = date_range.parse_date(point.funnelTrendsEntrancePeriodStart, ZoneInfo(tz), now(),
                                  field="funnelTrendsEntrancePeriodStart").value
    rng = walk.rng
    if date_range.start_of(start, rng.interval, rng.week_start_day) != start:
        return []  # no period starts there
    period = rng.key(start)
    converted = not point.funnelTrendsDropOff
    return [person for _, person, periods in walk.people if person is not None and periods.get(period) is converted]


def _trends(ctx: Runner, query: FunnelsQuery, options: FunnelsFilter, window: float, tz: str) -> dict[str, Any]:
    """The ``trends`` visualisation: per period people entered, the % who converted."""
    walk = _trend_walk(ctx, query, options, window, tz)
    rng, as_list, hogql = walk.rng, walk.as_list, walk.hogql
    buckets = rng.buckets
    has_breakdown = breakdown.enabled(query.breakdownFilter)
    counts: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for key, _, periods in walk.people:
        cells = counts[key]
        for period, converted in periods.items():
            cells[period][0] += 1
            cells[period][1] += int(converted)
    keys = [rng.key(b) for b in buckets]

    def element(cells: dict[str, list[int]]) -> dict[str, Any]:
        data = [round(cells[k][1] / cells[k][0] * 100, 2) if k in cells and cells[k][0] else 0 for k in keys]
        return {"count": len(keys), "data": data, "days": keys, "labels": [rng.label(b) for b in buckets]}

    if has_breakdown:
        ordered = sorted(counts.items(), key=lambda kv: (sum(c[0] for c in kv[1].values()), kv[0]), reverse=True)
        results = [{**element(cells), "breakdown_value": [key] if as_list else key} for key, cells in ordered]
    else:
        results = [element(counts.get("", {}))]
    return {"results": results, "hogql": hogql, "isUdf": False,
            "resolved_date_range": {"date_from": rng.date_from_iso, "date_to": rng.date_to_iso},
            "error": None, "timings": ctx.timings}
