"""The statistics of an experiment's results, as PostHog computes them, with SciPy's distributions.

Each variant arrives as sufficient statistics (``number_of_samples``, ``sum``, ``sum_squares``,
and for ratio metrics the denominator's sums and the sum of products). A metric kind turns them
into a mean and a per-entity variance:

* ``mean``: the sample mean and sample variance;
* ``proportion`` (funnels): p = sum / n with variance p(1 - p);
* ``ratio``: Σnumerator / Σdenominator with the delta-method variance (using the covariance
  from the sum of products).

The effect of a test variant against control is relative ((μT - μC) / μC, delta-method variance)
or absolute (μT - μC). The Bayesian method (flat prior) reads the posterior Normal(effect,
variance): chance to win P(effect > 0), credible interval, significant when the chance is beyond
the interval level either way. The frequentist method is a two-sided Welch t-test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


def distributions() -> Any:
    """SciPy's ``stats`` module, imported on first use: importing it costs about half a second,
    which every server process and CLI command would otherwise pay at start."""
    from scipy import stats

    return stats


MIN_EXPOSURES = 50
MIN_METRIC_DATA = 5
MIN_FREQUENTIST_SAMPLES = 5
MIN_PROPORTION_OUTCOMES = 5

NOT_ENOUGH_EXPOSURES = "not-enough-exposures"
NOT_ENOUGH_METRIC_DATA = "not-enough-metric-data"
BASELINE_MEAN_IS_ZERO = "baseline-mean-is-zero"


class StatisticError(ValueError):
    """The data cannot carry the test (PostHog's ``StatisticError``)."""


@dataclass(frozen=True)
class VariantStats:
    """One variant's sufficient statistics, as the metric query returns them."""

    key: str
    number_of_samples: int
    sum: float
    sum_squares: float
    step_counts: list[int] | None = None
    denominator_sum: float | None = None
    denominator_sum_squares: float | None = None
    numerator_denominator_sum_product: float | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key,
            "number_of_samples": self.number_of_samples,
            "sum": self.sum,
            "sum_squares": self.sum_squares,
        }
        if self.step_counts is not None:
            out["step_counts"] = self.step_counts
        if self.denominator_sum is not None:
            out["denominator_sum"] = self.denominator_sum
            out["denominator_sum_squares"] = self.denominator_sum_squares
            out["numerator_denominator_sum_product"] = self.numerator_denominator_sum_product
        return out


@dataclass(frozen=True)
class Statistic:
    """A variant's estimate: its sample size, mean and per-entity variance."""

    kind: str
    n: int
    mean: float
    variance: float
    successes: float = 0.0


def _sample_variance(n: int, total: float, squares: float) -> float:
    return 0.0 if n == 1 else (squares - total**2 / n) / (n - 1)


def statistic(kind: str, variant: VariantStats) -> Statistic:
    """The estimate of ``variant`` for a metric of ``kind`` (``mean``, ``funnel`` or ``ratio``)."""
    n = variant.number_of_samples
    if n <= 0:
        raise StatisticError("Sample size must be positive")
    if kind == "funnel":
        successes = int(variant.sum)
        p = successes / n
        return Statistic("proportion", n, p, p * (1 - p), successes)
    if kind == "ratio":
        m_sum, d_sum = variant.sum, variant.denominator_sum or 0.0
        m_mean, d_mean = m_sum / n, d_sum / n
        if abs(d_mean) < 1e-10:
            raise StatisticError("Denominator mean cannot be zero for ratio calculation")
        m_var = _sample_variance(n, m_sum, variant.sum_squares)
        d_var = _sample_variance(n, d_sum, variant.denominator_sum_squares or 0.0)
        products = variant.numerator_denominator_sum_product or 0.0
        cov = 0.0 if n == 1 else (products - m_sum * d_sum / n) / (n - 1)
        var = m_var / d_mean**2 + m_mean**2 * d_var / d_mean**4 - 2 * m_mean * cov / d_mean**3
        return Statistic("ratio", n, m_sum / d_sum, var)
    return Statistic("mean", n, variant.sum / n, _sample_variance(n, variant.sum, variant.sum_squares))


def effect(test: Statistic, control: Statistic, difference: str) -> tuple[float, float]:
    """(effect, variance of the effect): relative (delta method) or absolute."""
    if difference == "ABSOLUTE":
        return test.mean - control.mean, test.variance / test.n + control.variance / control.n
    if abs(control.mean) < 1e-10:
        raise StatisticError("Control mean cannot be zero for relative difference calculation")
    value = (test.mean - control.mean) / control.mean
    variance = test.variance / (test.n * control.mean**2) + test.mean**2 * control.variance / (
        control.n * control.mean**4
    )
    return value, variance


@dataclass(frozen=True)
class BayesianConfig:
    ci_level: float = 0.95
    difference: str = "RELATIVE"


@dataclass(frozen=True)
class FrequentistConfig:
    alpha: float = 0.05
    difference: str = "RELATIVE"


def bayesian(test: Statistic, control: Statistic, config: BayesianConfig) -> dict[str, Any]:
    """``chance_to_win``, ``credible_interval`` and ``significant`` (flat prior)."""
    if test.kind == "proportion":
        for name, stat in (("treatment", test), ("control", control)):
            failures = stat.n - stat.successes
            if stat.successes < MIN_PROPORTION_OUTCOMES:
                raise StatisticError(f"Normal approximation invalid: {name} has only {int(stat.successes)} "
                                     "successes (need ≥5). Consider using exact binomial methods.")  # fmt: skip
            if failures < MIN_PROPORTION_OUTCOMES:
                raise StatisticError(f"Normal approximation invalid: {name} has only {int(failures)} "
                                     "failures (need ≥5). Consider using exact binomial methods.")  # fmt: skip
    if config.difference == "RELATIVE" and control.mean <= 0:
        raise StatisticError("Control mean must be positive for relative difference calculation")
    value, variance = effect(test, control, config.difference)
    if variance <= 0:
        raise StatisticError("Effect variance must be positive")
    scale = math.sqrt(variance)
    chance = float(distributions().norm.sf(0, loc=value, scale=scale))
    alpha = 1 - config.ci_level
    low, high = distributions().norm.ppf([alpha / 2, 1 - alpha / 2], loc=value, scale=scale)
    return {
        "chance_to_win": chance,
        "credible_interval": [float(low), float(high)],
        "significant": chance > config.ci_level or chance < 1 - config.ci_level,
    }


def welch_df(test: Statistic, control: Statistic) -> float:
    """Welch–Satterthwaite degrees of freedom."""
    if min(test.n, control.n) < 2:
        raise StatisticError("Welch-Satterthwaite requires n ≥ 2 per group.")
    a, b = test.variance / test.n, control.variance / control.n
    denominator = a**2 / (test.n - 1) + b**2 / (control.n - 1)
    if denominator <= 0:
        raise StatisticError("Pooled variance must be positive")
    return (a + b) ** 2 / denominator


def frequentist(test: Statistic, control: Statistic, config: FrequentistConfig) -> dict[str, Any]:
    """``p_value``, ``confidence_interval`` and ``significant`` (two-sided Welch t-test)."""
    for name, stat in (("Treatment", test), ("Control", control)):
        if stat.n < MIN_FREQUENTIST_SAMPLES:
            raise StatisticError(f"{name} sample size ({stat.n}) below minimum ({MIN_FREQUENTIST_SAMPLES})")
    value, variance = effect(test, control, config.difference)
    df = welch_df(test, control)
    if variance <= 0:
        raise StatisticError("Pooled variance must be positive")
    se = math.sqrt(variance)
    t = value / se
    p_value = float(2 * (1 - distributions().t.cdf(abs(t), df)))
    margin = float(distributions().t.ppf(1 - config.alpha / 2, df)) * se
    return {
        "p_value": p_value,
        "confidence_interval": [value - margin, value + margin],
        "significant": p_value < config.alpha,
    }


# -- the response ---------------------------------------------------------------------------


def validation_failures(kind: str, variant: VariantStats, *, baseline: bool) -> list[str]:
    """PostHog's checks before any statistics: enough exposures, enough conversions, a baseline."""
    failures = []
    if variant.number_of_samples < MIN_EXPOSURES:
        failures.append(NOT_ENOUGH_EXPOSURES)
    if kind == "funnel" and variant.sum < MIN_METRIC_DATA:
        failures.append(NOT_ENOUGH_METRIC_DATA)
    if baseline and variant.sum == 0:
        failures.append(BASELINE_MEAN_IS_ZERO)
    return failures


def _number(value: Any, default: float, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if low < number < high else default


def _difference(value: Any) -> str:
    return value if value in ("RELATIVE", "ABSOLUTE") else "RELATIVE"


def method_of(stats_config: dict[str, Any] | None) -> str:
    """``bayesian`` (the default) or ``frequentist``."""
    method = (stats_config or {}).get("method")
    return method if method in ("bayesian", "frequentist") else "bayesian"


def compare(kind: str, control: VariantStats, tests: list[VariantStats],
            stats_config: dict[str, Any] | None) -> dict[str, Any]:  # fmt: skip
    """``baseline`` and ``variant_results`` of an experiment metric, by the configured method.

    A variant (or the control) failing validation gets no statistics; its fields are left out.
    """
    config = stats_config or {}
    method = method_of(config)
    if method == "frequentist":
        options = config.get("frequentist") or {}
        settings: Any = FrequentistConfig(_number(options.get("alpha"), 0.05, 0, 1),
                                          _difference(options.get("difference_type")))  # fmt: skip
        run = frequentist
    else:
        options = config.get("bayesian") or {}
        settings = BayesianConfig(_number(options.get("ci_level"), 0.95, 0, 1),
                                  _difference(options.get("difference_type")))  # fmt: skip
        run = bayesian
    baseline_failures = validation_failures(kind, control, baseline=True)
    control_stat = None if baseline_failures else statistic(kind, control)
    results = []
    for variant in tests:
        failures = validation_failures(kind, variant, baseline=False)
        result = {**variant.as_json(), "method": method, "validation_failures": failures}
        if control_stat is not None and not failures:
            try:
                result.update(run(statistic(kind, variant), control_stat, settings))
            except StatisticError as error:
                raise StatisticError(f"{'Test' if method == 'frequentist' else 'Bayesian test'} execution failed: "
                                     f"{error}") from None  # fmt: skip
        results.append(result)
    return {"baseline": {**control.as_json(), "validation_failures": baseline_failures}, "variant_results": results}
