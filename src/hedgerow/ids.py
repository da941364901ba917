"""Ids that arrive as text (paths, query strings, filter values): ASCII digits only.

``str.isdigit`` accepts characters such as ``'²'`` that ``int()`` then refuses, and ``int()``
accepts digits of other scripts; an id is neither. An id that does not parse, or that no
64-bit column could hold, names nothing: callers answer 404 (or their own 400), never 500.
"""

from __future__ import annotations

from typing import Any

MAX_ID = 2**63 - 1


def is_digits(text: str) -> bool:
    """Whether ``text`` is one or more ASCII digits and nothing else."""
    return text.isascii() and text.isdigit()


def parse_id(value: Any) -> int | None:
    """``value`` as a database id (an int, or ASCII digits), or None when it cannot be one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_ID else None
    if not isinstance(value, str) or not is_digits(value) or len(value) > 19:
        return None
    number = int(value)
    return number if number <= MAX_ID else None
