"""Relative and absolute insight dates, buckets and labels (pure; the reference's examples)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hedgerow.errors import ValidationError
from hedgerow.insights import date_range
from hedgerow.insights.models import DateRange

UTC = ZoneInfo("UTC")
NOW = dt.datetime(2024, 3, 13, 15, 20, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize("text, expected", [
    ("-7d", dt.datetime(2024, 3, 6)),
    ("-1mStart", dt.datetime(2024, 2, 1)),
    ("-1mEnd", dt.datetime(2024, 2, 29, 23, 59, 59, 999999)),
    ("-24h", dt.datetime(2024, 3, 12, 15, 0)),
    ("dStart", dt.datetime(2024, 3, 13)),
    ("-1y", dt.datetime(2023, 3, 13)),
    ("-1q", dt.datetime(2023, 12, 13)),
    ("-2w", dt.datetime(2024, 2, 28)),
    ("2024-1-5", dt.datetime(2024, 1, 5)),
    ("2024-01-15T10:00", dt.datetime(2024, 1, 15, 10, 0)),
])
def test_parse_date(text, expected):
    assert date_range.parse_date(text, UTC, NOW, field="date_from").value == expected.replace(tzinfo=UTC)


def test_month_shift_clamps_to_the_month_end():
    end_of_march = dt.datetime(2024, 3, 31, tzinfo=UTC)
    assert date_range.parse_date("-1m", UTC, end_of_march, field="date_from").value.date() == dt.date(2024, 2, 29)


def test_invalid_date_is_a_validation_error():
    with pytest.raises(ValidationError):
        date_range.parse_date("yesterday-ish", UTC, NOW, field="date_from")


def resolve(interval="day", week_start_day=0, tz="UTC", **rng):
    return date_range.resolve(DateRange(**rng), interval=interval, timezone=tz, week_start_day=week_start_day, now=NOW)


def test_seven_days_are_eight_buckets_with_the_partial_day():
    rng = resolve(date_from="-7d")
    assert [rng.key(b) for b in rng.buckets][0] == "2024-03-06" and len(rng.buckets) == 8
    assert rng.date_to == dt.datetime(2024, 3, 13, 23, 59, 59, 999999, tzinfo=UTC)


def test_hourly_relative_range_keeps_exact_start_and_ends_with_the_hour():
    rng = resolve("hour", date_from="-24h")
    assert rng.window_from == dt.datetime(2024, 3, 12, 15, tzinfo=UTC)
    assert rng.date_to == dt.datetime(2024, 3, 13, 15, 59, 59, 999999, tzinfo=UTC) and len(rng.buckets) == 25


def test_week_buckets_and_labels():
    sunday = resolve("week", date_from="2024-02-28", date_to="2024-03-13")
    assert [sunday.key(b) for b in sunday.buckets] == ["2024-02-25", "2024-03-03", "2024-03-10"]
    assert [sunday.label(b) for b in sunday.buckets] == ["28-Feb – 2-Mar", "3–9 Mar", "10–13 Mar"]
    assert sunday.window_from == dt.datetime(2024, 2, 28, tzinfo=UTC)  # start of day, not of the week
    monday = resolve("week", 1, date_from="2024-02-28", date_to="2024-03-13")
    assert [monday.key(b) for b in monday.buckets] == ["2024-02-26", "2024-03-04", "2024-03-11"]
    across_years = resolve("week", date_from="2023-12-30", date_to="2024-01-05")
    assert [across_years.label(b) for b in across_years.buckets] == ["30-Dec-2023", "31-Dec-2023 – 5-Jan-2024"]


def test_month_and_hour_labels():
    months = resolve("month", date_from="2024-01-15", date_to="2024-03-01")
    assert [months.label(b) for b in months.buckets] == ["Jan 2024", "Feb 2024", "Mar 2024"]
    assert months.window_from == dt.datetime(2024, 1, 1, tzinfo=UTC)
    hours = resolve("hour", date_from="2024-03-13T09:00", date_to="2024-03-13T10:30", explicitDate=True)
    assert [hours.label(b) for b in hours.buckets] == ["13-Mar 09:00", "13-Mar 10:00"]


def test_local_midnight_in_the_project_timezone():
    rng = resolve(tz="America/New_York", date_from="2024-03-10", date_to="2024-03-10")
    # the DST switch day: local midnight is 05:00 UTC, the next local midnight 04:00 UTC
    assert date_range.to_utc(rng.window_from) == dt.datetime(2024, 3, 10, 5)
    assert date_range.to_utc(rng.date_to) == dt.datetime(2024, 3, 11, 3, 59, 59, 999999)


def test_minute_intervals_keep_the_relative_start_and_end_with_the_minute():
    # now is 15:20:00: "-90M" is 13:50 exactly (days and hours deltas are not truncated either)
    rng = resolve("minute", date_from="-90M")
    assert rng.window_from == dt.datetime(2024, 3, 13, 13, 50, tzinfo=UTC)
    assert rng.date_to == dt.datetime(2024, 3, 13, 15, 20, 59, 999999, tzinfo=UTC) and len(rng.buckets) == 91
    assert rng.key(rng.buckets[0]) == "2024-03-13 13:50:00" and rng.label(rng.buckets[0]) == "13-Mar 13:50"
    assert resolve("minute", date_from="-1d").window_from == dt.datetime(2024, 3, 12, 15, 20, tzinfo=UTC)
    # an absolute end is kept as given; an absolute start is aligned to its minute
    rng = resolve("minute", date_from="2024-03-13T10:00:30", date_to="2024-03-13T10:02:30")
    assert rng.window_from == dt.datetime(2024, 3, 13, 10, 0, tzinfo=UTC)
    assert rng.date_to == dt.datetime(2024, 3, 13, 10, 2, 30, tzinfo=UTC) and len(rng.buckets) == 3


def test_an_explicit_relative_end_keeps_its_time():
    rng = resolve("hour", date_from="-3h", date_to="-1h", explicitDate=True)
    assert (rng.window_from, rng.date_to) == (dt.datetime(2024, 3, 13, 12, 0, tzinfo=UTC),
                                              dt.datetime(2024, 3, 13, 14, 20, tzinfo=UTC))
