"""Whole-flag scenarios from tests/data/flags/scenarios.json."""

from __future__ import annotations

from typing import Any

import pytest

from hedgerow.flags import EvaluationContext, compile_flags, evaluate_flags

from .datafiles import load

SCENARIOS = load("scenarios.json")["scenarios"]
_FIELDS = {
    "enabled": "enabled",
    "variant": "variant",
    "reason": "reason_code",
    "condition_index": "condition_index",
    "description": "reason_description",
    "payload": "payload",
    "failed": "failed",
}


def context_from(data: dict[str, Any]) -> EvaluationContext:
    """Build an EvaluationContext from a scenario's JSON context."""
    data = dict(data)
    if "static_cohort_ids" in data:
        data["static_cohort_ids"] = frozenset(data["static_cohort_ids"])
    return EvaluationContext(**data)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_scenario(scenario: dict[str, Any]) -> None:
    flag_set = compile_flags(
        scenario["flags"],
        cohorts={int(k): v for k, v in scenario.get("cohorts", {}).items()},
        group_type_mapping=scenario.get("group_type_mapping"),
        timezone=scenario.get("timezone", "UTC"),
    )
    results = evaluate_flags(flag_set, context_from(scenario["context"]), scenario.get("flag_keys"))
    if "only" in scenario:
        assert set(results) == set(scenario["only"])
    for key, expected in scenario["expected"].items():
        result = results[key]
        actual = {name: getattr(result, _FIELDS[name]) for name in expected}
        assert actual == expected, key
