"""posthog-python's TestConsistency vectors (tests/data/flags/consistency.json)."""

from __future__ import annotations

import pytest

from hedgerow.flags import EvaluationContext, compile_flags, evaluate_flags

from .datafiles import load

CASES = load("consistency.json")["cases"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_consistency_vectors(name: str) -> None:
    case = CASES[name]
    flag_set = compile_flags([case["flag"]])
    key = case["flag"]["key"]
    got = [
        evaluate_flags(flag_set, EvaluationContext(distinct_id=distinct_id))[key].value
        for distinct_id in case["distinct_ids"]
    ]
    assert len(got) == 1000
    mismatches = [(i, g, e) for i, (g, e) in enumerate(zip(got, case["expected"])) if g != e]
    assert mismatches == []
