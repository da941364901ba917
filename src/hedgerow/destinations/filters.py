"""A destination's trigger filters as ONE HogQL condition over ``events``.

PostHog's shape: ``{"events": [{"id": name|null, "type": "events", "properties": [...]}],
"actions": [{"id": 12, "type": "actions", "properties": [...]}], "properties": [...],
"filter_test_accounts": bool}``. The condition is, as in PostHog's
``hog_function_filters_to_expr``: test-account filters AND global properties AND (any of the
event/action entries), each entry being its event (``null`` = any event) or action
(``matchesAction(id)``, the same definition insights use) AND its own properties. No entries
means every event.
"""

from __future__ import annotations

from typing import Any, Mapping

from sqlglot import exp

from hedgerow.hogql.property_filters import (
    FilterEnv,
    PropertyFilterError,
    field,
    literal,
    property_filter,
    to_hogql,
)

MAX_ENTRIES = 200


def _entries(filters: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    raw = filters.get(key) or []
    if not isinstance(raw, list) or not all(isinstance(e, Mapping) for e in raw):
        raise PropertyFilterError(f"filters.{key} must be a list of objects")
    if len(raw) > MAX_ENTRIES:
        raise PropertyFilterError(f"filters.{key} may hold at most {MAX_ENTRIES} entries")
    return raw


def _and(parts: list[exp.Expression]) -> exp.Expression:
    if not parts:
        return exp.true()
    return parts[0] if len(parts) == 1 else exp.Paren(this=exp.and_(*parts))


def _entry(entry: Mapping[str, Any], kind: str, env: FilterEnv) -> exp.Expression:
    parts: list[exp.Expression] = []
    if kind == "events":
        name = entry.get("id")
        if name is not None:
            if not isinstance(name, str):
                raise PropertyFilterError("An event filter's id must be an event name or null")
            parts.append(exp.EQ(this=field("event"), expression=literal(name)))
    else:
        action_id = entry.get("id")
        try:
            number = int(action_id)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise PropertyFilterError("An action filter's id must be an action id") from None
        if isinstance(action_id, bool) or not 0 < number < 2**63:
            raise PropertyFilterError("An action filter's id must be an action id")
        parts.append(exp.Anonymous(this="matchesAction", expressions=[exp.Literal.number(number)]))
    if entry.get("properties"):
        parts.append(property_filter(entry["properties"], env))
    return _and(parts)


def trigger_condition(filters: Mapping[str, Any] | None, *, test_account_filters: Any = None,
                      env: FilterEnv | None = None) -> exp.Expression:  # fmt: skip
    """The HogQL condition an event must meet to trigger the destination."""
    env = env or FilterEnv()
    filters = {} if filters is None else filters
    if not isinstance(filters, Mapping):
        raise PropertyFilterError("filters must be an object")
    common: list[exp.Expression] = []
    if filters.get("filter_test_accounts") and test_account_filters:
        common.append(property_filter(test_account_filters, env))
    if filters.get("properties"):
        common.append(property_filter(filters["properties"], env))
    entries = [_entry(e, "events", env) for e in _entries(filters, "events")]
    entries += [_entry(e, "actions", env) for e in _entries(filters, "actions")]
    if entries:
        common.append(entries[0] if len(entries) == 1 else exp.Paren(this=exp.or_(*entries)))
    return _and(common)


def trigger_hogql(filters: Mapping[str, Any] | None, *, test_account_filters: Any = None) -> str:
    """The trigger condition as HogQL text."""
    return to_hogql(trigger_condition(filters, test_account_filters=test_account_filters))
