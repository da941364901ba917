"""FlagResult renders PostHog's /flags v2 record."""

from __future__ import annotations

from hedgerow.flags import EvaluationContext, compile_flags, evaluate_flags


def test_matched_record() -> None:
    flag_set = compile_flags(
        [
            {
                "id": 12,
                "key": "new-checkout",
                "active": True,
                "version": 3,
                "has_experiment": True,
                "filters": {
                    "groups": [{"properties": [], "rollout_percentage": 100}],
                    "multivariate": {"variants": [{"key": "test", "rollout_percentage": 100}]},
                    "payloads": {"test": '{"color":"blue"}'},
                },
            }
        ]
    )
    record = evaluate_flags(flag_set, EvaluationContext(distinct_id="u"))["new-checkout"].to_v2()
    assert record == {
        "key": "new-checkout",
        "enabled": True,
        "variant": "test",
        "reason": {"code": "condition_match", "condition_index": 0, "description": "Matched condition set 1"},
        "metadata": {
            "id": 12,
            "version": 3,
            "description": None,
            "payload": '{"color":"blue"}',
            "has_experiment": True,
        },
    }


def test_failed_record_carries_failed_flag() -> None:
    flag_set = compile_flags(
        [
            {
                "id": 7,
                "key": "beta",
                "filters": {"groups": [{"properties": [{"key": "id", "type": "cohort", "value": 9}]}]},
            }
        ]
    )
    record = evaluate_flags(flag_set, EvaluationContext(distinct_id="u"))["beta"].to_v2()
    assert record["failed"] is True
    assert record["enabled"] is False
    assert record["reason"] == {
        "code": "dependency_not_found_cohort",
        "condition_index": None,
        "description": "Cohort dependency not found",
    }
    assert record["metadata"]["version"] == 0  # the server sends 0 for a missing version


def test_value_is_variant_or_boolean() -> None:
    flag_set = compile_flags(
        [
            {"id": 1, "key": "on", "filters": {"groups": [{"rollout_percentage": 100}]}},
            {"id": 2, "key": "off", "filters": {"groups": [{"rollout_percentage": 0}]}},
        ]
    )
    results = evaluate_flags(flag_set, EvaluationContext(distinct_id="someone"))
    assert results["on"].value is True
    assert results["off"].value is False
