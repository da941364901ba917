"""Characters that must never reach an operator's terminal or a log line raw.

C0 and C1 controls (newline, carriage return, ESC...), DEL, the Unicode line and paragraph
separators, and the bidirectional overrides and isolates, which reorder what a terminal
shows. Names and labels refuse them; whatever is printed shows them escaped.
"""

from __future__ import annotations

import re

_SET = "\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[{_SET}]")
NAME_PATTERN = f"^[^{_SET}]*\\S[^{_SET}]*$"
"""What a name may be, as a JSON-schema pattern: not blank, none of these characters."""


def has_control(text: str) -> bool:
    """Whether ``text`` holds any character of this module's set."""
    return _CONTROL.search(text) is not None


def escape_controls(text: str) -> str:
    """``text`` with each such character written as its Python escape (``\\n``, ``\\x1b``...)."""
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], text)
