"""The HogQL of experiment results: exposures, and per-variant sums of each metric kind.

Every query is server-written HogQL text whose ``{holes}`` take trees (values always become
bound literals) and goes through the ordinary compiler, like any insight. The shared part is the
exposures of an experiment: per entity (person, or group for group flags) the variant it saw
(``$multiple`` when it saw more than one, unless the first one seen is kept), its first and last
exposure, and the breakdown values of its first exposure event.

Actions (an ``ActionsNode`` source, funnel step or exposure criterion) become
``matchesAction(id)``, which the compiler expands to the action's steps: matching has one
definition. An action the project does not have matches no event (PostHog's ``False``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from hedgerow.errors import ValidationError
from hedgerow.hogql.property_filters import FilterEnv, field, property_filter
from hedgerow.experiments.models import Breakdown, ExperimentMetric, MetricSource
from hedgerow.insights import series as series_
from hedgerow.insights.templates import and_, expr, select, value

MULTIPLE = "$multiple"
FLAG_CALLED = "$feature_flag_called"


@dataclass(frozen=True)
class Exposure:
    """Who counts as exposed to which variant, and when."""

    flag_key: str
    variants: tuple[str, ...]
    date_from: dt.datetime
    date_to: dt.datetime
    event: str = FLAG_CALLED
    properties: Any = None
    test_account_filters: Any = None
    multiple_variant_handling: str = "exclude"
    group_type_index: int | None = None
    timezone: str = "UTC"
    action: int | None = None
    """Exposure by action: its events (any name) instead of ``event``."""
    action_known: bool = True

    @property
    def variant_property(self) -> str:
        """``$feature_flag_response`` on ``$feature_flag_called``, else (another event, or an
        action) ``$feature/<flag key>``."""
        if self.action is None and self.event == FLAG_CALLED:
            return "$feature_flag_response"
        return f"$feature/{self.flag_key}"


def action_match(action_id: int, known: bool) -> exp.Expression:
    """``matchesAction(id)``, or ``false`` for an action the project does not have."""
    if not known:
        return exp.false()
    return exp.Anonymous(this="matchesAction", expressions=[exp.Literal.number(action_id)])


def source_match(source: MetricSource, actions: Collection[int]) -> exp.Expression | None:
    """Which events a source is about: its action's (``actions``: the project's action ids),
    or its event name's (None: every event)."""
    if source.kind == "ActionsNode":
        assert source.id is not None
        return action_match(source.id, source.id in actions)
    return series_.event_condition(source.event)


def entity(exposure: Exposure) -> exp.Expression:
    """``person_id``, or the flag's group column for group-aggregated flags."""
    if exposure.group_type_index is None:
        return field("person_id")
    return field(f"$group_{exposure.group_type_index}")


def _filters(filters: Any, timezone: str) -> exp.Expression | None:
    return property_filter(filters, FilterEnv(scope="event", timezone=timezone)) if filters else None


def exposure_condition(exposure: Exposure) -> exp.Expression:
    """An exposure event in the experiment's range, for one of the flag's variants."""
    variant = field("properties", exposure.variant_property)
    if exposure.action is not None:
        which = action_match(exposure.action, exposure.action_known)
    elif exposure.event == FLAG_CALLED:
        which = and_(expr("event = {e}", e=exposure.event),
                     expr("{p} = {key}", p=field("properties", "$feature_flag"), key=exposure.flag_key))  # fmt: skip
    else:
        which = expr("event = {e}", e=exposure.event)
    return and_(
        expr("timestamp >= {f} AND timestamp <= {t}", f=exposure.date_from, t=exposure.date_to),
        which,
        expr("{v} IN {variants}", v=variant, variants=exp.Tuple(expressions=[value(k) for k in exposure.variants])),
        _filters(exposure.test_account_filters, exposure.timezone),
        _filters(exposure.properties, exposure.timezone),
    )


def variant_choice(exposure: Exposure) -> exp.Expression:
    """The entity's variant: its first one (``first_seen``) or ``$multiple`` when it saw several."""
    variant = field("properties", exposure.variant_property)
    if exposure.multiple_variant_handling == "first_seen":
        return expr("argMin({v}, timestamp)", v=variant)
    return expr("if(uniqExact({v}) > 1, {multiple}, any({v}))", v=variant, multiple=MULTIPLE)


def breakdown_value(breakdown: Breakdown) -> exp.Expression:
    if breakdown.type == "person":
        target = field("person", "properties", breakdown.property)
    else:
        target = field("properties", breakdown.property)
    return expr("coalesce(toString({t}), '')", t=target)


def _exposures_text(breakdowns: list[Breakdown]) -> tuple[str, dict[str, Any]]:
    """The exposures CTE (text, holes); breakdown values from each entity's first exposure."""
    columns = "".join(f", argMin({{bd{i}}}, timestamp) AS breakdown_{i}" for i in range(len(breakdowns)))
    text = ("SELECT {entity} AS entity_id, {variant} AS variant, min(timestamp) AS first_exposure_time,"
            f" max(timestamp) AS last_exposure_time{columns} FROM events WHERE {{exposure}} GROUP BY entity_id")  # fmt: skip
    return text, {f"bd{i}": breakdown_value(b) for i, b in enumerate(breakdowns)}


def _exposure_holes(exposure: Exposure) -> dict[str, Any]:
    return {"entity": entity(exposure), "variant": variant_choice(exposure), "exposure": exposure_condition(exposure)}


# -- the exposures insight ---------------------------------------------------------------------


def daily_exposures(exposure: Exposure) -> exp.Expression:
    """(day of first exposure, variant, entities) rows."""
    text, holes = _exposures_text([])
    return select(
        f"SELECT day, variant, count() FROM (SELECT entity_id, variant, toDate(first_exposure_time) AS day"
        f" FROM ({text})) WHERE notEmpty(variant) GROUP BY day, variant ORDER BY day",
        **holes, **_exposure_holes(exposure),
    )


# -- metric sources ----------------------------------------------------------------------------


def until(exposure: Exposure, window_seconds: int) -> dt.datetime:
    """The end of the experiment extended by a conversion window (refused past the calendar's end)."""
    try:
        return exposure.date_to + dt.timedelta(seconds=window_seconds)
    except OverflowError:
        raise ValidationError("The conversion window runs past the year 9999", attr="conversion_window") from None


def source_condition(source: MetricSource, exposure: Exposure, window_seconds: int,
                     actions: Collection[int]) -> exp.Expression:  # fmt: skip
    """A source's events in the experiment range (extended by the conversion window)."""
    return and_(
        expr("timestamp >= {f} AND timestamp < {t}", f=exposure.date_from, t=until(exposure, window_seconds)),
        source_match(source, actions),
        _filters(source.properties, exposure.timezone),
    )


def source_value(source: MetricSource) -> exp.Expression:
    """The per-event value a source's math aggregates."""
    math = source.math or "total"
    if math == "dau":
        return field("person_id")
    if math == "unique_session":
        return field("$session_id")
    if math == "unique_group":
        return field(f"$group_{source.math_group_type_index}")
    if math in ("sum", "avg", "min", "max"):
        return expr("coalesce(toFloat({p}), 0)", p=field("properties", source.math_property or ""))
    return expr("1.0")


AGGREGATES = {
    "dau": "toFloat(count(DISTINCT nullIf(toString({v}), '')))",
    "unique_session": "toFloat(count(DISTINCT nullIf(toString({v}), '')))",
    "unique_group": "toFloat(count(DISTINCT nullIf(toString({v}), '')))",
    "min": "coalesce(min(toFloat({v})), 0)",
    "max": "coalesce(max(toFloat({v})), 0)",
    "avg": "coalesce(avg(toFloat({v})), 0)",
    "sum": "sum(coalesce(toFloat({v}), 0))",
    "total": "sum(coalesce(toFloat({v}), 0))",
}
"""Math -> the per-entity aggregate of its events' values (an entity without events gets 0)."""


def aggregate(source: MetricSource, table: str) -> exp.Expression:
    return expr(AGGREGATES[source.math or "total"], v=field(table, "value"))


def window_condition(table: str, window_seconds: int) -> exp.Expression:
    """A metric event at or after the entity's first exposure, and (with a conversion window)
    before its last exposure plus the window, as PostHog measures it."""
    after = expr("{t} >= exposures.first_exposure_time", t=field(table, "timestamp"))
    if not window_seconds:
        return after
    return and_(after, expr("{t} < exposures.last_exposure_time + toIntervalSecond({s})",
                            t=field(table, "timestamp"), s=window_seconds))  # fmt: skip


def _columns(prefix: str, count: int) -> str:
    return "".join(f", {prefix}breakdown_{i}" for i in range(count))


# -- metric kinds ------------------------------------------------------------------------------


def mean_query(metric: ExperimentMetric, exposure: Exposure, actions: Collection[int]) -> exp.Expression:
    """(variant, breakdowns..., entities, Σ value, Σ value²), winsorized when bounds are set."""
    assert metric.source is not None
    breakdowns = metric.breakdowns()
    n = len(breakdowns)
    exposures, holes = _exposures_text(breakdowns)
    ctes = (
        f"WITH exposures AS ({exposures}),"
        " metric_events AS (SELECT {entity} AS entity_id, timestamp, {value} AS value FROM events WHERE {metric}),"
        " entity_metrics AS (SELECT exposures.entity_id AS entity_id, exposures.variant AS variant"
        + "".join(f", exposures.breakdown_{i} AS breakdown_{i}" for i in range(n))
        + ", {aggregate} AS value FROM exposures LEFT JOIN metric_events"
        " ON exposures.entity_id = metric_events.entity_id AND {window}"
        " GROUP BY exposures.entity_id, exposures.variant" + _columns("exposures.", n) + ")"
    )
    table = "entity_metrics"
    if metric.lower_bound_percentile is not None or metric.upper_bound_percentile is not None:
        holes.update(lower=_bound(metric.lower_bound_percentile, "min", False),
                     upper=_bound(metric.upper_bound_percentile, "max", bool(metric.ignore_zeros)))  # fmt: skip
        join = (" CROSS JOIN percentiles" if not n else " JOIN percentiles ON "
                + " AND ".join(f"entity_metrics.breakdown_{i} = percentiles.breakdown_{i}" for i in range(n)))  # fmt: skip
        ctes += (
            ", percentiles AS (SELECT {lower} AS lower_bound, {upper} AS upper_bound" + _columns("", n)
            + " FROM entity_metrics" + (" GROUP BY " + _columns("", n)[2:] if n else "") + "),"
            " winsorized AS (SELECT entity_metrics.entity_id AS entity_id, entity_metrics.variant AS variant"
            + "".join(f", entity_metrics.breakdown_{i} AS breakdown_{i}" for i in range(n))
            + ", least(greatest(percentiles.lower_bound, entity_metrics.value), percentiles.upper_bound) AS value"
            " FROM entity_metrics" + join + ")"
        )
        table = "winsorized"
    return select(
        ctes + " SELECT variant" + _columns("", n) + ", count(entity_id), sum(value), sum(power(value, 2))"
        f" FROM {table} GROUP BY variant" + _columns("", n),
        **holes, **_exposure_holes(exposure), value=source_value(metric.source),
        metric=source_condition(metric.source, exposure, metric.window_seconds(), actions),
        aggregate=aggregate(metric.source, "metric_events"), window=window_condition("metric_events", metric.window_seconds()),
    )


def _bound(level: float | None, fallback: str, ignore_zeros: bool) -> exp.Expression:
    if level is None:
        return expr(f"{fallback}(entity_metrics.value)")
    if ignore_zeros:
        return expr("quantile({q})(if(entity_metrics.value != 0, entity_metrics.value, NULL))", q=float(level))
    return expr("quantile({q})(entity_metrics.value)", q=float(level))


def ratio_query(metric: ExperimentMetric, exposure: Exposure, actions: Collection[int]) -> exp.Expression:
    """(variant, breakdowns..., entities, Σ num, Σ num², Σ den, Σ den², Σ num·den)."""
    assert metric.numerator is not None and metric.denominator is not None
    breakdowns = metric.breakdowns()
    n = len(breakdowns)
    exposures, holes = _exposures_text(breakdowns)
    window = metric.window_seconds()
    parts = []
    for name in ("numerator", "denominator"):
        parts.append(
            f" {name}_events AS (SELECT {{entity}} AS entity_id, timestamp, {{{name}_value}} AS value FROM events"
            f" WHERE {{{name}_condition}}),"
            f" {name}_agg AS (SELECT exposures.entity_id AS entity_id, {{{name}_aggregate}} AS value"
            f" FROM {name}_events JOIN exposures ON {name}_events.entity_id = exposures.entity_id"
            f" WHERE {{{name}_window}} GROUP BY exposures.entity_id),"
        )
        source = getattr(metric, name)
        holes.update({f"{name}_value": source_value(source),
                      f"{name}_condition": source_condition(source, exposure, window, actions),
                      f"{name}_aggregate": aggregate(source, f"{name}_events"),
                      f"{name}_window": window_condition(f"{name}_events", window)})  # fmt: skip
    text = (
        f"WITH exposures AS ({exposures})," + "".join(parts)
        + " entity_metrics AS (SELECT exposures.variant AS variant, exposures.entity_id AS entity_id"
        + "".join(f", exposures.breakdown_{i} AS breakdown_{i}" for i in range(n))
        + ", coalesce(numerator_agg.value, 0) AS numerator_value, coalesce(denominator_agg.value, 0) AS denominator_value"
        " FROM exposures LEFT JOIN numerator_agg ON exposures.entity_id = numerator_agg.entity_id"
        " LEFT JOIN denominator_agg ON exposures.entity_id = denominator_agg.entity_id)"
        " SELECT variant" + _columns("", n) + ", count(entity_id), sum(numerator_value), sum(power(numerator_value, 2)),"
        " sum(denominator_value), sum(power(denominator_value, 2)), sum(numerator_value * denominator_value)"
        " FROM entity_metrics GROUP BY variant" + _columns("", n)
    )
    return select(text, **holes, **_exposure_holes(exposure))


def funnel_events(metric: ExperimentMetric, exposure: Exposure, base: dt.datetime,
                  actions: Collection[int]) -> exp.Expression:  # fmt: skip
    """Per exposed entity: variant, breakdowns..., and its exposure and step events, each one
    integer (milliseconds since ``base`` shifted past one flag bit per step; bit 0 the exposure)."""
    assert metric.series is not None
    breakdowns = metric.breakdowns()
    n = len(breakdowns)
    exposures, holes = _exposures_text(breakdowns)
    last = until(exposure, metric.window_seconds())
    steps = [and_(source_match(step, actions), series_.filters(step.properties, exposure.timezone))
             for step in metric.series]  # fmt: skip
    code = expr("dateDiff('millisecond', toDateTime({base}), timestamp) * {shift}",
                base=int(base.timestamp()), shift=1 << (len(steps) + 1))  # fmt: skip
    for bit, condition in enumerate([exposure_condition(exposure), *steps]):
        code = exp.Add(this=code, expression=expr("if({c}, {bit}, 0)", c=condition, bit=1 << bit))
    candidates = exp.or_(
        exp.Paren(this=exposure_condition(exposure)),
        exp.Paren(this=and_(expr("timestamp >= {f} AND timestamp <= {t}", f=exposure.date_from, t=last),
                            exp.or_(*(exp.Paren(this=s) for s in steps)))),
    )  # fmt: skip
    return select(
        f"WITH exposures AS ({exposures})"
        " SELECT exposures.variant" + _columns("exposures.", n) + ", arraySort(groupArray(candidates.code))"
        " FROM exposures"
        " JOIN (SELECT {entity} AS entity_id, {code} AS code FROM events WHERE {candidates}) AS candidates"
        " ON exposures.entity_id = candidates.entity_id"
        " GROUP BY exposures.entity_id, exposures.variant" + _columns("exposures.", n),
        **holes, **_exposure_holes(exposure), code=code, candidates=candidates,
    )
