"""Odd but well-formed requests never make the query endpoint answer 500."""

from __future__ import annotations

import pytest

from tests.api.test_query import _path, data  # noqa: F401 - the fixture

BODIES = []
props = [None, [], {}, [{}], [None], ["x"], [{"key": None}], [{"key": "a", "value": None}], [{"key": "a", "value": [None]}],
         [{"key": "a", "value": 1, "operator": "gt"}], [{"key": "a", "value": "x", "operator": "between"}],
         [{"key": "a", "type": "group", "group_type_index": "x", "value": "1"}], [{"type": "OR"}], {"type": "OR", "values": "x"},
         [{"key": "a", "value": "2024-01-01", "operator": "is_date_before"}], [{"key": "a", "value": "-3x", "operator": "is_date_after"}],
         [{"key": "a", "value": True, "type": "session"}], [{"key": 5, "value": "x"}],
         [{"key": "id", "value": 99999, "type": "cohort"}], [{"key": "1 +", "type": "hogql"}], [{"key": "", "value": "x"}]]
for p in props:
    BODIES.append({"query": {"kind": "EventsQuery", "select": ["event"], "properties": p, "after": "all"}})
    BODIES.append({"query": {"kind": "HogQLQuery", "query": "select count() from events where {filters}", "filters": {"properties": p}}})
for sel in [["*", "*"], ["person", "person"], [""], [" "], ["-- x"], ["count(*)"], ["1 as x", "x"], ["event", "count() as c"], ["properties"], ["person.properties"], ["toInt(1e30)"], ["now()"], ["{x}"]]:
    BODIES.append({"query": {"kind": "EventsQuery", "select": sel, "after": "all"}})
for extra in [{"orderBy": [""]}, {"orderBy": ["person_display_name -- Person DESC"]}, {"where": [""]}, {"after": "2024-13-45"}, {"before": "x"}, {"limit": -5}, {"offset": -1}, {"limit": "x"}, {"events": [None]}, {"event": ""}]:
    BODIES.append({"query": {"kind": "EventsQuery", "select": ["event"], **extra}})
for q in ["select 1e400", "select -9223372036854775809", "select 99999999999999999999999999", "select [1, 'a']", "select toDate('x')", "select arrayJoin([])", "select 1 limit 1 by 1", "select number from numbers(-1)", "select * from numbers(1, 2, 3)", "select 1 settings max_threads = 1", "select x from (select 1 as x) array join x", "select '\\u0000'", "select {filters.dateRange.from}", "select count() from events where timestamp > {filters.dateRange.from}"]:
    BODIES.append({"query": {"kind": "HogQLQuery", "query": q}})
BODIES.append({"query": {"kind": "HogQLQuery", "query": "select {v}", "values": {"v": {"a": 1}}}})
BODIES.append({"query": {"kind": "HogQLQuery", "query": "select {v}", "values": {"v": [[1], [2]]}}})
BODIES.append({"query": {"kind": "HogQLQuery", "query": "select 1", "modifiers": {"personsOnEventsMode": 5}}})
BODIES.append({"query": {"kind": "HogQLQuery", "query": "select person.properties.x from events", "modifiers": {"personsOnEventsMode": "disabled"}}})

@pytest.mark.parametrize("body", BODIES)
def test_never_500(data, body):
    response = data.post(_path(data), body)
    assert response.status_code < 500, (body, response.text)
    if response.status_code >= 400:
        assert set(response.json()) == {"type", "code", "detail", "attr"}
