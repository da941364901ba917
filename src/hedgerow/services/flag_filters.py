"""Validation of a flag's ``filters`` (release conditions, variants, payloads) with PostHog's rules.

Every rule raises PostHog's sentence with ``attr: "filters"``; the first broken rule wins.
"""

from __future__ import annotations

import json
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
        raise _invalid("Feature flags must have at least one condition set (group).")
    if current is not None and "groups" not in filters:
        # a PATCH whose filters carry no groups leaves the filters as they are
        return current.filters
    groups = filters.get("groups")
    if not isinstance(groups, list):
        raise _invalid("Filters are not valid (groups must be a list)")
    if not groups:
        raise _invalid("Feature flags must have at least one condition set (group).")
    for group in groups:
        if not isinstance(group, dict):
            raise _invalid("Filters are not valid (each condition set must be an object)")
        if not isinstance(group.get("properties", []) or [], list):
            raise _invalid("Filters are not valid (properties must be a list)")
        rollout = group.get("rollout_percentage")
        if rollout is not None and (isinstance(rollout, bool) or not isinstance(rollout, (int, float))):
            raise _invalid("Filters are not valid (rollout_percentage must be a number)")
    properties = [
        prop for group in groups for prop in (group.get("properties") or [])
    ]
    for prop in properties:
        if not isinstance(prop, dict) or "key" not in prop:
            raise _invalid("Filters are not valid (each property needs a key)")

    aggregation = filters.get("aggregation_group_type_index")
    if aggregation is None:
        if any(prop.get("type", "event") not in ("person", "cohort", "flag") for prop in properties):
            raise _invalid("Filters are not valid (can only use person, cohort, and flag properties)")
        if any(p.get("type") == "flag" and p.get("operator") != "flag_evaluates_to" for p in properties):
            raise _invalid("Flag properties must use the 'flag_evaluates_to' operator")
        _check_dependencies(conn, project_id, flag_key, filters)
    else:
        if isinstance(aggregation, bool) or not isinstance(aggregation, int):
            raise _invalid("Filters are not valid (aggregation_group_type_index must be an integer)")
        if any(p.get("type") != "group" or p.get("group_type_index") != aggregation for p in properties):
            raise _invalid("Filters are not valid (can only use group properties)")

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
    stored.setdefault("aggregation_group_type_index", None)
    return stored


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
        pct = variant.get("rollout_percentage", 0)
        if isinstance(pct, bool) or not isinstance(pct, (int, float)):
            raise _invalid("Invalid variant definitions: Variant rollout percentages must be numbers.")
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
