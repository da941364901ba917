"""Breakdowns of insight results by an event or person property.

The engine groups by the property's text (``toString``); values are then ranked here: empty
and missing values become the null sentinel, the top ``breakdown_limit`` values (by the
series' total over the range, then by value) are kept, and the rest are merged into the
"other" sentinel. Result rows list normal values first, then the null row, then "other".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlglot import exp

from hedgerow.errors import ValidationError
from hedgerow.hogql.property_filters import field
from hedgerow.insights.templates import expr

NULL = "$$_posthog_breakdown_null_$$"
OTHER = "$$_posthog_breakdown_other_$$"
DEFAULT_LIMIT = 25

V = TypeVar("V")


def enabled(breakdown_filter: Any) -> bool:
    return breakdown_filter is not None and breakdown_filter.breakdown not in (None, "", [])


def expression(breakdown_filter: Any) -> exp.Expression:
    """The HogQL expression of the breakdown value over ``events`` (text; the null sentinel)."""
    key = breakdown_filter.breakdown
    if isinstance(key, list):
        if len(key) != 1:
            raise ValidationError("Only one breakdown property is supported", attr="breakdown")
        key = key[0]
    key = str(key)
    kind = breakdown_filter.breakdown_type or "event"
    if kind == "event":
        target = field("properties", key)
    elif kind == "person":
        target = field("person", "properties", key)
    else:
        raise ValidationError(f"Breakdown type '{kind}' is not supported", attr="breakdown_type")
    # empty and missing values are one group (the null row), decided before aggregating
    return expr("coalesce(nullIf(toString({target}), ''), {null})", target=target, null=NULL)


def normalise(value: Any) -> str:
    """An engine value as a breakdown value (the null sentinel for missing or empty)."""
    if value is None or value == "":
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def limit_of(breakdown_filter: Any) -> int:
    return breakdown_filter.breakdown_limit or DEFAULT_LIMIT


def rank(
    values: Mapping[str, V],
    total: Callable[[V], float],
    merge: Callable[[V, V], V],
    limit: int,
) -> list[tuple[str, V]]:
    """Keep the top ``limit`` values, merge the rest into OTHER, order for output."""
    ordered = sorted(values.items(), key=lambda item: (-total(item[1]), item[0]))
    kept = ordered[:limit]
    rest = ordered[limit:]
    if rest:
        merged = rest[0][1]
        for _, other in rest[1:]:
            merged = merge(merged, other)
        kept.append((OTHER, merged))

    def order(item: tuple[str, V]) -> tuple[int, float, str]:
        group = 2 if item[0] == OTHER else 1 if item[0] == NULL else 0
        return group, -total(item[1]), item[0]

    return sorted(kept, key=order)
