"""How values become text and numbers, as serde_json and Rust's f64 parser do it."""

from __future__ import annotations

import pytest

from hedgerow.flags.values import parse_rust_float, rust_float_text, to_text

FLOAT_TEXT = [
    (1.0, "1.0"), (-2.5, "-2.5"), (0.0, "0.0"), (-0.0, "-0.0"), (100.0, "100.0"),
    (1e15, "1000000000000000.0"), (1e16, "1e16"), (1.5e16, "1.5e16"), (1e21, "1e21"),
    (0.0001, "0.0001"), (1e-5, "0.00001"), (1e-6, "1e-6"), (1.5e-7, "1.5e-7"),
    (123.456, "123.456"), (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e308"),
    (float("nan"), "null"), (float("inf"), "null"),
]  # fmt: skip

TEXT = [
    ("plain", "plain"), (None, "null"), (True, "true"), (False, "false"), (5, "5"), (5.0, "5.0"),
    (2**70, "1.1805916207174113e21"), ([1, "a", None], '[1,"a",null]'),
    ({"b": 1, "a": [True]}, '{"a":[true],"b":1}'), (["q\"\\\n\x01é"], '["q\\"\\\\\\n\\u0001é"]'),
]  # fmt: skip

RUST_FLOATS = [
    ("1", 1.0), ("-1.5", -1.5), ("+3", 3.0), ("1.", 1.0), (".5", 0.5), ("1e5", 1e5), ("1E-2", 0.01),
    ("inf", float("inf")), ("-Infinity", float("-inf")), ("NaN", "nan"),
    (" 1", None), ("1 ", None), ("1_000", None), ("", None), (".", None), ("e5", None), ("0x10", None),
    ("1e", None), ("١", None),
]  # fmt: skip


@pytest.mark.parametrize(("value", "expected"), FLOAT_TEXT)
def test_float_text(value: float, expected: str) -> None:
    assert rust_float_text(value) == expected


@pytest.mark.parametrize(("value", "expected"), TEXT)
def test_to_text(value: object, expected: str) -> None:
    assert to_text(value) == expected


@pytest.mark.parametrize(("text", "expected"), RUST_FLOATS)
def test_parse_rust_float(text: str, expected: object) -> None:
    got = parse_rust_float(text)
    if expected == "nan":
        assert got != got
    else:
        assert got == expected
