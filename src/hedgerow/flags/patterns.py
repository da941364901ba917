"""Regular expressions for the ``regex`` / ``not_regex`` operators, in bounded time.

The server uses Rust's fancy-regex (``find`` anywhere in the text): a pattern without
look-around or back-references is handed to the ``regex`` crate, which matches in linear
time; only the others run on a backtracking engine, stopped after 10 000 steps (an error,
which is "no match" for both operators). This module does the same with two engines:

* RE2 (``google-re2``), linear time like the ``regex`` crate, for every pattern it accepts
  whose meaning is the same there. Its syntax is Rust's (``$`` is the very end of the text
  outside multi-line mode, ``\\z``, ``\\p{L}``, ``(?P<name>…)``), but its Perl classes
  ``\\d \\w \\s \\b`` are ASCII-only where Rust's are Unicode; patterns using them go to
* the third-party ``regex`` module (Unicode classes, look-around, back-references, atomic
  groups, possessive quantifiers), stopped by time instead of steps: each search gets at
  most :data:`SEARCH_TIMEOUT_SECONDS`, and all searches of one request share
  :data:`REQUEST_BUDGET_SECONDS` (see :func:`search_budget`); past either, the search is
  an error. It runs with the GIL released, so other threads go on meanwhile.

Searches that may take a while refuse to run inside :func:`without_blocking` (an event
loop), so that the caller can run them on a worker thread.

For the ``regex`` module two differences of meaning are translated: outside multi-line
mode Rust's ``$`` only matches at the very end of the text (Python's also matches before a
final newline), and Rust spells "end of text" ``\\z``.
"""

from __future__ import annotations

import contextvars
import time
from functools import lru_cache

import re2
import regex

SEARCH_TIMEOUT_SECONDS = 0.02
REQUEST_BUDGET_SECONDS = 0.1
LINEAR_MAX_MEMORY = 8 << 20  # bytes of compiled program, near the regex crate's size limit
_INLINE_FLAGS = regex.compile(r"\(\?[a-zA-Z-]*m[a-zA-Z-]*[:)]")
_UNICODE_CLASSES = frozenset("dDwWsSbB")  # ASCII-only in RE2, Unicode in Rust

LOOP_TEXT_LIMIT = 4096  # characters a linear search may read where nothing may block

_budget: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar("regex_budget", default=None)
_on_loop: contextvars.ContextVar[bool] = contextvars.ContextVar("regex_on_loop", default=False)


class WouldBlock(Exception):
    """A search that may take a while was asked for inside :func:`without_blocking`."""


class search_budget:  # noqa: N801 - used as a function: ``with search_budget():``
    """Share ``seconds`` of backtracking search time among the searches run inside.

    A class rather than a generator: it wraps every evaluation, where microseconds count."""

    __slots__ = ("_seconds", "_token")

    def __init__(self, seconds: float = REQUEST_BUDGET_SECONDS) -> None:
        self._seconds = seconds

    def __enter__(self) -> None:
        self._token = _budget.set([self._seconds])

    def __exit__(self, *exc: object) -> None:
        _budget.reset(self._token)


class without_blocking:  # noqa: N801 - used as a function: ``with without_blocking():``
    """Searches inside that could take a while (a backtracking pattern, or a linear one over
    more than :data:`LOOP_TEXT_LIMIT` characters) raise :class:`WouldBlock` instead of
    running: an event loop evaluates cheap requests itself and hands the others to a thread."""

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        self._token = _on_loop.set(True)

    def __exit__(self, *exc: object) -> None:
        _on_loop.reset(self._token)


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


def _uses_unicode_classes(pattern: str) -> bool:
    """Whether the pattern has a ``\\d``-style class, whose meaning RE2 narrows to ASCII."""
    i, n = 0, len(pattern)
    while i < n - 1:
        if pattern[i] == "\\":
            if pattern[i + 1] in _UNICODE_CLASSES:
                return True
            i += 2
        else:
            i += 1
    return False


class Pattern:
    """A compiled filter pattern: :meth:`search` is True, False, or None for an error."""

    __slots__ = ()

    def search(self, text: str) -> bool | None:
        raise NotImplementedError


class LinearPattern(Pattern):
    """A pattern on RE2: linear in the text, no limit needed."""

    __slots__ = ("_compiled",)

    def __init__(self, compiled: "re2._Regexp") -> None:
        self._compiled = compiled

    def search(self, text: str) -> bool | None:
        if len(text) > LOOP_TEXT_LIMIT and _on_loop.get():
            raise WouldBlock()
        try:
            return self._compiled.search(text) is not None
        except UnicodeEncodeError:  # a lone surrogate cannot be UTF-8
            return None


class BacktrackingPattern(Pattern):
    """A pattern on the ``regex`` module: each search is stopped by time."""

    __slots__ = ("_compiled",)

    def __init__(self, compiled: "regex.Pattern[str]") -> None:
        self._compiled = compiled

    def search(self, text: str) -> bool | None:
        if _on_loop.get():
            raise WouldBlock()
        budget = _budget.get()
        limit = SEARCH_TIMEOUT_SECONDS
        if budget is not None:
            if budget[0] <= 0:
                return None
            limit = min(limit, budget[0])
        started = time.perf_counter()
        try:
            return self._compiled.search(text, timeout=limit, concurrent=True) is not None
        except TimeoutError:
            return None
        finally:
            if budget is not None:
                budget[0] -= time.perf_counter() - started


def _linear_options() -> "re2.Options":
    options = re2.Options()
    options.log_errors = False
    options.max_mem = LINEAR_MAX_MEMORY
    return options


_LINEAR_OPTIONS = _linear_options()


def compile_linear(pattern: str) -> LinearPattern | None:
    """The pattern on RE2, or None when RE2 refuses it or would read it differently."""
    if _uses_unicode_classes(pattern):
        return None
    try:
        return LinearPattern(re2.compile(pattern, options=_LINEAR_OPTIONS))
    except (re2.error, ValueError, TypeError, OverflowError):
        return None


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> Pattern | None:
    """Compile a filter pattern; None when it is not a valid expression."""
    linear = compile_linear(pattern)
    if linear is not None:
        return linear
    try:
        return BacktrackingPattern(regex.compile(_translate(pattern)))
    except (regex.error, ValueError, TypeError, OverflowError, RecursionError):
        return None
