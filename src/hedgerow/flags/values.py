"""How the server sees a JSON value: as text, as a number, as a truth value.

The server keeps property values as ``serde_json::Value`` and converts them on demand.
These helpers reproduce those conversions for the Python values ``json.loads`` makes
(``None``, ``bool``, ``int``, ``float``, ``str``, ``list``, ``dict``):

* :func:`to_text` is ``to_string_representation``: a string as-is, anything else as
  compact JSON the way serde_json writes it (object keys sorted, floats in Rust's
  shortest form such as ``1e16`` or ``0.00001``).
* :func:`to_number` is ``to_f64_representation``: numbers directly, everything else by
  parsing its text with Rust's ``f64::from_str`` grammar (which accepts ``inf`` and
  ``NaN`` but no whitespace or underscores).
"""

from __future__ import annotations

import math
import re
from typing import Any

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_RUST_FLOAT = re.compile(r"[+-]?(?:(?i:inf|infinity|nan)|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_I64_MIN = -(2**63)
_U64_MAX = 2**64 - 1
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\]')


def ascii_lower(text: str) -> str:
    """Lowercase A-Z only, as Rust's ``to_ascii_lowercase``."""
    return text.translate(_ASCII_LOWER)


def to_text(value: Any) -> str:
    """The server's string form of a property or filter value."""
    if type(value) is str:
        return value
    return to_json(value)


def to_json(value: Any) -> str:
    """Compact JSON as serde_json writes it."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, int):
        if _I64_MIN <= value <= _U64_MAX:
            return str(value)
        return rust_float_text(float(value))  # serde_json reads such integers as f64
    if isinstance(value, float):
        return rust_float_text(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(to_json(item) for item in value) + "]"
    if isinstance(value, dict):
        items = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(f"{_json_string(k)}:{to_json(v)}" for k, v in items) + "}"
    return _json_string(str(value))


def _json_string(text: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04x}"


def rust_float_text(value: float) -> str:
    """Format a float like Rust's ``ryu`` (serde_json): ``1.0``, ``1e16``, ``1e-7``.

    Non-finite floats cannot exist in a serde_json value; the server's JSON reader turns
    them into null, so they print as ``null`` here.
    """
    if not math.isfinite(value):
        return "null"
    if value == 0.0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    digits, exponent = _shortest_digits(abs(value))
    length = len(digits)
    point = length + exponent  # the value is 0.<digits> * 10**point
    if 0 <= exponent and point <= 16:
        body = digits + "0" * exponent + ".0"
    elif 0 < point <= 16:
        body = digits[:point] + "." + digits[point:]
    elif -5 < point <= 0:
        body = "0." + "0" * -point + digits
    elif length == 1:
        body = f"{digits}e{point - 1}"
    else:
        body = f"{digits[0]}.{digits[1:]}e{point - 1}"
    return sign + body


def _shortest_digits(value: float) -> tuple[str, int]:
    """Shortest round-trip digits and exponent: value == int(digits) * 10**exponent."""
    text = repr(value)
    mantissa, _, exp_text = text.partition("e")
    exponent = int(exp_text) if exp_text else 0
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    exponent -= len(fraction)
    stripped = digits.lstrip("0")
    trailing = len(stripped) - len(stripped.rstrip("0"))
    return stripped.rstrip("0"), exponent + trailing


def parse_rust_float(text: str) -> float | None:
    """Rust's ``str::parse::<f64>``: None where Rust fails."""
    if _RUST_FLOAT.fullmatch(text) is None:
        return None
    return float(text)


def to_number(value: Any) -> float | None:
    """The server's ``to_f64_representation``: None when the value is not a number."""
    if type(value) is float:
        return value
    if type(value) is int:
        try:
            return float(value)
        except OverflowError:
            return math.copysign(math.inf, value)
    if type(value) is str:
        return parse_rust_float(value)
    if value is None or isinstance(value, (bool, list, tuple, dict)):
        return None  # their text ("null", "true", "[...]") is never a float
    return parse_rust_float(to_text(value))


def is_truthy_or_falsy(value: Any) -> bool:
    """Whether a filter value asks for boolean matching: a bool, "true"/"false", or a list of those."""
    if isinstance(value, bool):
        return True
    if isinstance(value, str):
        return value.lower() in ("true", "false")
    if isinstance(value, (list, tuple)):
        return all(is_truthy_or_falsy(item) for item in value)
    return False


def is_truthy(value: Any) -> bool:
    """The truth value the server gives a property in boolean matching."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.lower() == "true"
    if isinstance(value, (list, tuple)):
        return all(is_truthy(item) for item in value)
    return False
