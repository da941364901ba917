"""What every store's Persons API filters share: the refusal of an unknown operator, and how a
filter value is compared (as the text JSON extraction gives)."""

from __future__ import annotations

from typing import Any

import orjson


class UnsupportedFilter(ValueError):
    """A person property filter whose operator the store does not know (or cannot apply)."""


def number_bound(operator: str, value: Any) -> float:
    """The bound of a numeric comparison: a number, or text that reads as a finite one."""
    try:
        number = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or number != number or number in (float("inf"), float("-inf")):
        raise UnsupportedFilter(f"{operator} needs a number")
    return number


def as_text(value: Any) -> str:
    """A filter value as the text a property's JSON extraction yields."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return orjson.dumps(value).decode()
