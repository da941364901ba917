"""Runners of the experiment query kinds: exposures, metric results, and the legacy shapes.

A runner gets the query service's run context and a :class:`Setup` (what the experiment says:
its flag, dates, exposure criteria and statistics settings); it builds the HogQL of
:mod:`.queries`, runs it through the compiler, and hands per-variant sums to :mod:`.stats`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Sequence

import pydantic

from hedgerow.errors import ValidationError
from hedgerow.experiments import queries, stats
from hedgerow.experiments.models import ExperimentMetric, ExposureCriteria, MetricSource
from hedgerow.insights import funnel_steps
from hedgerow.insights.context import PER_PERSON_LIMITS, Runner, now, run_rows

CONTROL = "control"
SRM_MINIMUM_SAMPLE_SIZE = 100
MAX_EXPOSURE_DAYS = 3660
"""The exposure insight lists every day of the experiment: at most ten years of them."""
DEFAULT_FUNNEL_WINDOW = 3 * 365 * 86400
"""A funnel metric without a conversion window counts every step event (PostHog: three years)."""


@dataclass(frozen=True)
class Setup:
    """What an experiment's results depend on."""

    experiment_id: int
    flag_key: str
    flag_filters: dict[str, Any]
    start_date: dt.datetime | None
    end_date: dt.datetime | None
    exposure_criteria: dict[str, Any] | None = None
    stats_config: dict[str, Any] | None = None
    test_account_filters: list[Any] = field(default_factory=list)
    timezone: str = "UTC"

    @property
    def variants(self) -> list[str]:
        return [str(v.get("key")) for v in (self.flag_filters.get("multivariate") or {}).get("variants") or []
                if isinstance(v, dict) and v.get("key")]  # fmt: skip


def exposure_of(setup: Setup, actions: Collection[int]) -> queries.Exposure:
    """Who is exposed, from the flag and the exposure criteria (test accounts filtered by default);
    ``actions`` are the project's action ids, for criteria over an action."""
    try:
        criteria = ExposureCriteria.model_validate(setup.exposure_criteria or {})
    except pydantic.ValidationError:
        raise ValidationError("Invalid exposure criteria", attr="exposure_criteria") from None
    config = criteria.exposure_config or {}
    action = _exposure_action(config)
    event = config.get("event") or queries.FLAG_CALLED
    if action is not None:
        event = queries.FLAG_CALLED  # unused: the action decides which events expose (its
        # properties too: PostHog filters by a criterion's properties for events only)
    elif not isinstance(event, str):
        raise ValidationError("Invalid exposure criteria", attr="exposure_criteria")
    start = setup.start_date or now()
    return queries.Exposure(
        flag_key=setup.flag_key,
        variants=tuple(setup.variants),
        date_from=start,
        date_to=setup.end_date or now(),
        event=event,
        properties=None if action is not None else config.get("properties"),
        test_account_filters=setup.test_account_filters if criteria.filterTestAccounts is not False else None,
        multiple_variant_handling=criteria.multiple_variant_handling or "exclude",
        group_type_index=setup.flag_filters.get("aggregation_group_type_index"),
        timezone=setup.timezone,
        action=action,
        action_known=action in actions,
    )


def _exposure_action(config: dict[str, Any]) -> int | None:
    """The action id of an ``ActionsNode`` exposure criterion (None for an event criterion)."""
    if config.get("kind") != "ActionsNode":
        return None
    raw = config.get("id")
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw < 2**63:
        raise ValidationError("An action exposure criterion needs the action's id", attr="exposure_config")
    return raw


# -- exposures -------------------------------------------------------------------------------


def _local_date(value: dt.datetime, timezone: str) -> dt.date:
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo(timezone)).date()


def run_exposures(ctx: Runner, setup: Setup) -> dict[str, Any]:
    """``ExperimentExposureQuery``: cumulative daily first exposures per variant, and the
    sample ratio mismatch test (chi-squared against the flag's rollout percentages)."""
    date_range = {"date_from": None, "date_to": None, "explicitDate": True}
    if setup.start_date is None:
        return {"kind": "ExperimentExposureQuery", "timeseries": [], "total_exposures": {}, "date_range": date_range}
    exposure = exposure_of(setup, ctx.actions())
    if (exposure.date_to - exposure.date_from).days > MAX_EXPOSURE_DAYS:
        raise ValidationError(f"The experiment spans more than {MAX_EXPOSURE_DAYS} days: its exposures cannot be "
                              "shown day by day", attr="start_date")  # fmt: skip
    rows, hogql = run_rows(ctx, queries.daily_exposures(exposure))
    daily: dict[str, dict[dt.date, int]] = defaultdict(dict)
    for day, variant, count in rows:
        daily[str(variant)][_as_date(day)] = int(count)
    first = _local_date(exposure.date_from, setup.timezone)
    last = _local_date(setup.end_date or now(), setup.timezone)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)] if last >= first else []
    order = [v for v in setup.variants if v in daily] + ([queries.MULTIPLE] if queries.MULTIPLE in daily else [])
    timeseries, totals = [], {}
    for variant in order:
        running, counts = 0, []
        for day in days:
            running += daily[variant].get(day, 0)
            counts.append(running)
        timeseries.append({"variant": variant, "days": [d.isoformat() for d in days], "exposure_counts": counts})
        totals[variant] = counts[-1] if counts else 0
    date_range.update(date_from=_zoned(exposure.date_from, setup.timezone),
                      date_to=_zoned(setup.end_date, setup.timezone) if setup.end_date else None)  # fmt: skip
    response: dict[str, Any] = {"kind": "ExperimentExposureQuery", "timeseries": timeseries,
                                "total_exposures": totals, "date_range": date_range}  # fmt: skip
    mismatch = sample_ratio_mismatch(setup.flag_filters, totals)
    if mismatch is not None:
        response["sample_ratio_mismatch"] = mismatch
    return response


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _zoned(value: dt.datetime, timezone: str) -> str:
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo(timezone)).isoformat()


def sample_ratio_mismatch(flag_filters: dict[str, Any], totals: dict[str, int]) -> dict[str, Any] | None:
    """Chi-squared goodness of fit of the exposures to the rollout split (None under 100 exposures)."""
    shares = {str(v.get("key")): float(v.get("rollout_percentage") or 0)
              for v in (flag_filters.get("multivariate") or {}).get("variants") or [] if isinstance(v, dict)}  # fmt: skip
    keys = [k for k, share in shares.items() if share > 0 and k != queries.MULTIPLE]
    observed_total = sum(totals.get(k, 0) for k in keys)
    if len(keys) < 2 or observed_total < SRM_MINIMUM_SAMPLE_SIZE:
        return None
    expected = {k: shares[k] / 100 * observed_total for k in keys}
    observed = [float(totals.get(k, 0)) for k in keys]
    _, p_value = stats.distributions().chisquare(observed, [expected[k] for k in keys])
    return {"expected": expected, "p_value": float(p_value)}


# -- metrics ---------------------------------------------------------------------------------


Key = tuple[str, ...]


def _collect(setup: Setup, rows: Sequence[Sequence[Any]], width: int, make: Any) -> dict[Key, dict[str, stats.VariantStats]]:
    """Rows (variant, breakdowns..., sums...) -> breakdown tuple -> variant -> statistics; only
    the flag's variants count (``$multiple`` and strays are dropped)."""
    found: dict[Key, dict[str, stats.VariantStats]] = defaultdict(dict)
    for row in rows:
        variant = str(row[0])
        if variant not in setup.variants:
            continue
        key = tuple("" if v is None else str(v) for v in row[1 : 1 + width])
        found[key][variant] = make(variant, row[1 + width :])
    return found


def _sums(variant: str, values: Sequence[Any]) -> stats.VariantStats:
    return stats.VariantStats(variant, int(values[0]), _num(values[1]), _num(values[2]))


def _ratio_sums(variant: str, values: Sequence[Any]) -> stats.VariantStats:
    return stats.VariantStats(variant, int(values[0]), _num(values[1]), _num(values[2]), None,
                              _num(values[3]), _num(values[4]), _num(values[5]))  # fmt: skip


def _num(value: Any) -> float | int:
    number = float(value or 0)
    return int(number) if number.is_integer() else number


def _empty(kind: str, variant: str, steps: int) -> stats.VariantStats:
    if kind == "funnel":
        return stats.VariantStats(variant, 0, 0, 0, [0] * steps)
    if kind == "ratio":
        return stats.VariantStats(variant, 0, 0, 0, None, 0, 0, 0)
    return stats.VariantStats(variant, 0, 0, 0)


def _combined(kind: str, variant: str, parts: list[stats.VariantStats], steps: int) -> stats.VariantStats:
    """A variant's statistics summed over breakdown values."""
    total = _empty(kind, variant, steps)
    for part in parts:
        total = stats.VariantStats(
            variant, total.number_of_samples + part.number_of_samples, total.sum + part.sum,
            total.sum_squares + part.sum_squares,
            [a + b for a, b in zip(total.step_counts, part.step_counts or [])] if total.step_counts is not None else None,
            *((total.denominator_sum + (part.denominator_sum or 0),
               total.denominator_sum_squares + (part.denominator_sum_squares or 0),
               total.numerator_denominator_sum_product + (part.numerator_denominator_sum_product or 0))
              if kind == "ratio" else (None, None, None)),
        )  # fmt: skip
    return total


def _compare(kind: str, setup: Setup, by_variant: dict[str, stats.VariantStats], steps: int) -> dict[str, Any]:
    if CONTROL not in setup.variants:
        raise ValidationError("No control variant found")
    variants = {v: by_variant.get(v) or _empty(kind, v, steps) for v in setup.variants}
    try:
        return stats.compare(kind, variants[CONTROL], [variants[v] for v in setup.variants if v != CONTROL],
                             setup.stats_config)  # fmt: skip
    except stats.StatisticError as error:
        raise ValidationError(str(error)) from None


def run_metric(ctx: Runner, setup: Setup, metric: ExperimentMetric) -> dict[str, Any]:
    """``ExperimentQuery``: per-variant sums of the metric over exposed entities, and statistics."""
    actions = ctx.actions()
    exposure = exposure_of(setup, actions)
    width = len(metric.breakdowns())
    steps = len(metric.series or [])
    if metric.metric_type == "funnel":
        found, hogql = _funnel_sums(ctx, metric, exposure, width, actions)
    elif metric.metric_type == "ratio":
        rows, hogql = run_rows(ctx, queries.ratio_query(metric, exposure, actions))
        found = _collect(setup, rows, width, _ratio_sums)
    else:
        rows, hogql = run_rows(ctx, queries.mean_query(metric, exposure, actions))
        found = _collect(setup, rows, width, _sums)
    found = {k: v for k, v in found.items() if any(name in setup.variants for name in v)}
    kind = metric.metric_type
    overall = {v: _combined(kind, v, [parts[v] for parts in found.values() if v in parts], steps) for v in setup.variants}
    response: dict[str, Any] = {"kind": "ExperimentQuery", "metric": metric.model_dump(mode="json", exclude_none=True),
                                **_compare(kind, setup, overall, steps)}  # fmt: skip
    if width:
        response["breakdown_results"] = [
            {"breakdown_value": list(key), **_compare(kind, setup, found[key], steps)} for key in sorted(found)
        ]
    response.update(hogql=hogql, is_precomputed=False)
    return response


def _funnel_sums(ctx: Runner, metric: ExperimentMetric, exposure: queries.Exposure, width: int,
                 actions: Collection[int]) -> tuple[dict[Key, dict[str, stats.VariantStats]], str]:  # fmt: skip
    """Walk each exposed entity's exposure and step events (PostHog's funnel, exposure first)."""
    assert metric.series is not None
    num_steps = len(metric.series) + 1
    window = metric.window_seconds() or DEFAULT_FUNNEL_WINDOW
    span_ms = (exposure.date_to - exposure.date_from).total_seconds() * 1000 + window * 1000
    if (int(span_ms) + 1).bit_length() + num_steps > 62:
        raise ValidationError("Too many funnel steps for this experiment's date range", attr="series")
    rows, hogql = run_rows(ctx, queries.funnel_events(metric, exposure, exposure.date_from, actions),
                          PER_PERSON_LIMITS)  # fmt: skip
    mask = (1 << num_steps) - 1
    outcomes: dict[Key, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        variant = str(row[0])
        if variant not in exposure.variants:
            continue
        key = tuple("" if v is None else str(v) for v in row[1 : 1 + width])
        events = [((c >> num_steps) / 1000, None, [i + 1 for i in range(num_steps) if (c & mask) >> i & 1])
                  for c in row[1 + width]]  # fmt: skip
        outcomes[key][variant].append(_reached(events, num_steps, window, metric.funnel_order_type or "ordered"))
    found: dict[Key, dict[str, stats.VariantStats]] = defaultdict(dict)
    for key, variants in outcomes.items():
        for variant, reached in variants.items():
            converted = sum(1 for r in reached if r == num_steps - 1)
            found[key][variant] = stats.VariantStats(
                variant, len(reached), converted, converted, [sum(1 for r in reached if r >= i) for i in range(1, num_steps)]
            )
    return found, hogql


def _reached(events: list[tuple[float, Any, list[int]]], num_steps: int, window: float, order: str) -> int:
    """The furthest 0-based step (0: exposed only) an entity reached."""
    if order == "unordered":
        first = min(t for t, _, s in events if 1 in s)
        outcome = funnel_steps.unordered([e for e in events if e[0] >= first], num_steps, window)
    else:
        outcome = funnel_steps.ordered(events, num_steps, window, strict=order == "strict")
    return -1 if outcome is None else outcome.step


# -- legacy shapes ---------------------------------------------------------------------------


def legacy_metric(kind: str, source_query: dict[str, Any]) -> ExperimentMetric:
    """The metric a legacy ``count_query`` (trends) or ``funnels_query`` describes."""
    series = source_query.get("series") if isinstance(source_query, dict) else None
    if not isinstance(series, list) or not series or not all(isinstance(s, dict) for s in series):
        raise ValidationError("The legacy experiment query needs a series", attr="series")
    try:
        if kind == "funnel":
            order = ((source_query.get("funnelsFilter") or {}).get("funnelOrderType")) or "ordered"
            return ExperimentMetric(metric_type="funnel", series=[MetricSource.model_validate(s) for s in series],
                                    funnel_order_type=order)  # fmt: skip
        return ExperimentMetric(metric_type="mean", source=MetricSource.model_validate(series[0]))
    except pydantic.ValidationError as error:
        raise ValidationError(f"Invalid legacy experiment query: {error.errors(include_url=False)}") from None


def run_legacy(ctx: Runner, setup: Setup, kind: str, node: Any) -> dict[str, Any]:
    """``ExperimentTrendsQuery`` / ``ExperimentFunnelsQuery``: the metric's results in the legacy
    shape (``variants``, ``probability``, ``significant``, ``significance_code``,
    ``credible_intervals``), computed with the current Bayesian method."""
    metric = legacy_metric(kind, node.funnels_query if kind == "funnel" else node.count_query)
    exposure_query = getattr(node, "exposure_query", None)
    if exposure_query and isinstance(exposure_query.get("series"), list) and exposure_query["series"]:
        first = exposure_query["series"][0]
        setup = Setup(**{**setup.__dict__, "exposure_criteria": {
            **(setup.exposure_criteria or {}),
            "exposure_config": {"kind": "ExperimentEventExposureConfig", "event": first.get("event"),
                                "properties": first.get("properties") or []}}})  # fmt: skip
    setup = Setup(**{**setup.__dict__, "stats_config": {"method": "bayesian"}})
    result = run_metric(ctx, setup, metric)
    baseline, tests = result["baseline"], result["variant_results"]
    everyone = [baseline, *tests]
    if kind == "funnel":
        variants = [{"key": v["key"], "success_count": v["sum"], "failure_count": v["number_of_samples"] - v["sum"]}
                    for v in everyone]  # fmt: skip
    else:
        variants = [{"key": v["key"], "count": v["sum"], "exposure": v["number_of_samples"],
                     "absolute_exposure": v["number_of_samples"]} for v in everyone]  # fmt: skip
    chances = {v["key"]: v["chance_to_win"] for v in tests if "chance_to_win" in v}
    probability = dict(chances)
    if chances:
        probability[CONTROL] = max(0.0, 1 - max(chances.values()))
    control_mean = baseline["sum"] / baseline["number_of_samples"] if baseline["number_of_samples"] else 0
    intervals = {v["key"]: [control_mean * (1 + v["credible_interval"][0]), control_mean * (1 + v["credible_interval"][1])]
                 for v in tests if "credible_interval" in v}  # fmt: skip
    significant = any(v.get("significant") for v in tests)
    if any(stats.NOT_ENOUGH_EXPOSURES in v["validation_failures"] for v in everyone):
        code = "not_enough_exposure"
    else:
        code = "significant" if significant else "low_win_probability"
    legacy_kind = "ExperimentFunnelsQuery" if kind == "funnel" else "ExperimentTrendsQuery"
    response = {"kind": legacy_kind, "insight": [], "variants": variants, "probability": probability,
                "significant": significant, "significance_code": code, "p_value": 1 - max(chances.values(), default=0.0),
                "credible_intervals": intervals, "stats_version": 2, "hogql": result.get("hogql")}  # fmt: skip
    if kind == "funnel":
        response["funnels_query"] = node.funnels_query
    else:
        response.update(count_query=node.count_query, exposure_query=node.exposure_query)
    return response
