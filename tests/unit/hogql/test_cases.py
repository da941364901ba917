"""Data-driven compiler tests: every case in cases/*.yaml runs on the real DuckDB dataset."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from hedgerow.hogql import CompileContext, HogQLError, LimitContext, compile_hogql

CASES = [
    (path.stem, case)
    for path in sorted((Path(__file__).parent / "cases").glob("*.yaml"))
    for case in yaml.safe_load(path.read_text())
]


def _ctx_args(case: dict) -> dict:
    args = dict(case.get("ctx") or {})
    if "limit_context" in args:
        args["limit_context"] = LimitContext(**args["limit_context"])
    if "property_types" in args:
        args["property_types"] = {(scope, name): kind for scope, name, kind in args["property_types"]}
    return args


def _close(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
        except (TypeError, ValueError):
            return False
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[f"{f}:{c['name']}" for f, c in CASES])
def test_case(case, run_on, engine):
    """``on_<engine>`` overrides keys for one engine: a documented engine difference, with its
    ``reason``; ``xfail_on_<engine>`` names what that engine cannot run yet."""
    run = run_on
    if case.get("xfail"):
        pytest.xfail(case["xfail"])
    if case.get(f"xfail_on_{engine}"):
        pytest.xfail(case[f"xfail_on_{engine}"])
    override = case.get(f"on_{engine}") or {}
    assert not override or override.get("reason"), "an engine difference needs its reason"
    case = {**case, **override}
    args = _ctx_args(case)
    if "error" in case:
        with pytest.raises(HogQLError) as info:
            run(case["query"], **args)
        assert info.value.code == case["error"], info.value.detail
        return
    compiled, result = run(case["query"], **args)
    if "columns" in case:
        assert list(result.columns) == case["columns"]
    if "types" in case:
        assert [list(t) for t in result.types] == [list(t) for t in case["types"]]
    if "row_count" in case:
        assert len(result.results) == case["row_count"]
    if "rows" in case:
        got, want = result.results, case["rows"]
        if case.get("unordered"):
            got, want = sorted(map(repr, got)), sorted(map(repr, want))
            assert got == want
        else:
            assert _close(got, want), f"\n got: {got}\nwant: {want}\nsql: {compiled.sql}"
    if "has_more" in case:
        assert result.has_more == case["has_more"]
