"""Choosing which flags to evaluate, and evaluating one."""

from __future__ import annotations

from hedgerow.flags import EvaluationContext, compile_flags, evaluate_flag, evaluate_flags

FLAGS = [
    {"id": 1, "key": "parent", "filters": {"groups": [{"rollout_percentage": 100}]}},
    {"id": 2, "key": "child", "filters": {"groups": [{"properties": [
        {"key": "1", "type": "flag", "value": True, "operator": "flag_evaluates_to"}]}]}},
    {"id": 3, "key": "alone", "filters": {"groups": [{"rollout_percentage": 0}]}},
]  # fmt: skip
CTX = EvaluationContext(distinct_id="someone")


def test_all_flags_in_given_order() -> None:
    assert list(evaluate_flags(compile_flags(FLAGS[::-1]), CTX)) == ["alone", "child", "parent"]


def test_empty_selection_evaluates_nothing() -> None:
    assert evaluate_flags(compile_flags(FLAGS), CTX, []) == {}


def test_evaluate_one_flag_runs_its_dependencies() -> None:
    flag_set = compile_flags(FLAGS)
    assert evaluate_flag(flag_set, "child", CTX).enabled is True
    assert evaluate_flag(flag_set, "missing", CTX) is None


def test_dependency_cycles_are_reported_on_the_set() -> None:
    cyclic = compile_flags(
        [
            {
                "id": 1,
                "key": "a",
                "filters": {
                    "groups": [
                        {"properties": [{"key": "b", "type": "flag", "value": True, "operator": "flag_evaluates_to"}]}
                    ]
                },
            },
            {
                "id": 2,
                "key": "b",
                "filters": {
                    "groups": [
                        {"properties": [{"key": "a", "type": "flag", "value": True, "operator": "flag_evaluates_to"}]}
                    ]
                },
            },
        ]
    )
    assert cyclic.has_dependency_cycles
    assert not compile_flags(FLAGS).has_dependency_cycles


def test_results_are_shared_per_outcome_but_equal() -> None:
    flag_set = compile_flags(FLAGS)
    first = evaluate_flags(flag_set, EvaluationContext(distinct_id="a"))
    second = evaluate_flags(flag_set, EvaluationContext(distinct_id="b"))
    assert first["parent"] is second["parent"]
    assert first["parent"].to_v2() == second["parent"].to_v2()
