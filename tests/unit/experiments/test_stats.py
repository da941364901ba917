"""Experiment statistics against values worked out independently (closed forms, the standard
normal from ``math.erf``, Student's t for even degrees of freedom in closed form, tabled
quantiles) for small hand-made experiments."""

from __future__ import annotations

import math
import statistics

import pytest

from hedgerow.experiments import stats
from hedgerow.experiments.results import sample_ratio_mismatch
from hedgerow.experiments.stats import VariantStats, compare

Z975 = 1.959963984540054  # standard normal 97.5% quantile (tables)
Z95 = 1.6448536269514722  # standard normal 95% quantile
T975_DF8 = 2.306004135204166  # Student's t, 8 degrees of freedom, 97.5% quantile (tables)


def phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def t_cdf_even(t: float, df: int) -> float:
    """Student's t CDF for even ``df``, in closed form (a finite series in cos θ)."""
    theta = math.atan(t / math.sqrt(df))
    total, term = 1.0, 1.0
    for k in range(1, df // 2):
        term *= (2 * k - 1) / (2 * k) * math.cos(theta) ** 2
        total += term
    return 0.5 + 0.5 * math.sin(theta) * total


def of(key: str, values: list[float]) -> VariantStats:
    return VariantStats(key, len(values), sum(values), sum(v * v for v in values))


def mean_variant(key: str, n: int, mean: float, variance: float) -> VariantStats:
    """Sufficient statistics of ``n`` values with this sample mean and variance."""
    total = n * mean
    return VariantStats(key, n, total, variance * (n - 1) + total**2 / n)


def test_bayesian_mean_relative() -> None:
    control, test = mean_variant("control", 100, 10, 4), mean_variant("test", 100, 11, 9)
    result = compare("mean", control, [test], None)["variant_results"][0]
    effect = 0.1
    sd = math.sqrt(9 / (100 * 10**2) + 11**2 * 4 / (100 * 10**4))
    assert result["chance_to_win"] == pytest.approx(phi(effect / sd), abs=1e-12)
    assert result["credible_interval"] == pytest.approx([effect - Z975 * sd, effect + Z975 * sd], abs=1e-9)
    assert result["significant"] is True and result["method"] == "bayesian"
    assert result["validation_failures"] == []


def test_bayesian_absolute_at_another_level() -> None:
    control, test = mean_variant("control", 60, 5, 1), mean_variant("test", 80, 5.1, 2)
    config = {"bayesian": {"ci_level": 0.9, "difference_type": "ABSOLUTE"}}
    result = compare("mean", control, [test], config)["variant_results"][0]
    effect, sd = 0.1, math.sqrt(2 / 80 + 1 / 60)
    assert result["chance_to_win"] == pytest.approx(phi(effect / sd), abs=1e-12)
    assert result["credible_interval"] == pytest.approx([effect - Z95 * sd, effect + Z95 * sd], abs=1e-9)
    assert result["significant"] is False  # about 0.69: within (0.1, 0.9)


def test_bayesian_proportion() -> None:
    control, test = VariantStats("control", 100, 20, 20), VariantStats("test", 100, 35, 35)
    result = compare("funnel", control, [test], None)["variant_results"][0]
    pc, pt = 0.2, 0.35
    effect = (pt - pc) / pc
    sd = math.sqrt(pt * (1 - pt) / (100 * pc**2) + pt**2 * pc * (1 - pc) / (100 * pc**4))
    assert result["chance_to_win"] == pytest.approx(phi(effect / sd), abs=1e-12)
    assert result["credible_interval"] == pytest.approx([effect - Z975 * sd, effect + Z975 * sd], abs=1e-9)


def t_quantile_even(q: float, df: int) -> float:
    """The ``q`` quantile of Student's t (even ``df``) by bisection on the closed-form CDF."""
    low, high = 0.0, 50.0
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if t_cdf_even(middle, df) < q else (low, middle)
    return (low + high) / 2


def test_t_helpers_match_the_tables() -> None:
    assert t_quantile_even(0.975, 8) == pytest.approx(T975_DF8, abs=1e-9)


def test_frequentist_welch_t_test() -> None:
    control_values, test_values = [1, 2, 3, 4, 5] * 10, [3, 4, 5, 6, 7] * 10
    control, test = of("control", control_values), of("test", test_values)
    result = compare("mean", control, [test], {"method": "frequentist"})["variant_results"][0]
    # equal variances and sizes: Welch's degrees of freedom are 2(n - 1) = 98
    var, n = statistics.variance(control_values), 50
    effect = (5 - 3) / 3
    se = math.sqrt(var / (n * 9) + 25 * var / (n * 81))
    t = effect / se
    assert result["p_value"] == pytest.approx(2 * (1 - t_cdf_even(t, 98)), abs=1e-12)
    margin = t_quantile_even(0.975, 98) * se
    assert result["confidence_interval"] == pytest.approx([effect - margin, effect + margin], abs=1e-9)
    assert result["significant"] is True and result["method"] == "frequentist"
    assert "chance_to_win" not in result


def test_frequentist_insignificant() -> None:
    control, test = of("control", [1, 2, 3, 4, 5] * 10), of("test", [1, 2, 3, 4, 6] * 10)
    result = compare("mean", control, [test], {"method": "frequentist"})["variant_results"][0]
    assert result["significant"] is False and result["p_value"] > 0.05


def test_frequentist_significant_at_alpha() -> None:
    control, test = mean_variant("control", 400, 10, 4), mean_variant("test", 400, 10.5, 4)
    result = compare("mean", control, [test], {"method": "frequentist", "frequentist": {"alpha": 0.1}})
    assert result["variant_results"][0]["significant"] is True
    assert result["variant_results"][0]["p_value"] < 0.1


def test_ratio_uses_the_delta_method_with_covariance() -> None:
    pairs = {"control": [(3, 1), (0, 0), (5, 2), (2, 1)] * 13, "test": [(4, 1), (6, 2), (1, 1), (3, 1)] * 13}

    def variant(key: str) -> VariantStats:
        m, d = [p[0] for p in pairs[key]], [p[1] for p in pairs[key]]
        return VariantStats(key, len(m), sum(m), sum(x * x for x in m), None, sum(d), sum(x * x for x in d),
                            sum(x * y for x, y in pairs[key]))  # fmt: skip

    def estimate(key: str) -> tuple[float, float]:
        m, d = [p[0] for p in pairs[key]], [p[1] for p in pairs[key]]
        mm, dm = statistics.fmean(m), statistics.fmean(d)
        cov = statistics.covariance(m, d)
        var = statistics.variance(m) / dm**2 + mm**2 * statistics.variance(d) / dm**4 - 2 * mm * cov / dm**3
        return sum(m) / sum(d), var

    result = compare("ratio", variant("control"), [variant("test")], None)["variant_results"][0]
    (rc, vc), (rt, vt) = estimate("control"), estimate("test")
    n = 52
    effect = (rt - rc) / rc
    sd = math.sqrt(vt / (n * rc**2) + rt**2 * vc / (n * rc**4))
    assert result["chance_to_win"] == pytest.approx(phi(effect / sd), abs=1e-12)
    assert result["denominator_sum"] == 65 and result["numerator_denominator_sum_product"] == 13 * (4 + 12 + 1 + 3)


def test_validation_failures_withhold_statistics() -> None:
    few = compare("mean", mean_variant("control", 49, 1, 1), [mean_variant("test", 60, 1, 1)], None)
    assert few["baseline"]["validation_failures"] == ["not-enough-exposures"]
    assert "chance_to_win" not in few["variant_results"][0]  # no baseline, no statistics
    assert few["variant_results"][0]["validation_failures"] == []
    funnel = compare("funnel", VariantStats("control", 60, 0, 0), [VariantStats("test", 60, 4, 4)], None)
    assert funnel["baseline"]["validation_failures"] == ["not-enough-metric-data", "baseline-mean-is-zero"]
    assert funnel["variant_results"][0]["validation_failures"] == ["not-enough-metric-data"]


def test_normal_approximation_needs_five_failures() -> None:
    with pytest.raises(stats.StatisticError, match="control has only 3 failures"):
        compare("funnel", VariantStats("control", 60, 57, 57), [VariantStats("test", 60, 30, 30)], None)


def test_sample_ratio_mismatch_is_a_chi_squared_test() -> None:
    flag = {"multivariate": {"variants": [{"key": "control", "rollout_percentage": 50},
                                          {"key": "test", "rollout_percentage": 50}]}}  # fmt: skip
    found = sample_ratio_mismatch(flag, {"control": 60, "test": 40, "$multiple": 7})
    assert found is not None and found["expected"] == {"control": 50.0, "test": 50.0}
    # chi-squared = 10²/50 + 10²/50 = 4 on one degree of freedom: p = erfc(sqrt(4 / 2))
    assert found["p_value"] == pytest.approx(math.erfc(math.sqrt(2)), abs=1e-12)
    assert sample_ratio_mismatch(flag, {"control": 50, "test": 49}) is None
