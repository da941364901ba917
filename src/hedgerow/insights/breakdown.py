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
from hedgerow.insights.actor_source import breakdown_value
from hedgerow.insights.events_query import is_aggregation
from hedgerow.insights.templates import expr

SEPARATOR = "\x1f"
"""Joins the values of several breakdowns into one grouping key (a unit separator: not text)."""
NULL = "$$_posthog_breakdown_null_$$"
OTHER = "$$_posthog_breakdown_other_$$"
DEFAULT_LIMIT = 25

V = TypeVar("V")


def enabled(breakdown_filter: Any) -> bool:
    return breakdown_filter is not None and (breakdown_filter.breakdown not in (None, "", [])
                                             or bool(breakdown_filter.breakdowns))


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


def _target(kind: str, key: Any, group_index: int | None) -> exp.Expression:
    """The value broken down by, over ``events``: a property of the event, person or group,
    or a HogQL expression."""
    key = str(key)
    if kind == "event":
        return field("properties", key)
    if kind == "person":
        return field("person", "properties", key)
    if kind == "hogql":
        target = parse_expr(key, what="breakdown")
        if is_aggregation(target):
            raise ValidationError("A HogQL breakdown may not aggregate", attr="breakdown")
        return target
    if kind == "group":
        if group_index is None:
            raise ValidationError("A group breakdown needs breakdown_group_type_index", attr="breakdown_group_type_index")
        return field(f"group_{group_index}", "properties", key)
    raise ValidationError(f"Breakdown type '{kind}' is not supported", attr="breakdown_type")


def _text(target: exp.Expression) -> exp.Expression:
    # empty and missing values are one group (the null row), decided before aggregating
    return expr("coalesce(nullIf(toString({target}), ''), {null})", target=target, null=NULL)


def _normalised_url(target: exp.Expression) -> exp.Expression:
    """PostHog's ``normalize_url``: trailing ``/``, ``?`` and ``#`` trimmed; nothing left is ``/``."""
    return expr("if(empty(trimRight(toString({target}), '/?#')), '/', trimRight(toString({target}), '/?#'))",
                target=target)


def _part(kind: str, key: Any, group_index: int | None, normalize_url: bool | None,
          bins: int | None) -> exp.Expression:
    """One breakdown's value as text: the number itself for a histogram (binned after the
    query, see :mod:`hedgerow.insights.histogram`), the normalised URL under ``normalize_url``."""
    target = _target(kind, key, group_index)
    if bins is not None:
        return _text(expr("toFloat({target})", target=target))
    if normalize_url and kind != "hogql":
        target = _normalised_url(target)
    return _text(target)


def parts(breakdown_filter: Any) -> list[tuple[exp.Expression, bool]]:
    """Each breakdown's value over ``events`` and whether it is binned: the number itself for a
    histogram, else its text (as one part of :func:`expression`)."""
    if breakdown_filter.breakdowns:
        items = [(i.type or "event", i.property, i.group_type_index, getattr(i, "normalize_url", None),
                  getattr(i, "histogram_bin_count", None)) for i in breakdown_filter.breakdowns]
    else:
        key = breakdown_filter.breakdown[0] if isinstance(breakdown_filter.breakdown, list) else breakdown_filter.breakdown
        items = [(breakdown_filter.breakdown_type or "event", key, breakdown_filter.breakdown_group_type_index,
                  getattr(breakdown_filter, "breakdown_normalize_url", None),
                  getattr(breakdown_filter, "breakdown_histogram_bin_count", None))]
    out = []
    for kind, key, group_index, normalize_url, bins in items:
        if bins is not None:
            out.append((expr("toFloat({target})", target=_target(kind, key, group_index)), True))
        else:
            out.append((_part(kind, key, group_index, normalize_url, None), False))
    return out


def histogram_bins(breakdown_filter: Any) -> list[int | None]:
    """The bin count of each breakdown (None where it is not a histogram); empty if none is."""
    if not enabled(breakdown_filter):
        return []
    if breakdown_filter.breakdowns:
        counts = [getattr(item, "histogram_bin_count", None) for item in breakdown_filter.breakdowns]
    else:
        counts = [getattr(breakdown_filter, "breakdown_histogram_bin_count", None)]
    return counts if any(c is not None for c in counts) else []


def expression(breakdown_filter: Any, kept: list[str] | None = None) -> exp.Expression:
    """The HogQL expression of the breakdown value over ``events`` (text; the null sentinel);
    with ``kept``, every other value becomes the "other" sentinel (so maths that do not add up,
    such as unique users or averages, are computed over "other" as one group). Several
    ``breakdowns`` make one text of their values joined by :data:`SEPARATOR`."""
    if breakdown_filter.breakdowns:
        parts: list[exp.Expression] = []
        for index, item in enumerate(breakdown_filter.breakdowns):
            if index:
                parts.append(exp.Literal.string(SEPARATOR))
            parts.append(_part(item.type or "event", item.property, item.group_type_index,
                               getattr(item, "normalize_url", None), getattr(item, "histogram_bin_count", None)))
        value = exp.Anonymous(this="concat", expressions=parts)
    else:
        key = breakdown_filter.breakdown
        if isinstance(key, list):
            if len(key) != 1:
                raise ValidationError("Give several breakdowns in 'breakdowns'", attr="breakdown")
            key = key[0]
        value = _part(breakdown_filter.breakdown_type or "event", key, breakdown_filter.breakdown_group_type_index,
                      getattr(breakdown_filter, "breakdown_normalize_url", None),
                      getattr(breakdown_filter, "breakdown_histogram_bin_count", None))
    if kept is None:
        return value
    return expr("if(has({kept}, {value}), {value}, {other})", kept=kept, value=value, other=OTHER)


def multiple(breakdown_filter: Any) -> int:
    """How many ``breakdowns`` the filter combines (0 for a single ``breakdown``)."""
    return len(breakdown_filter.breakdowns or []) if breakdown_filter is not None else 0


def shown(breakdown_filter: Any, key: str) -> tuple[Any, str]:
    """(``breakdown_value``, label) of a result row: several breakdowns give a list of values
    and their labels joined by ``::``, as PostHog's trends do."""
    count = multiple(breakdown_filter)
    if not count:
        return key, key
    values = [OTHER] * count if key == OTHER else key.split(SEPARATOR)
    return values, "::".join(values)


def key_of(breakdown_filter: Any, value: Any) -> str | None:
    """A breakdown value sent by a client as the key results are grouped by."""
    if isinstance(value, list) and multiple(breakdown_filter):
        if all(v == OTHER for v in value):
            return OTHER
        return SEPARATOR.join(NULL if v is None else str(v) for v in value)
    return breakdown_value(value)


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
