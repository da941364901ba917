"""Histogram bins of trends breakdowns: edges, labels as ClickHouse prints them, roll-up."""

from __future__ import annotations

import pytest

from hedgerow.errors import ValidationError
from hedgerow.insights import histogram
from hedgerow.insights.breakdown import NULL, OTHER, SEPARATOR


@pytest.mark.parametrize(("low", "high", "count", "labels"), [
    (10, 40, 4, ["[10,17.5]", "[17.5,25]", "[25,32.5]", "[32.5,40.01]"]),  # PostHog's own test
    (0, 1, 3, ["[0,0.3333333333333333]", "[0.3333333333333333,0.6666666666666666]", "[0.6666666666666666,1.01]"]),
    (5, 5, 2, ["[5,5]", "[5,5.01]"]),
    (-2.5, 2.5, 1, ["[-2.5,2.51]"]),
    (0, 1e21, 1, ["[0,1e21]"]),
])  # fmt: skip
def test_edges_and_labels(low, high, count, labels):
    assert [histogram.label(a, b) for a, b in histogram.edges(low, high, count)] == labels


def test_numbers_roll_up_into_bins_by_sum_and_the_rest_is_null():
    values = {"10.0": {"d1": 1}, "11": {"d1": 2, "d2": 1}, "40": {"d2": 1}, NULL: {"d1": 1}, "abc": {"d2": 4}}
    assert histogram.binned(values, [2], multiple=False) == {
        "[10,25]": {"d1": 3, "d2": 1}, "[25,40.01]": {"d2": 1}, NULL: {"d1": 1, "d2": 4}}


def test_only_the_binned_breakdown_of_several_is_rebinned():
    values = {f"1{SEPARATOR}x": 1, f"3{SEPARATOR}x": 2, f"{NULL}{SEPARATOR}y": 5}
    assert histogram.binned(values, [1, None], multiple=True) == {f"[1,3.01]{SEPARATOR}x": 3, f"{NULL}{SEPARATOR}y": 5}


def test_other_adds_up_what_is_not_kept():
    assert histogram.fold_other({"a": 1, "b": 2, "c": 3}, ["c"]) == {"c": 3, OTHER: 3}


@pytest.mark.parametrize("value", ["[1,a]", "[1]", "x", '{"a": 1}', "[true,2]"])
def test_actor_bins_that_are_not_two_numbers_are_a_400(value):
    from sqlglot import exp

    with pytest.raises(ValidationError):
        histogram.actor_condition(value, exp.column("n"))
