"""Validation of a flag's ``filters`` (release conditions, variants, payloads) with PostHog's rules.

Every rule raises PostHog's sentence with ``attr: "filters"``; the first broken rule wins.
"""

from __future__ import annotations

import copy
import json
import math
import re
from datetime import datetime
from typing import Any

from hedgerow.errors import ValidationError
from hedgerow.ids import is_digits, parse_id
from hedgerow.services.cohort_tree import cohort_properties
from hedgerow.store.meta import cohorts as cohort_store
from hedgerow.store.meta import flags as flag_store
from hedgerow.store.meta.cohorts import CohortRecord
from hedgerow.store.meta.flags import FlagRecord

MAX_PROPERTY_VALUES = 1000
MAX_PATTERN_LENGTH = 4096
DEFAULT_FILTERS = {"groups": [{"properties": [], "rollout_percentage": None}]}
STRING_VALUE_OPERATORS = ("regex", "icontains", "not_regex", "not_icontains", "gte", "lte", "gt", "lt")
DATE_OPERATORS = ("is_date_before", "is_date_after")
KNOWN_OPERATORS = frozenset(
    """exact is_not icontains not_icontains regex not_regex gt gte lt lte is_set is_not_set
    is_date_exact is_date_before is_date_after between not_between min max in not_in
    is_cleaned_path_exact flag_evaluates_to semver_eq semver_neq semver_gt semver_gte semver_lt
    semver_lte semver_tilde semver_caret semver_wildcard icontains_multi not_icontains_multi
    starts_with not_starts_with ends_with not_ends_with""".split()
)
_RELATIVE_DATE = re.compile(r"^-?\d+[hdwmy]$")


def _invalid(detail: str, code: str = "invalid_input") -> ValidationError:
    return ValidationError(detail, code=code, attr="filters")


def parses_as_date(value: Any) -> bool:
    """Whether a date-operator value is a relative date (``-7d``) or an ISO date/datetime."""
    if not isinstance(value, str) or not value.strip():
        return False
    text = value.strip()
    if _RELATIVE_DATE.match(text):
        return True
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def validate_filters(
    conn: Any,
    project_id: int,
    filters: dict[str, Any] | None,
    *,
    flag_key: str,
    current: FlagRecord | None,
) -> dict[str, Any]:
    """The filters to store, or the first rule they break. ``current`` is None on create."""
    if filters is None:
        if current is not None:
            return current.filters
        # no filters on create: the model's default, one condition set for everyone at no rollout
        return copy.deepcopy(DEFAULT_FILTERS)
    if current is not None and "groups" not in filters:
        # a PATCH whose filters carry no groups leaves the filters as they are
        return current.filters
    groups = filters.get("groups")
    if not isinstance(groups, list):
        raise _invalid("Filters are not valid (groups must be a list)")
    if not groups:
        raise _invalid("Feature flags must have at least one condition set (group).")
    for index, group in enumerate(groups):
        if not isinstance(group, dict):
            raise _invalid("Filters are not valid (each condition set must be an object)")
        if not isinstance(group.get("properties", []) or [], list):
            raise _invalid("Filters are not valid (properties must be a list)")
        variant = group.get("variant")
        if variant is not None and not isinstance(variant, str):
            raise _invalid(f"groups[{index}].variant must be a string or null, got {type(variant).__name__}")
        _check_percentage(group.get("rollout_percentage"), f"groups[{index}].rollout_percentage")
        for prop_index, prop in enumerate(group.get("properties") or []):
            if not isinstance(prop, dict) or "key" not in prop:
                raise _invalid("Filters are not valid (each property needs a key)")
            if not _integer_or_null(prop.get("group_type_index")):
                raise _invalid(
                    f"groups[{index}].properties[{prop_index}].group_type_index must be an integer or null, "
                    f"got {type(prop['group_type_index']).__name__}"
                )
    _check_patterns(groups, current)
    for index, variant in enumerate(_variants(filters)):
        _check_percentage(
            variant.get("rollout_percentage"), f"multivariate.variants[{index}].rollout_percentage", allow_null=False
        )

    filters = _with_condition_aggregation(filters)
    groups = filters["groups"]
    for group in groups:
        aggregation = group["aggregation_group_type_index"]
        for prop in group.get("properties") or []:
            if aggregation is None:
                if prop.get("type", "event") not in ("person", "cohort", "flag"):
                    raise _invalid(
                        "Filters are not valid (person-aggregated conditions can only use person, cohort, "
                        "and flag properties)"
                    )
                if prop.get("type") == "flag" and prop.get("operator") != "flag_evaluates_to":
                    raise _invalid("Flag properties must use the 'flag_evaluates_to' operator")
            elif prop.get("type") != "group":
                raise _invalid("Filters are not valid (group-aggregated conditions can only use group properties)")
            elif prop.get("group_type_index") != aggregation:
                raise _invalid("Filters are not valid (group properties must match the condition set's group type)")
    if any(group["aggregation_group_type_index"] is None for group in groups):
        _check_dependencies(conn, project_id, flag_key, filters)

    variant_list = _variants(filters)
    variant_keys = {v["key"] for v in variant_list}
    if variant_list and sum(v.get("rollout_percentage", 0) for v in variant_list) != 100:
        raise _invalid("Invalid variant definitions: Variant rollout percentages must sum to 100.")
    for group in groups:
        if group.get("variant") and group["variant"] not in variant_keys:
            raise _invalid("Filters are not valid (variant override does not exist)")
        for prop in group.get("properties") or []:
            _check_property(conn, project_id, prop)

    payloads = filters.get("payloads", {})
    if payloads is None:
        payloads = {}
    if not isinstance(payloads, dict):
        raise _invalid("Payloads must be passed as a dictionary")
    stored_payloads: dict[str, str] = {}
    for key, value in payloads.items():
        if isinstance(value, str):
            try:
                json.loads(value)
            except ValueError:
                raise _invalid("Payload value is not valid JSON") from None
            stored_payloads[key] = value
        else:
            stored_payloads[key] = json.dumps(value)
    if filters.get("multivariate"):
        if not all(key in variant_keys for key in payloads):
            raise _invalid("Payload keys must match a variant key for multivariate flags")
    elif len(payloads) > 1 or any(key != "true" for key in payloads):
        raise _invalid("Payload keys must be 'true' for boolean flags")

    stored = dict(filters)
    stored["payloads"] = stored_payloads
    stored.setdefault("multivariate", None)
    return stored


def _check_percentage(value: Any, path: str, *, allow_null: bool = True) -> None:
    """A rollout percentage: a number from 0 to 100 (or null where allowed), PostHog's sentences."""
    if value is None:
        if not allow_null:
            raise _invalid(f"{path} must be a number, got null")
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        expected = "a number or null" if allow_null else "a number"
        raise _invalid(f"{path} must be {expected}, got {type(value).__name__}")
    if not math.isfinite(value):
        raise _invalid(f"{path} must be finite, got {value}")
    if value < 0 or value > 100:
        raise _invalid(f"{path} must be between 0 and 100, got {value}")


def _integer_or_null(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _with_condition_aggregation(filters: dict[str, Any]) -> dict[str, Any]:
    """``filters`` with every condition set carrying its own ``aggregation_group_type_index``
    (the flag's, when it has none) and the flag's own one derived from them: theirs when
    they all agree, else null (a mixed flag is evaluated condition by condition)."""
    flag_level = filters.get("aggregation_group_type_index")
    if not _integer_or_null(flag_level):
        raise _invalid(f"aggregation_group_type_index must be an integer or null, got {type(flag_level).__name__}")
    groups = []
    for index, group in enumerate(filters["groups"]):
        own = group.get("aggregation_group_type_index", flag_level)
        if not _integer_or_null(own):
            raise _invalid(
                f"groups[{index}].aggregation_group_type_index must be an integer or null, got {type(own).__name__}"
            )
        groups.append({**group, "aggregation_group_type_index": own})
    kinds = {group["aggregation_group_type_index"] for group in groups}
    return {**filters, "groups": groups, "aggregation_group_type_index": kinds.pop() if len(kinds) == 1 else None}


def _check_patterns(groups: list[dict[str, Any]], current: FlagRecord | None) -> None:
    """Regex values must compile (Python's syntax, as PostHog checks them) and stay short;
    patterns the flag already holds are left alone."""
    existing = {
        prop.get("value")
        for group in (current.filters.get("groups") or [] if current is not None else [])
        if isinstance(group, dict)
        for prop in group.get("properties") or []
        if isinstance(prop, dict) and prop.get("operator") in ("regex", "not_regex")
    }
    for group_index, group in enumerate(groups):
        for prop_index, prop in enumerate(group.get("properties") or []):
            value = prop.get("value")
            if prop.get("operator") not in ("regex", "not_regex") or not isinstance(value, str) or value in existing:
                continue
            path = f"groups[{group_index}].properties[{prop_index}].value"
            if len(value) > MAX_PATTERN_LENGTH:
                raise _invalid(f"{path}: regex pattern is longer than {MAX_PATTERN_LENGTH} characters")
            try:
                re.compile(value)
            except (re.error, RecursionError, OverflowError, ValueError):
                raise _invalid(f"{path}: invalid regex pattern") from None


def _variants(filters: dict[str, Any]) -> list[dict[str, Any]]:
    multivariate = filters.get("multivariate")
    if multivariate is None:
        return []
    if not isinstance(multivariate, dict) or not isinstance(multivariate.get("variants", []), list):
        raise _invalid("Filters are not valid (multivariate must hold a list of variants)")
    variants = multivariate.get("variants") or []
    for variant in variants:
        if not isinstance(variant, dict) or not isinstance(variant.get("key"), str):
            raise _invalid("Invalid variant definitions: each variant needs a key.")
    return variants


def _check_property(conn: Any, project_id: int, prop: dict[str, Any]) -> None:
    operator = prop.get("operator") or "exact"
    value = prop.get("value")
    if operator not in KNOWN_OPERATORS:
        raise _invalid(f"Invalid operator: {operator}", code="invalid_operator")
    if operator in ("in", "not_in") and prop.get("type") != "cohort":
        raise _invalid(
            f"Operator '{operator}' can only be used with cohort properties.", code="invalid_operator"
        )
    if isinstance(value, list) and len(value) > MAX_PROPERTY_VALUES:
        raise _invalid(
            f"Property group expressions of type {prop.get('key')} cannot contain more than "
            f"{MAX_PROPERTY_VALUES} values."
        )
    if prop.get("type") == "cohort":
        number = parse_id(str(value))
        cohort = cohort_store.get(conn, project_id, number) if number is not None else None
        if cohort is None:
            raise _invalid(f"Cohort with id {value} does not exist", code="cohort_does_not_exist")
        for member in [cohort, *_cohort_dependencies(conn, project_id, cohort)]:
            if _is_behavioral(member):
                raise _invalid(
                    f"Cohort '{member.name}' with filters on events cannot be used in feature flags.",
                    code="behavioral_cohort_found",
                )
    if operator in DATE_OPERATORS and not parses_as_date(value):
        raise _invalid(f"Invalid date value: {value}", code="invalid_date")
    if operator in STRING_VALUE_OPERATORS and not isinstance(value, str):
        raise _invalid(f"Invalid value for operator {operator}: {value}", code="invalid_value")


def _is_behavioral(cohort: CohortRecord) -> bool:
    return any(p.get("type") == "behavioral" for p in cohort_properties(cohort))


def _cohort_dependencies(conn: Any, project_id: int, cohort: CohortRecord) -> list[CohortRecord]:
    seen: dict[int, CohortRecord] = {}
    pending = [cohort]
    while pending:
        for prop in cohort_properties(pending.pop()):
            if prop.get("type") == "cohort" and parse_id(str(prop.get("value"))) is not None:
                dep_id = int(prop["value"])
                if dep_id not in seen and dep_id != cohort.id:
                    dep = cohort_store.get(conn, project_id, dep_id)
                    if dep is not None:
                        seen[dep_id] = dep
                        pending.append(dep)
    return list(seen.values())


def _check_dependencies(conn: Any, project_id: int, flag_key: str, filters: dict[str, Any]) -> None:
    """Flag-on-flag conditions must name live flags by id, and never form a cycle."""

    def dependency_keys(flag_filters: dict[str, Any]) -> set[str]:
        keys = set()
        for group in flag_filters.get("groups") or []:
            for prop in (group or {}).get("properties") or []:
                if isinstance(prop, dict) and prop.get("type") == "flag":
                    reference = prop.get("key")
                    if not is_digits(str(reference).removeprefix("-")):
                        raise _invalid(
                            "Flag dependencies must reference flag IDs (integers), not flag keys. "
                            f"Invalid reference: '{reference}'"
                        )
                    dep = flag_store.get(conn, project_id, int(reference))
                    if dep is None or dep.deleted:
                        raise _invalid(f"Flag dependency references non-existent flag with ID {reference}")
                    if not dep.active:
                        raise _invalid(
                            f"Cannot create dependency on disabled flag '{dep.key}' (ID: {dep.id}). "
                            "Flag dependencies must reference active flags only."
                        )
                    keys.add(dep.key)
        return keys

    direct = dependency_keys(filters)
    if not direct:
        return
    if flag_key in direct:
        raise _invalid(f"Feature flag '{flag_key}' cannot depend on itself")

    def visit(key: str, path: list[str]) -> None:
        if key in path:
            cycle = path[path.index(key):] + [key]
            raise _invalid(f"Circular dependency detected: {' → '.join(cycle)}")
        dep = flag_store.live_by_key(conn, project_id, key)
        if dep is None:
            return
        for next_key in dependency_keys(dep.filters):
            visit(next_key, [*path, key])

    for key in direct:
        visit(key, [flag_key])
