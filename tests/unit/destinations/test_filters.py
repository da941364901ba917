"""Trigger filters as one HogQL condition, in PostHog's structure (test accounts AND global
properties AND any of the event/action entries); actions are ``matchesAction(id)``."""

from __future__ import annotations

import pytest

from hedgerow.destinations.filters import trigger_hogql
from hedgerow.hogql.property_filters import PropertyFilterError

CHROME = {"key": "$browser", "value": "Chrome", "operator": "exact", "type": "event"}

CASES = [
    ({}, "TRUE"),
    (None, "TRUE"),
    ({"events": [{"id": "order", "type": "events"}]}, "event = 'order'"),
    ({"events": [{"id": None, "type": "events", "properties": [CHROME]}]}, "properties.$browser = 'Chrome'"),
    ({"events": [{"id": "a", "type": "events"}, {"id": "b", "type": "events"}]}, "(event = 'a' OR event = 'b')"),
    ({"actions": [{"id": 12, "type": "actions"}]}, "matchesAction(12)"),
    ({"actions": [{"id": "12", "type": "actions", "properties": [CHROME]}]},
     "(matchesAction(12) AND properties.$browser = 'Chrome')"),
    ({"events": [{"id": "order", "type": "events"}], "actions": [{"id": 3, "type": "actions"}], "properties": [CHROME]},
     "(properties.$browser = 'Chrome' AND (event = 'order' OR matchesAction(3)))"),
    ({"filter_test_accounts": True}, "NOT toString(person.properties.email) ILIKE '%@test.io%'"),
    ({"filter_test_accounts": False}, "TRUE"),
]  # fmt: skip
TEST_ACCOUNTS = [{"key": "email", "value": "@test.io", "operator": "not_icontains", "type": "person"}]


@pytest.mark.parametrize(("filters", "hogql"), CASES)
def test_trigger_condition(filters, hogql) -> None:
    assert trigger_hogql(filters, test_account_filters=TEST_ACCOUNTS) == hogql


@pytest.mark.parametrize("bad", [
    {"events": "order"}, {"events": [5]}, {"events": [{"id": 5}]}, {"actions": [{"id": None}]},
    {"actions": [{"id": True}]}, {"actions": [{"id": -1}]}, {"events": [{"id": "x"}] * 201},
    {"properties": [{"key": "a", "value": 1, "operator": "bogus", "type": "event"}]}, [],
])  # fmt: skip
def test_malformed_filters_are_refused(bad) -> None:
    with pytest.raises(PropertyFilterError):
        trigger_hogql(bad)
