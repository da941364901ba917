"""Regex engines for the regex operators: linear RE2 where its meaning is Rust's, the
backtracking engine (Unicode classes, look-around) under a per-request budget elsewhere."""

from __future__ import annotations

import pytest

from hedgerow.flags.patterns import (
    BacktrackingPattern,
    LinearPattern,
    WouldBlock,
    compile_pattern,
    search_budget,
    without_blocking,
)


@pytest.mark.parametrize("pattern", [r"^(a|aa)+$", r"^[a-z.]+@corp\.example$", r"(?m)^b$", r"\p{Greek}", r"(?U)a+"])
def test_patterns_rust_reads_alike_run_in_linear_time(pattern) -> None:
    assert isinstance(compile_pattern(pattern), LinearPattern)


@pytest.mark.parametrize("pattern", [r"^\d+$", r"\bword\b", r"(?<=a)b", r"(a)\1", r"\p{Letter}"])
def test_unicode_classes_and_backtracking_features_use_the_bounded_engine(pattern) -> None:
    assert isinstance(compile_pattern(pattern), BacktrackingPattern)


@pytest.mark.parametrize("pattern, text, found", [
    (r"^(a|aa)+$", "a" * 5000 + "!", False),  # catastrophic for a backtracker, nothing for RE2
    (r"^ab$", "ab\n", False),  # Rust's $ is the very end of the text
    (r"^[[:alpha:]]+$", "école", False),  # POSIX classes are ASCII, as in Rust
    (r"^\d+$", "١٢٣", True),  # \d is Unicode, as in Rust
    (r"(?<=a)b", "ab", True),
])
def test_meaning_follows_the_server(pattern, text, found) -> None:
    assert compile_pattern(pattern).search(text) is found


def test_an_exhausted_budget_makes_backtracking_searches_errors() -> None:
    pattern = compile_pattern(r"^(\w|\w\w)+$")
    with search_budget(0.0):
        assert pattern.search("aaa") is None  # an error: no match for regex and not_regex alike
    assert pattern.search("aaa") is True
    with search_budget(0.05):
        assert pattern.search("a" * 60 + "!") is None  # stopped, not left to run for minutes


def test_invalid_patterns_compile_to_none() -> None:
    assert compile_pattern("(unclosed") is None


def test_slow_searches_refuse_to_run_where_nothing_may_block() -> None:
    linear, backtracking = compile_pattern(r"^a+$"), compile_pattern(r"^\w+$")
    with without_blocking():
        assert linear.search("a" * 100) is True  # short texts are cheap anywhere
        with pytest.raises(WouldBlock):
            linear.search("a" * 5000)
        with pytest.raises(WouldBlock):
            backtracking.search("abc")
    assert linear.search("a" * 5000) is True and backtracking.search("abc") is True
