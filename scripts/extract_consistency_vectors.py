"""Extract posthog-python's TestConsistency vectors into tests/data/flags/consistency.json.

Run with the project venv: `.venv/bin/python scripts/extract_consistency_vectors.py`.
The flag definitions and expected results are read from the installed package's test
file with `ast` (never imported), so the data stays exactly what the SDK asserts.
"""

from __future__ import annotations

import ast
import json
import pathlib

import posthog

SOURCE = pathlib.Path(posthog.__file__).parent / "test" / "test_feature_flags.py"
TARGET = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "flags" / "consistency.json"
TESTS = ("test_simple_flag_consistency", "test_multivariate_flag_consistency")


def _extract(func: ast.FunctionDef) -> dict:
    flags = results = None
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Attribute) and target.attr == "feature_flags":
                flags = ast.literal_eval(node.value)
            elif isinstance(target, ast.Name) and target.id == "results":
                results = ast.literal_eval(node.value)
    assert flags is not None and results is not None, func.name
    return {
        "flag": flags[0],
        "distinct_ids": [f"distinct_id_{i}" for i in range(len(results))],
        "expected": results,
    }


def main() -> None:
    tree = ast.parse(SOURCE.read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "TestConsistency")
    cases = {f.name: _extract(f) for f in cls.body if isinstance(f, ast.FunctionDef) and f.name in TESTS}
    payload = {
        "source": f"posthog-python {posthog.VERSION} posthog/test/test_feature_flags.py::TestConsistency",
        "cases": cases,
    }
    TARGET.write_text(json.dumps(payload, indent=1) + "\n")
    counts = ", ".join(f"{name}: {len(case['expected'])}" for name, case in cases.items())
    print(f"wrote {TARGET} ({counts})")


if __name__ == "__main__":
    main()
