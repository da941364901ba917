"""EventsQuery planning (pure): PostHog's defaults for ordering, grouping, time range, limits."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from hedgerow.hogql.dialect import HogQL
from hedgerow.hogql.errors import HogQLError
from hedgerow.hogql.parse import parse_expr
from hedgerow.insights.events_query import is_aggregation, plan
from hedgerow.services.query_schema import EventsQuery

NOW = dt.datetime(2024, 6, 10, 12, 0, tzinfo=dt.timezone.utc)


def hogql(**fields) -> str:
    query = EventsQuery(kind="EventsQuery", **fields)
    return plan(query, timezone="UTC", now=NOW).tree.sql(HogQL)


def order_of(text: str) -> str:
    return re.search(r"ORDER BY (.*)$", text).group(1)


@pytest.mark.parametrize(
    "select, order",
    [
        (["event", "count()"], "count() DESC"),
        (["event", "sum(toFloat(properties.price)) as s"], "sum(toFloat(properties.price)) DESC"),
        (["event", "timestamp"], "timestamp DESC"),
        (["event", "distinct_id"], "event ASC"),
        (["*"], "uuid ASC"),
        ([], "uuid ASC"),
    ],
)
def test_default_order(select, order):
    assert order_of(hogql(select=select)) == order


def test_time_window_defaults_and_explicit():
    text = hogql(select=["event"])
    assert "timestamp < toDateTime('2024-06-10 12:00:05', 'UTC')" in text
    assert "timestamp > toDateTime('2024-06-09 12:00:00', 'UTC')" in text
    assert "timestamp >" not in hogql(select=["event"], after="all")
    explicit = hogql(select=["event"], after="2024-06-01", before="-1d")
    assert "timestamp > toDateTime('2024-06-01 00:00:00', 'UTC')" in explicit
    assert "timestamp < toDateTime('2024-06-09 12:00:00', 'UTC')" in explicit


def test_grouping_and_having():
    text = hogql(select=["event", "properties.$browser", "count()"], where=["count() > 5", "event != 'x'"])
    assert "GROUP BY event, properties.$browser HAVING count() > 5" in text
    assert "WHERE event <> 'x'" in text
    assert "GROUP BY" not in hogql(select=["event", "timestamp"])


def test_limits():
    assert plan(EventsQuery(kind="EventsQuery", select=["event"], limit=0)).limit == 100
    assert plan(EventsQuery(kind="EventsQuery", select=["event"], limit=10**9)).limit == 50_000
    offset = plan(EventsQuery(kind="EventsQuery", select=["event"], offset=20))
    assert offset.offset == 20 and "OFFSET 20" in offset.tree.sql(HogQL)


def test_events_and_person_filters():
    assert "event IN ('a', 'b')" in hogql(select=["event"], event="a", events=["b"])
    assert "event = 'a'" in hogql(select=["event"], event="a")
    text = hogql(select=["event"], personId="11111111-1111-1111-1111-111111111111")
    assert "distinct_id IN (SELECT distinct_id FROM person_distinct_ids WHERE person_id = toUUID(" in text
    with pytest.raises(HogQLError):
        hogql(select=["event"], personId="42")


def test_aggregation_detection():
    assert is_aggregation(parse_expr("count()"))
    assert is_aggregation(parse_expr("toFloat(sum(1)) + 1"))
    assert not is_aggregation(parse_expr("row_number() over (order by event)"))
    assert not is_aggregation(parse_expr("(select count() from events)"))
    assert not is_aggregation(parse_expr("toStartOfDay(timestamp)"))
