"""PostHog property filters -> HogQL, run on the fixed dataset (team 1 has 7 events)."""

from __future__ import annotations

import pytest

from hedgerow.hogql import HogQLError
from hedgerow.hogql.property_filters import FilterEnv, property_filter, to_hogql

CASES = [
    ([{"key": "$browser", "value": "Chrome"}], 2),
    ([{"key": "$browser", "value": ["Chrome", "Safari"], "operator": "exact"}], 3),
    ([{"key": "$browser", "value": "Chrome", "operator": "is_not"}], 5),  # missing counts as "not"
    ([{"key": "$browser", "value": ["Chrome", "Safari"], "operator": "is_not"}], 4),
    ([{"key": "$browser", "value": "chr", "operator": "icontains"}], 2),
    ([{"key": "$browser", "value": ["chr", "fire"], "operator": "icontains"}], 3),
    ([{"key": "$browser", "value": "chr", "operator": "not_icontains"}], 5),
    ([{"key": "$browser", "value": "^(Chrome|Safari)$", "operator": "regex"}], 3),
    ([{"key": "$browser", "value": "^Chrome$", "operator": "not_regex"}], 5),
    ([{"key": "amount", "value": 6, "operator": "gt"}], 2),
    ([{"key": "amount", "value": "10", "operator": "gte"}], 2),
    ([{"key": "amount", "value": 10, "operator": "lt"}], 1),
    ([{"key": "amount", "value": [5, 11], "operator": "between"}], 2),
    ([{"key": "amount", "value": [5, 11], "operator": "not_between"}], 1),
    ([{"key": "amount", "operator": "is_set"}], 3),
    ([{"key": "amount", "operator": "is_not_set"}], 4),
    ([{"key": "flag", "value": True}], 1),
    ([{"key": "int", "value": 7}], 1),
    ([{"key": "$browser", "value": ["Chrome", "Firefox"], "operator": "in"}], 3),
    ([{"key": "email", "value": "bob@x.com", "type": "person"}], 2),
    ([{"key": "plan", "value": "pro", "type": "person"}, {"key": "$browser", "value": "Chrome"}], 1),
    ({"type": "OR", "values": [{"key": "$browser", "value": "Safari"}, {"key": "email", "value": "bob@x.com", "type": "person"}]}, 3),
    ({"type": "AND", "values": [{"type": "OR", "values": [{"key": "$browser", "value": "Chrome"}, {"key": "$browser", "value": "Firefox"}]},
                                {"key": "amount", "operator": "is_set"}]}, 2),
    ([{"key": "name", "value": "Acme", "type": "group", "group_type_index": 0}], 3),
    ([{"key": "$session_duration", "value": 100, "operator": "gt", "type": "session"}], 4),
    ([{"key": "event = 'purchase'", "type": "hogql"}], 1),
    ([{"key": "id", "value": 1, "type": "cohort"}], 3),
    ([{"key": "id", "value": 1, "type": "cohort", "negation": True}], 4),
    ([{"key": "$browser", "value": []}], 7),
    ([], 7),
    ([{"key": "$elements_chain", "value": "", "operator": "exact"}], 7),
]


@pytest.mark.parametrize("filters, count", CASES, ids=[str(i) for i in range(len(CASES))])
def test_filter_counts(filters, count, run):
    compiled, result = run("select count() from events where {filters}", filters={"properties": filters})
    assert result.results == [[count]], compiled.hogql


def test_date_operators(run):
    filters = [{"key": "$browser", "operator": "is_set"}, {"key": "created", "value": "2024-01-01", "operator": "is_date_before"}]
    compiled, result = run("select count() from events where {filters}", filters={"properties": filters})
    assert result.results == [[0]]


def test_hostile_values_are_literals(run):
    filters = [{"key": "$browser' or 1=1 --", "value": "x' or '1'='1"}]
    compiled, result = run("select count() from events where {filters}", filters={"properties": filters})
    assert result.results == [[0]]


@pytest.mark.parametrize(
    "bad",
    [
        {"key": "x", "value": "1", "operator": "nope"},
        {"key": "x", "value": "1", "type": "element"},
        {"value": "1"},
        {"key": "x", "value": {"a": 1}},
        {"key": "x", "value": "a", "operator": "gt"},
        {"key": "x", "value": [1], "operator": "between"},
        {"key": "1; drop table events", "type": "hogql"},
        {"key": "1 from persons", "type": "hogql"},
        {"key": "name", "value": "x", "type": "group"},
        {"key": "id", "value": "abc", "type": "cohort"},
    ],
)
def test_bad_filters_are_hogql_errors(bad, run):
    with pytest.raises(HogQLError):
        run("select count() from events where {filters}", filters={"properties": [bad]})


def test_person_scope_and_printing():
    condition = property_filter([{"key": "email", "value": "a@b.c", "type": "person"}], FilterEnv(scope="person"))
    assert to_hogql(condition) == "properties.email = 'a@b.c'"
    condition = property_filter({"type": "OR", "values": [{"key": "$browser", "value": "Chrome"}, {"key": "plan", "value": "pro", "type": "person"}]})
    assert to_hogql(condition) == "(properties.$browser = 'Chrome' OR person.properties.plan = 'pro')"
    with pytest.raises(HogQLError):
        property_filter([{"key": "x", "value": "1", "type": "event"}], FilterEnv(scope="person"))
