"""Insight templates are parsed once: each use fills its own copy."""

from __future__ import annotations

from hedgerow.insights.templates import expr, select


def test_each_use_of_a_template_fills_a_fresh_tree():
    text = "SELECT {value} AS value FROM events WHERE {condition}"
    first = select(text, value=1, condition=expr("event = {name}", name="a"))
    second = select(text, value=2, condition=expr("event = {name}", name="b"))
    assert first.sql() != second.sql()
    assert "1" in first.sql() and "'a'" in first.sql() and "'b'" in second.sql()
    assert select(text, value=1, condition=expr("event = {name}", name="a")).sql() == first.sql()
