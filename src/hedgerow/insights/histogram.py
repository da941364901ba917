"""Histogram breakdowns of trends: numeric breakdown values grouped into equal-width bins.

As in PostHog's trends query builder, the series is first computed per distinct number (the
engine groups by the value, see :func:`hedgerow.insights.breakdown.expression`); the bins then
span the smallest to the largest number seen, ``count`` of them of equal width, each ``[low,
high)`` with the last one's top raised by 0.01 so that the largest number falls in it. A bin's
value is the sum of the values of the numbers in it (PostHog rolls the rows up with ``sum``),
and it is labelled as ClickHouse prints the pair of floats: ``[10,17.5]``. Missing and
non-numeric values are the null row; with more bins than the breakdown limit, the rest are
summed into "other".
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from sqlglot import exp

from hedgerow.errors import ValidationError
from hedgerow.insights.breakdown import NULL, OTHER, SEPARATOR
from hedgerow.insights.templates import and_, expr

ALL_VALUES = '["",""]'
"""PostHog's label for "every value" of a histogram breakdown (an actors query without a bin)."""
QUANTILE_MATHS = ("median", "p75", "p90", "p95", "p99")
"""Property maths whose per-number results cannot be added up into a bin (PostHog refuses them)."""


def _number(value: float) -> str:
    """A float as ClickHouse prints it: shortest round trip, no ``.0`` on whole numbers."""
    text = repr(float(value))
    if text.endswith(".0"):
        text = text[:-2]
    return text.replace("e+", "e")


def label(low: float, high: float) -> str:
    """A bin's breakdown value: ``[low,high]``."""
    return f"[{_number(low)},{_number(high)}]"


def edges(low: float, high: float, count: int) -> list[tuple[float, float]]:
    """The ``count`` bins from ``low`` to ``high`` (same float arithmetic as PostHog's query)."""
    width = (high - low) / count
    return [(width * x + low, width * (x + 1) + low + (0.01 if x + 1 == count else 0)) for x in range(count)]


def _parse(text: str) -> float | None:
    if text == NULL:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _binner(numbers: list[float], count: int) -> Callable[[float | None], str]:
    if not numbers:
        return lambda value: NULL
    bins = edges(min(numbers), max(numbers), count)
    labels = [label(low, high) for low, high in bins]

    def which(value: float | None) -> str:
        if value is None:
            return NULL
        return next((labels[i] for i, (low, high) in enumerate(bins) if low <= value < high), NULL)

    return which


def _add(a: Any, b: Any) -> Any:
    if isinstance(a, dict):
        out = dict(a)
        for key, value in b.items():
            out[key] = out.get(key, 0) + value
        return out
    return a + b


def binned(values: Mapping[str, Any], counts: list[int | None], multiple: bool) -> dict[str, Any]:
    """Engine results keyed by breakdown value (numbers as text; several breakdowns joined by
    the separator) re-keyed by bin, the values of the numbers in one bin added up."""
    keys = list(values)
    split = [key.split(SEPARATOR) if multiple else [key] for key in keys]
    binners: list[Callable[[float | None], str] | None] = []
    for index, count in enumerate(counts):
        if count is None:
            binners.append(None)
            continue
        numbers = [n for parts in split if (n := _parse(parts[index])) is not None]
        binners.append(_binner(numbers, count))
    out: dict[str, Any] = {}
    for key, parts in zip(keys, split):
        new_parts = [part if binner is None else binner(_parse(part)) for part, binner in zip(parts, binners)]
        new_key = SEPARATOR.join(new_parts)
        out[new_key] = _add(out[new_key], values[key]) if new_key in out else values[key]
    return out


def fold_other(values: Mapping[str, Any], kept: list[str]) -> dict[str, Any]:
    """The kept bins, and the others added up into the "other" row."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        target = key if key in kept else OTHER
        out[target] = _add(out[target], value) if target in out else value
    return out


def refuse_unsupported_maths(series: list[Any]) -> None:
    """A 400 for medians and percentiles, which PostHog does not add up into bins."""
    maths = sorted({node.math for node in series if node.math in QUANTILE_MATHS})
    if maths:
        names = " and ".join(maths)
        raise ValidationError(f"{names.capitalize()} {'is' if len(maths) == 1 else 'are'} not supported when breakdown"
                              " values are grouped into bins. Use average instead, or turn off binning on the"
                              " breakdown.", attr="math")


def actor_condition(value: Any, number: exp.Expression) -> exp.Expression | None:
    """Events in bin ``value`` (``[low,high]``) of the breakdown whose number is ``number``:
    the null row is the events without a number; ``["",""]`` and "other" are every event."""
    text = value if isinstance(value, str) else json.dumps(value) if isinstance(value, list) else str(value)
    if text in (ALL_VALUES, OTHER):
        return None
    if text == NULL:
        return expr("{number} IS NULL", number=number)
    try:
        bounds = json.loads(text)
    except ValueError:
        raise ValidationError("Breakdown value must be a valid JSON array if the the bin count is selected.",
                              attr="breakdown") from None
    if (not isinstance(bounds, list) or len(bounds) != 2
            or not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)):
        raise ValidationError("Breakdown value must contain valid float or int values if the the bin count is"
                              " selected.", attr="breakdown")
    return and_(expr("{number} >= {low}", number=number, low=float(bounds[0])),
                expr("{number} < {high}", number=number, high=float(bounds[1])))
