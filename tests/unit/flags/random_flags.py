"""Seeded random flag definitions and people for the differential test.

Generators stay inside the ground where posthog-python's local evaluator is meant to
agree with the server (see the reference notes, SDK protocol section 4.10): no
experience continuity, no legacy super_groups, no pre-release or zero-padded semvers,
no bare semver wildcards, UTC dates, cohort references without negation, dependencies
only between active person-only flags, group conditions with group filters only.
"""

from __future__ import annotations

import random
from typing import Any

GROUP_TYPE_MAPPING = {"0": "company"}
PERSON_KEYS = ("plan", "email", "age", "version", "signup", "country", "beta", "score")

_STRINGS = ("pro", "free", "Team", "ada@acme.com", "bob@EXAMPLE.org", "US", "fr", "", "true", "False", "3", "12.5")
_VERSIONS = ("1", "1.2", "1.2.3", "1.10.0", "2.0.0", "0.9.1", "0.0.4", "10.4.2", "v1.2.3")
_DATES = ("2023-12-31T23:00:00Z", "2024-01-15T10:00:00Z", "2024-02-01T00:00:00+00:00", "2025-06-30T12:00:00Z")
_DATE_FILTERS = ("2024-01-15", "2024-01-15T10:00:00Z", "2024-02-01T00:00:00Z", "2020-01-01", "-30d", "-2y")
_PATTERNS = (r"^pro$", r"acme\.com", r"^[a-z]+@", r"^[0-9]+$", r"(?i)team", r"x|y", r"^$")


def _scalar(rng: random.Random) -> Any:
    kind = rng.random()
    if kind < 0.5:
        return rng.choice(_STRINGS)
    if kind < 0.7:
        return rng.choice((0, 1, 3, 7, 12, 42, -5))
    if kind < 0.8:
        return rng.choice((1.5, 12.5, 3.0, -0.25))
    if kind < 0.95:
        return rng.choice((True, False))
    return None


def _filter(rng: random.Random, prop_type: str) -> dict[str, Any]:
    key = rng.choice(PERSON_KEYS)
    family = rng.choice(("eq", "eq", "text", "regex", "num", "semver", "date", "set"))
    if family == "semver":
        key = "version"  # the SDK drops anything after "-" (dates!) where the server rejects it
    elif family == "date":
        key = "signup"
    if family == "eq":
        operator = rng.choice(("exact", "is_not"))
        value: Any = [_scalar(rng) for _ in range(rng.randint(1, 3))] if rng.random() < 0.4 else _scalar(rng)
        if value is None:
            value = "pro"
    elif family == "text":
        operator = rng.choice(
            ("icontains", "not_icontains", "starts_with", "not_starts_with", "ends_with", "not_ends_with")
        )
        value = rng.choice(("pro", "ACME", "@", "1", "e", "fr"))
    elif family == "regex":
        operator = rng.choice(("regex", "not_regex"))
        value = rng.choice(_PATTERNS)
    elif family == "num":
        operator = rng.choice(("gt", "gte", "lt", "lte"))
        value = rng.choice((0, 3, 10, 12.5, "7", "-1"))
    elif family == "semver":
        operator = rng.choice(
            (
                "semver_eq",
                "semver_neq",
                "semver_gt",
                "semver_gte",
                "semver_lt",
                "semver_lte",
                "semver_tilde",
                "semver_caret",
                "semver_wildcard",
            )
        )
        if operator == "semver_wildcard":
            value = rng.choice(("1.*", "1.2.*", "0.*", "10.*.*", "*"))
        else:
            value = rng.choice(_VERSIONS)
    elif family == "date":
        operator = rng.choice(("is_date_before", "is_date_after"))
        value = rng.choice(_DATE_FILTERS)
    else:
        operator, value = "is_set", "is_set"
    prop = {"key": key, "value": value, "operator": operator, "type": prop_type}
    if prop_type == "group":
        prop["group_type_index"] = 0
    return prop


def _person_value(rng: random.Random, key: str) -> Any:
    if key == "version" and rng.random() < 0.8:
        return rng.choice(_VERSIONS)
    if key == "signup" and rng.random() < 0.8:
        return rng.choice(_DATES)
    return _scalar(rng)


def random_properties(rng: random.Random) -> dict[str, Any]:
    """A property map holding most keys (missing keys make the SDK defer)."""
    return {key: _person_value(rng, key) for key in PERSON_KEYS if rng.random() < 0.85}


def random_cohort(rng: random.Random, others: list[int]) -> dict[str, Any]:
    """A two-level AND/OR cohort tree of person filters (with negation) and references."""
    groups = []
    for _ in range(rng.randint(1, 2)):
        values: list[dict[str, Any]] = []
        for _ in range(rng.randint(1, 3)):
            if others and rng.random() < 0.2:
                ref: dict[str, Any] = {"key": "id", "type": "cohort", "value": rng.choice(others)}
                if rng.random() < 0.5:
                    ref["operator"] = rng.choice(("in", "not_in"))
                values.append(ref)
            else:
                prop = _filter(rng, "person")
                prop["negation"] = rng.random() < 0.3
                values.append(prop)
        groups.append({"type": rng.choice(("AND", "OR")), "values": values})
    return {"type": rng.choice(("AND", "OR")), "values": groups}


def _variants(rng: random.Random) -> list[dict[str, Any]]:
    count = rng.randint(2, 4)
    cuts = sorted(rng.sample(range(1, 100), count - 1))
    shares = [b - a for a, b in zip([0, *cuts], [*cuts, 100])]
    return [{"key": f"v{i}", "rollout_percentage": share} for i, share in enumerate(shares)]


def random_flag(rng: random.Random, flag_id: int, *, cohort_ids: list[int], parents: list[dict]) -> dict[str, Any]:
    """One flag: person, group or mixed conditions, variants, holdout, enrollment, deps."""
    group_flag = rng.random() < 0.2
    filters: dict[str, Any] = {"groups": []}
    if group_flag:
        filters["aggregation_group_type_index"] = 0
    if rng.random() < 0.4:
        filters["multivariate"] = {"variants": _variants(rng)}
        filters["payloads"] = {v["key"]: f'"{v["key"]}"' for v in filters["multivariate"]["variants"]}
    filters.setdefault("payloads", {})["true"] = '{"on": true}'
    if rng.random() < 0.15:
        filters["holdout"] = {"id": rng.randint(1, 9), "exclusion_percentage": rng.choice((0, 10, 30, 50, 100))}
    if not group_flag and rng.random() < 0.1:
        filters["feature_enrollment"] = True
    for _ in range(rng.randint(1, 3)):
        mixed_group = not group_flag and rng.random() < 0.15
        prop_type = "group" if group_flag or mixed_group else "person"
        condition: dict[str, Any] = {
            "properties": [_filter(rng, prop_type) for _ in range(rng.choice((0, 1, 1, 2, 3)))],
            "rollout_percentage": rng.choice((None, 0, 25, 50, 75, 100, round(rng.uniform(0, 100), 2))),
        }
        if mixed_group:
            condition["aggregation_group_type_index"] = 0
        if prop_type == "person" and cohort_ids and rng.random() < 0.2:
            condition["properties"].append(
                {
                    "key": "id",
                    "type": "cohort",
                    "value": rng.choice(cohort_ids),
                    "operator": rng.choice(("in", "not_in")),
                }
            )
        if prop_type == "person" and parents and rng.random() < 0.25:
            parent = rng.choice(parents)
            variants = [v["key"] for v in (parent["filters"].get("multivariate") or {}).get("variants", [])]
            expected = rng.choice([True, False, *variants])
            condition["properties"].append(
                {
                    "key": parent["key"],
                    "type": "flag",
                    "value": expected,
                    "operator": "flag_evaluates_to",
                    "dependency_chain": [parent["key"]],
                }
            )
        if "multivariate" in filters and rng.random() < 0.2:
            condition["variant"] = rng.choice([v["key"] for v in filters["multivariate"]["variants"]] + ["missing"])
        filters["groups"].append(condition)
    flag: dict[str, Any] = {
        "id": flag_id,
        "key": f"flag-{flag_id}",
        "active": rng.random() < 0.95,
        "filters": filters,
        "ensure_experience_continuity": False,
    }
    if rng.random() < 0.1:
        flag["bucketing_identifier"] = "device_id"
    return flag


def random_world(rng: random.Random) -> dict[str, Any]:
    """A small team: cohorts, a few flags (some depending on earlier ones), one person."""
    cohorts: dict[int, dict[str, Any]] = {}
    for cohort_id in range(1, rng.randint(1, 3) + 1):
        cohorts[cohort_id] = random_cohort(rng, list(cohorts))
    flags: list[dict[str, Any]] = []
    parents: list[dict[str, Any]] = []
    for flag_id in range(1, rng.randint(2, 6) + 1):
        flag = random_flag(rng, flag_id, cohort_ids=list(cohorts), parents=parents)
        flags.append(flag)
        groups = flag["filters"]["groups"]
        depends = any(p.get("type") == "flag" for g in groups for p in g["properties"])
        # The SDK evaluates a dependency without the request's groups, so parents stay person-only.
        person_only = "aggregation_group_type_index" not in flag["filters"] and not any(
            "aggregation_group_type_index" in g for g in groups
        )
        if flag["active"] and not depends and person_only:
            parents.append(flag)
    has_group = rng.random() < 0.7
    properties = random_properties(rng)
    for flag in flags:
        if flag["filters"].get("feature_enrollment") and rng.random() < 0.7:
            properties[f"$feature_enrollment/{flag['key']}"] = rng.choice((True, False, "true", "false"))
    person = {
        "distinct_id": f"user-{rng.randint(0, 10**6)}",
        "person_properties": properties,
        "groups": {"company": rng.choice((f"org-{rng.randint(0, 999)}", rng.randint(1, 999)))} if has_group else {},
        "group_properties": {"company": random_properties(rng)} if has_group else {},
        "device_id": f"device-{rng.randint(0, 10**6)}",
    }
    return {"cohorts": cohorts, "flags": flags, "person": person}
