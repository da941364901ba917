"""Property operators against the table in tests/data/flags/operators.json."""

from __future__ import annotations

from datetime import datetime

import pytest

from hedgerow.flags.dates import Clock, zone
from hedgerow.flags.operators import OPERATORS, compile_filter

from .datafiles import load

ROWS = load("operators.json")["rows"]


@pytest.mark.parametrize("row", ROWS, ids=[row["note"] for row in ROWS])
def test_operator_row(row: dict) -> None:
    now = datetime.fromisoformat(row["now"].replace("Z", "+00:00")) if "now" in row else None
    clock = Clock(now, zone(row.get("tz", "UTC")))
    assert compile_filter(row["filter"])(row["props"], clock) is row["expected"]


def test_every_operator_has_rows() -> None:
    covered = {row["filter"].get("operator") or "exact" for row in ROWS}
    assert set(OPERATORS) | {"is_set", "is_not_set"} <= covered


def test_dispatch_is_a_table() -> None:
    assert all(callable(op.prepare) for op in OPERATORS.values())
    assert {name for name, op in OPERATORS.items() if op.when_missing} == {
        "is_not",
        "not_icontains",
        "not_starts_with",
        "not_ends_with",
        "not_icontains_multi",
        "not_regex",
        "not_between",
    }
