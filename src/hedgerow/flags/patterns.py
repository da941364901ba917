"""Regular expressions for the ``regex`` / ``not_regex`` operators.

The server uses Rust's fancy-regex (``find`` anywhere in the text, backtrack limit of
10 000 steps). This module compiles the pattern with the third-party ``regex`` module,
whose syntax is closer to Rust's than ``re`` (``\\p{L}``, ``(?<name>...)``, atomic
groups, possessive quantifiers) and which can stop a search after a time limit, the
stand-in here for the server's backtrack limit: a search that runs too long counts as
an error, which is "no match" for both operators, as on the server.

Two differences of meaning are translated: outside multi-line mode Rust's ``$`` only
matches at the very end of the text (Python's also matches before a final newline), and
Rust spells "end of text" ``\\z``.
"""

from __future__ import annotations

from functools import lru_cache

import regex

SEARCH_TIMEOUT_SECONDS = 0.05
_INLINE_FLAGS = regex.compile(r"\(\?[a-zA-Z-]*m[a-zA-Z-]*[:)]")


def _translate(pattern: str) -> str:
    multi_line = _INLINE_FLAGS.search(pattern) is not None
    out: list[str] = []
    i, n, in_class = 0, len(pattern), False
    while i < n:
        char = pattern[i]
        if char == "\\" and i + 1 < n:
            escaped = pattern[i + 1]
            out.append("\\Z" if escaped == "z" and not in_class else "\\" + escaped)
            i += 2
            continue
        if in_class:
            if char == "[" and pattern.startswith("[:", i):
                end = pattern.find(":]", i + 2)
                if end != -1:
                    out.append(pattern[i : end + 2])
                    i = end + 2
                    continue
            if char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            out.append(char)
            i += 1
            # a leading "]" (after an optional "^") is a literal, not the end of the class
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < n and pattern[i] == "]":
                out.append("]")
                i += 1
            continue
        elif char == "$" and not multi_line:
            out.append("\\Z")
            i += 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


class Pattern:
    """A compiled ``regex`` filter: :meth:`search` is True, False, or None for an error."""

    __slots__ = ("_compiled",)

    def __init__(self, compiled: "regex.Pattern[str]") -> None:
        self._compiled = compiled

    def search(self, text: str) -> bool | None:
        try:
            return self._compiled.search(text, timeout=SEARCH_TIMEOUT_SECONDS) is not None
        except TimeoutError:
            return None


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> Pattern | None:
    """Compile a filter pattern; None when it is not a valid expression."""
    try:
        return Pattern(regex.compile(_translate(pattern)))
    except (regex.error, ValueError, TypeError, OverflowError, RecursionError):
        return None
