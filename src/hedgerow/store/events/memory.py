"""Sizes of memory as operators write them (``384MB``, ``2GB``), for the events engine's budget."""

from __future__ import annotations

import re

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(MB|GB|MiB|GiB)\s*$", re.IGNORECASE)
_UNIT = {"mb": 1000**2, "gb": 1000**3, "mib": 1024**2, "gib": 1024**3}
SMALLEST = 64 * 1024**2
LARGEST = 1024**4


def memory_bytes(text: str) -> int:
    """The bytes ``text`` names: a number with MB, GB, MiB or GiB, from 64 MiB to 1 TiB.

    Raises ``ValueError`` otherwise.
    """
    match = _SIZE.match(str(text))
    if not match:
        raise ValueError(f"give a size such as 384MB or 2GB, not {text!r}")
    size = int(float(match.group(1)) * _UNIT[match.group(2).lower()])
    if not SMALLEST <= size <= LARGEST:
        raise ValueError(f"{text!r} is outside 64MiB..1TiB")
    return size
