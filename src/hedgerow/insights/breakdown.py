"""Breakdowns of insight results by an event, person or group property, a HogQL expression, or
cohorts (each cohort one value, computed with the cohort as a filter).

The engine groups by the property's text (``toString``), empty and missing values as the null
sentinel. Values are then ranked here, by the series' total over the range, then by value; when
there are more than ``breakdown_limit``, the top ones are kept and the query runs again with the
rest grouped as the "other" sentinel. Result rows list normal values first, then the null row,
then "other".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlglot import exp

from hedgerow.errors import ValidationError
from hedgerow.hogql.parse import parse_expr
from hedgerow.hogql.property_filters import field
from hedgerow.insights.events_query import is_aggregation
from hedgerow.insights.templates import expr

NULL = "$$_posthog_breakdown_null_$$"
OTHER = "$$_posthog_breakdown_other_$$"
DEFAULT_LIMIT = 25

V = TypeVar("V")


def enabled(breakdown_filter: Any) -> bool:
    return breakdown_filter is not None and breakdown_filter.breakdown not in (None, "", [])


def cohorts(breakdown_filter: Any) -> list[int | str] | None:
    """A cohort breakdown's cohorts (ids, and ``all`` for everyone), or None for other types."""
    if not enabled(breakdown_filter) or breakdown_filter.breakdown_type != "cohort":
        return None
    values = breakdown_filter.breakdown if isinstance(breakdown_filter.breakdown, list) else [breakdown_filter.breakdown]
    out: list[int | str] = []
    for value in values:
        if value == "all" or value == 0 or value == "0":
            out.append("all")
        elif isinstance(value, int) or isinstance(value, str) and value.isdigit():
            out.append(int(value))
        else:
            raise ValidationError(f"A cohort breakdown takes cohort ids or 'all', not {value!r}", attr="breakdown")
    return out


def cohort_filter(cohort: int | str) -> dict[str, Any] | None:
    """The property filter of one cohort breakdown value (None for ``all``)."""
    return None if cohort == "all" else {"type": "cohort", "key": "id", "value": cohort}


def expression(breakdown_filter: Any, kept: list[str] | None = None) -> exp.Expression:
    """The HogQL expression of the breakdown value over ``events`` (text; the null sentinel);
    with ``kept``, every other value becomes the "other" sentinel (so maths that do not add up,
    such as unique users or averages, are computed over "other" as one group)."""
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
    elif kind == "hogql":
        target = parse_expr(key, what="breakdown")
        if is_aggregation(target):
            raise ValidationError("A HogQL breakdown may not aggregate", attr="breakdown")
    elif kind == "group":
        index = breakdown_filter.breakdown_group_type_index
        if index is None:
            raise ValidationError("A group breakdown needs breakdown_group_type_index", attr="breakdown_group_type_index")
        target = field(f"group_{index}", "properties", key)
    else:
        raise ValidationError(f"Breakdown type '{kind}' is not supported", attr="breakdown_type")
    # empty and missing values are one group (the null row), decided before aggregating
    value = expr("coalesce(nullIf(toString({target}), ''), {null})", target=target, null=NULL)
    if kept is None:
        return value
    return expr("if(has({kept}, {value}), {value}, {other})", kept=kept, value=value, other=OTHER)


def normalise(value: Any) -> str:
    """An engine value as a breakdown value (the null sentinel for missing or empty)."""
    if value is None or value == "":
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def limit_of(breakdown_filter: Any) -> int:
    return breakdown_filter.breakdown_limit or DEFAULT_LIMIT


def top(values: Mapping[str, V], total: Callable[[V], float], limit: int) -> list[str] | None:
    """The ``limit`` values to keep (by total desc, then value), or None when all fit."""
    if len(values) <= limit:
        return None
    return [key for key, _ in sorted(values.items(), key=lambda item: (-total(item[1]), item[0]))[:limit]]


def order(values: Mapping[str, V], total: Callable[[V], float]) -> list[tuple[str, V]]:
    """Result rows: normal values (by total desc, then value), then the null row, then other."""

    def key(item: tuple[str, V]) -> tuple[int, float, str]:
        group = 2 if item[0] == OTHER else 1 if item[0] == NULL else 0
        return group, -total(item[1]), item[0]

    return sorted(values.items(), key=key)
