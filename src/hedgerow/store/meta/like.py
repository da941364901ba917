"""Substring search with ``LIKE``: the searched text's wildcards escaped (escape character ``\\``)."""

from __future__ import annotations

ESCAPE = "\\"


def contains(text: str) -> str:
    """A ``LIKE`` pattern matching ``text`` anywhere, ``%`` and ``_`` in it taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
