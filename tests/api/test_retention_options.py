"""Retention's period and cohort options (hourly periods, 24-hour windows, custom brackets,
first-ever occurrence) and their actors, on seeded random data against a small, separate
pure-Python reference.

The reference below shares no code with ``hedgerow.insights``: it reads the generated rows,
converts timestamps with ``zoneinfo`` and counts. The project is on America/New_York, and the
range crosses the DST change of March 10 (a 23-hour local day); weeks start on Monday. Some
distinct ids were merged into other persons after their first events (overrides), and some
events have no person (``$process_person_profile: false``, no person row).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections import defaultdict
from zoneinfo import ZoneInfo

import pytest

from hedgerow.store.events.schema import TABLES, fill_hot_columns
from hedgerow.testing import insert_rows

TZ = ZoneInfo("America/New_York")
START = dt.datetime(2024, 3, 1, 5, 0, tzinfo=dt.timezone.utc)  # Mar 1 00:00 local
CHROME = [{"key": "$browser", "value": "Chrome", "operator": "exact", "type": "event"}]


def generate(seed: int = 5):
    rng = random.Random(seed)
    persons = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(24)]
    ghosts = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(3)]
    overrides = {f"anon-{i}": persons[i + 12] for i in range(4)}  # anon-i was person i+20 before merging
    rows = []

    def add(ts: dt.datetime) -> None:
        who = rng.randrange(27)
        if who >= 24:
            distinct_id, person = f"ghost-{who}", ghosts[who - 24]
        elif who < 4 and rng.random() < 0.5:
            distinct_id, person = f"anon-{who}", persons[who + 20]
        else:
            distinct_id, person = f"u{who}", persons[who]
        event = rng.choice(["$pageview", "$pageview", "signup", "click"])
        browser = rng.choice(["Chrome", "Chrome", "Safari", None])
        rows.append((distinct_id, person, event, ts.replace(tzinfo=None), browser))

    for _ in range(700):  # Mar 1 - Mar 20, random microseconds (no ties)
        add(START + dt.timedelta(microseconds=rng.randrange(20 * 86400 * 10**6)))
    for _ in range(250):  # a busy day for the hourly periods: Mar 5, 06:00-22:00 local
        add(START + dt.timedelta(days=4, hours=6, microseconds=rng.randrange(16 * 3600 * 10**6)))
    return rows, overrides, persons


ROWS, OVERRIDES, PERSONS = generate()


def actor(distinct_id: str, person: str) -> str:
    return OVERRIDES.get(distinct_id, person)


def local(ts: dt.datetime) -> dt.datetime:
    return ts.replace(tzinfo=dt.timezone.utc).astimezone(TZ)


@pytest.fixture
def project(api):
    api.services.projects.update(api.services.projects.get(api.project_id),
                                 {"timezone": "America/New_York", "week_start_day": 1})
    conn = api.services.events.cursor()
    for ddl in TABLES:
        conn.execute(ddl)
    rows = []
    for n, (distinct_id, person, event, ts, browser) in enumerate(ROWS):
        props = {} if browser is None else {"$browser": browser}
        if distinct_id.startswith("ghost"):
            props["$process_person_profile"] = False
        rows.append([api.project_id, str(uuid.UUID(int=n + 1)), event, distinct_id, json.dumps(props), ts, ts, person])
    insert_rows(conn, "events", ["team_id", "uuid", "event", "distinct_id", "properties", "timestamp", "created_at",
                                 "person_id"], rows)  # fmt: skip
    conn.execute(fill_hot_columns())
    for n, person in enumerate(PERSONS, start=1):
        conn.execute("INSERT INTO persons_folded VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                     [api.project_id, person, n, "2024-01-01 00:00:00", "{}", True, False])
    for distinct_id, person in OVERRIDES.items():
        conn.execute("INSERT INTO person_distinct_id_overrides_folded VALUES (?, ?, ?, ?)",
                     [api.project_id, distinct_id, person, 1])
    conn.close()
    return api


def post(api, query):
    return api.post(f"/api/projects/{api.project_id}/query/", {"query": query, "refresh": "force_blocking"})


def run(api, query):
    response = post(api, query)
    assert response.status_code == 200, response.text
    return response.json()["results"]


# -- the reference -----------------------------------------------------------------------------


def period_start(value: dt.datetime, period: str) -> dt.datetime:
    """The local start of the period holding the local datetime ``value`` (weeks from Monday)."""
    if period == "Hour":
        return value.replace(minute=0, second=0, microsecond=0)
    day = dt.datetime(value.year, value.month, value.day, tzinfo=TZ)
    if period == "Week":
        return day - dt.timedelta(days=day.weekday())
    if period == "Month":
        return day.replace(day=1)
    return day


def next_start(value: dt.datetime, period: str) -> dt.datetime:
    naive = value.replace(tzinfo=None)
    if period == "Month":
        naive = naive.replace(year=naive.year + naive.month // 12, month=naive.month % 12 + 1)
    else:
        naive += {"Hour": dt.timedelta(hours=1), "Day": dt.timedelta(days=1), "Week": dt.timedelta(weeks=1)}[period]
    return naive.replace(tzinfo=TZ)


def hour_boundaries(a: dt.datetime, b: dt.datetime) -> int:
    """Local hour starts crossed from ``a`` to ``b`` (what ClickHouse's dateDiff('hour') counts)."""
    first, last = (period_start(x.astimezone(TZ), "Hour").astimezone(dt.timezone.utc) for x in (a, b))
    return int((last - first).total_seconds() // 3600)


def day_boundaries(a: dt.datetime, b: dt.datetime) -> int:
    return (b.astimezone(TZ).date() - a.astimezone(TZ).date()).days


def bracket_of(offset: int, brackets: list[int] | None) -> int | None:
    if not brackets or offset == 0:
        return offset
    running = 0
    for i, size in enumerate(brackets, start=1):
        running += size
        if offset <= running:
            return i
    return None


def matches(row, event: str, properties) -> bool:
    _, _, name, _, browser = row
    return name == event and (not properties or browser == "Chrome")


def reference(period: str, first: dt.datetime, rows_count: int, columns: int, *, target="$pageview",
              target_properties=None, returning="$pageview", retention_type="retention_recurring",
              brackets=None, windows=False, minimum=1, cumulative=False):
    """{(cohort row, column): set of actors} for the given options (cohort rows from ``first``)."""
    starts = [first]
    while len(starts) < rows_count:
        starts.append(next_start(starts[-1], period))
    end = next_start(starts[-1], period)
    index = {s: i for i, s in enumerate(starts)}
    events = sorted(((r[3].replace(tzinfo=dt.timezone.utc), actor(r[0], r[1]), r) for r in ROWS), key=lambda e: e[0])
    in_range = [e for e in events if first <= e[0] < end]

    anchors: dict[str, dt.datetime] = {}  # 24-hour windows: each actor's t0
    cohorts: dict[str, set] = defaultdict(set)  # calendar: each actor's cohort rows
    for ts, who, row in events:
        if ts >= end:
            continue
        if retention_type == "retention_recurring":
            if ts >= first and matches(row, target, target_properties):
                anchors.setdefault(who, ts)
                cohorts[who].add(index[period_start(ts.astimezone(TZ), period)])
        elif who not in anchors and row[2] == target:  # the actor's first target event, before any filter...
            if retention_type == "retention_first_ever_occurrence" and not matches(row, target, target_properties):
                anchors[who] = None  # ...which must match them
            elif retention_type == "retention_first_time" and not matches(row, target, target_properties):
                continue  # first time: the first one that matches
            else:
                anchors[who] = ts
    if retention_type != "retention_recurring":
        anchors = {who: ts for who, ts in anchors.items() if ts is not None and ts >= first}
        cohorts = {who: {index[period_start(ts.astimezone(TZ), period)]} for who, ts in anchors.items()}

    cells: dict[tuple[int, int], set] = defaultdict(set)
    for who in anchors if windows else cohorts:
        returns: dict[int, int] = defaultdict(int)  # offset -> returning events
        if windows:
            t0 = anchors[who]
            unit, size = {"Hour": (hour_boundaries, 1), "Day": (hour_boundaries, 24),
                          "Week": (day_boundaries, 7), "Month": (day_boundaries, 30)}[period]
            own = [unit(first, t0) // size]
            for ts, other, row in in_range:
                if other == who and ts >= t0 and matches(row, returning, None):
                    returns[unit(t0, ts) // size] += 1
            returns = {k: n for k, n in returns.items() if n >= minimum}
            returns[0] = 1
        else:
            own = sorted(cohorts[who])
        reached_by_cohort = {}
        for c in own:
            if windows:
                offsets = set(returns)
            else:
                periods: dict[int, int] = defaultdict(int)
                for ts, other, row in in_range:
                    if other == who and matches(row, returning, None):
                        periods[index[period_start(ts.astimezone(TZ), period)]] += 1
                offsets = {p - c for p, n in periods.items() if p > c and n >= minimum} | {0}
            reached = {bracket_of(k, brackets) for k in offsets} - {None}
            reached_by_cohort[c] = reached
            for col in reached:
                if cumulative:
                    for k in range(col + 1):
                        cells[(c, k)].add(who)
                else:
                    cells[(c, col)].add(who)
    return {cell: whos for cell, whos in cells.items() if cell[0] < rows_count and cell[1] < columns}


def matrix(cells, rows_count, columns):
    return [[len(cells.get((c, k), ())) for k in range(columns)] for c in range(rows_count)]


def got_matrix(results):
    return [[v["count"] for v in row["values"]] for row in results]


DAY_FIRST = dt.datetime(2024, 3, 4, tzinfo=TZ)
DAY_RANGE = {"date_from": "2024-03-04", "date_to": "2024-03-15"}  # 12 local days, across DST on Mar 10


def day_query(**options):
    return {"kind": "RetentionQuery", "dateRange": DAY_RANGE,
            "retentionFilter": {"period": "Day", "totalIntervals": 12, **options}}


# -- the tests ---------------------------------------------------------------------------------


def test_hourly_periods_match_reference(project):
    query = {"kind": "RetentionQuery", "dateRange": {"date_from": "2024-03-05T08:00:00", "date_to": "2024-03-05T19:00:00"},
             "retentionFilter": {"period": "Hour", "totalIntervals": 6}}
    results = run(project, query)
    want = matrix(reference("Hour", dt.datetime(2024, 3, 5, 8, tzinfo=TZ), 12, 6), 12, 6)
    assert [r["date"] for r in results][:2] == ["2024-03-05T08:00:00-05:00", "2024-03-05T09:00:00-05:00"]
    assert [r["label"] for r in results][-1] == "Hour 11" and results[0]["values"][5]["label"] == "Hour 5"
    assert got_matrix(results) == want
    assert any(n for row in want for n in row[1:])


@pytest.mark.parametrize("options", [
    {},
    {"retentionType": "retention_first_time"},
    {"retentionType": "retention_first_ever_occurrence"},
    {"minimumOccurrences": 2},
])
def test_24_hour_windows_match_reference(project, options):
    results = run(project, day_query(timeWindowMode="24_hour_windows", **options))
    kwargs = {"retention_type": options.get("retentionType", "retention_recurring"),
              "minimum": options.get("minimumOccurrences", 1), "cumulative": bool(options.get("cumulative"))}
    want = matrix(reference("Day", DAY_FIRST, 12, 12, windows=True, **kwargs), 12, 12)
    assert got_matrix(results) == want
    assert any(n for row in want for n in row[1:])


def test_24_hour_windows_differ_from_calendar_days(project):
    # a pageview at 23:00 and the next at 01:00 local are a day apart in calendar mode, the same
    # window when windows start at each person's first pageview
    windows = got_matrix(run(project, day_query(timeWindowMode="24_hour_windows")))
    calendar = got_matrix(run(project, day_query()))
    assert windows != calendar
    assert sum(row[0] for row in windows) < sum(row[0] for row in calendar)  # recurring: one cohort each


@pytest.mark.parametrize("period,brackets,options", [
    ("Day", [1, 3, 7], {}),
    ("Day", [2, 2], {"cumulative": True}),
    ("Day", [1, 3], {"retentionType": "retention_first_time"}),
    ("Week", [1, 1], {}),
    ("Day", [1, 4], {"timeWindowMode": "24_hour_windows"}),
])
def test_custom_brackets_match_reference(project, period, brackets, options):
    if period == "Week":
        query = {"kind": "RetentionQuery", "dateRange": {"date_from": "2024-03-01", "date_to": "2024-03-20"},
                 "retentionFilter": {"period": "Week", "totalIntervals": 3, "retentionCustomBrackets": brackets}}
        first, rows_count = dt.datetime(2024, 2, 26, tzinfo=TZ), 4  # Monday weeks: Feb 26 .. Mar 18
    else:
        query = day_query(retentionCustomBrackets=brackets, **options)
        first, rows_count = DAY_FIRST, 12
    results = run(project, query)
    columns = len(brackets) + 1
    assert all(len(row["values"]) == columns for row in results)
    labels = {(1, 3, 7): ["Day 0", "Day 1", "Day 2-4", "Day 5-11"], (2, 2): ["Day 0", "Day 1-2", "Day 3-4"],
              (1, 3): ["Day 0", "Day 1", "Day 2-4"], (1, 1): ["Week 0", "Week 1", "Week 2"],
              (1, 4): ["Day 0", "Day 1", "Day 2-5"]}[tuple(brackets)]
    assert [v["label"] for v in results[0]["values"]] == labels
    want = matrix(reference(period, first, rows_count, columns, brackets=brackets,
                            retention_type=options.get("retentionType", "retention_recurring"),
                            windows="timeWindowMode" in options, cumulative=bool(options.get("cumulative"))),
                  rows_count, columns)
    assert got_matrix(results) == want
    assert any(n for row in want for n in row[1:])


def test_brackets_count_an_actor_once_per_bracket(project):
    # with one bracket of 11 days, every return of a cohort's actor lands in the same column
    [first_row, *_] = run(project, day_query(retentionCustomBrackets=[11]))
    returned = reference("Day", DAY_FIRST, 12, 2, brackets=[11])[(0, 1)]
    assert first_row["values"][1]["count"] == len(returned) > 1


@pytest.mark.parametrize("period", ["Day", "Week"])
def test_first_ever_occurrence_matches_reference(project, period):
    target = {"id": "signup", "type": "events", "properties": CHROME}
    options = {"retentionType": "retention_first_ever_occurrence", "targetEntity": target}
    if period == "Week":
        query = {"kind": "RetentionQuery", "dateRange": {"date_from": "2024-03-01", "date_to": "2024-03-20"},
                 "retentionFilter": {"period": "Week", "totalIntervals": 4, **options}}
        first, rows_count, columns = dt.datetime(2024, 2, 26, tzinfo=TZ), 4, 4
    else:
        query, first, rows_count, columns = day_query(**options), DAY_FIRST, 12, 12
    results = run(project, query)
    want = reference(period, first, rows_count, columns, target="signup", target_properties=CHROME,
                     retention_type="retention_first_ever_occurrence")
    assert got_matrix(results) == matrix(want, rows_count, columns)
    # first-ever is narrower than first-time: an actor whose first signup was on Safari is in no
    # cohort, even when a later Chrome signup is their first matching one
    first_time = reference(period, first, rows_count, columns, target="signup", target_properties=CHROME,
                           retention_type="retention_first_time")
    query["retentionFilter"]["retentionType"] = "retention_first_time"
    assert got_matrix(run(project, query)) == matrix(first_time, rows_count, columns)
    cohort = lambda cells: {who for (c, k), whos in cells.items() if k == 0 for who in whos}  # noqa: E731
    assert cohort(want) < cohort(first_time)


ACTOR_CASES = [
    ("Hour", {"dateRange": {"date_from": "2024-03-05T08:00:00", "date_to": "2024-03-05T19:00:00"},
              "retentionFilter": {"period": "Hour", "totalIntervals": 6}},
     dict(first=dt.datetime(2024, 3, 5, 8, tzinfo=TZ), rows_count=12, columns=6)),
    ("windows", {"dateRange": DAY_RANGE, "retentionFilter": {"period": "Day", "totalIntervals": 12,
                                                             "timeWindowMode": "24_hour_windows"}},
     dict(first=DAY_FIRST, rows_count=12, columns=12, windows=True)),
    ("brackets", {"dateRange": DAY_RANGE, "retentionFilter": {"period": "Day", "totalIntervals": 12,
                                                              "retentionCustomBrackets": [1, 3, 7]}},
     dict(first=DAY_FIRST, rows_count=12, columns=4, brackets=[1, 3, 7])),
    ("first ever", {"dateRange": DAY_RANGE, "retentionFilter": {
        "period": "Day", "totalIntervals": 12, "retentionType": "retention_first_ever_occurrence",
        "targetEntity": {"id": "signup", "type": "events", "properties": CHROME}}},
     dict(first=DAY_FIRST, rows_count=12, columns=12, target="signup", target_properties=CHROME,
          retention_type="retention_first_ever_occurrence")),
]


@pytest.mark.parametrize("name,source,expected", ACTOR_CASES, ids=[c[0] for c in ACTOR_CASES])
def test_actors_of_each_cohort_match_reference(project, name, source, expected):
    period = source["retentionFilter"]["period"]
    options = dict(expected)
    first, rows_count, columns = options.pop("first"), options.pop("rows_count"), options.pop("columns")
    cells = reference(period, first, rows_count, columns, **options)
    query = {"kind": "RetentionQuery", **source}
    flag = f"{period.lower()}_1"
    checked = 0
    for row in range(rows_count):
        body = post(project, {"kind": "ActorsQuery", "select": ["id", "appearances", flag],
                              "source": {"kind": "InsightActorsQuery", "source": query, "interval": row}})
        assert body.status_code == 200, body.text
        got = {r[0]: (r[1], r[2]) for r in body.json()["results"]}
        persons = set(PERSONS)  # actors without a person row are not listed
        want = {who: (sorted(k for (c, k), whos in cells.items() if c == row and who in whos), (row, 1) in cells
                      and who in cells[(row, 1)])
                for who in cells.get((row, 0), ()) if who in persons}
        assert got == want, row
        checked += len(want)
    assert checked


@pytest.mark.parametrize("options", [
    {"retentionCustomBrackets": [0]},
    {"retentionCustomBrackets": [-1, 2]},
    {"retentionCustomBrackets": ["x"]},
    {"retentionCustomBrackets": [1] * 101},
    {"timeWindowMode": "12_hour_windows"},
    {"timeWindowMode": "24_hour_windows", "cumulative": True},  # PostHog refuses it too
    {"period": "Minute"},
    {"retentionType": "retention_sometimes"},
])
def test_bad_options_are_a_400(project, options):
    response = post(project, day_query(**options))
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"type", "code", "detail", "attr"}


@pytest.mark.parametrize("query", [
    {"dateRange": {"date_from": "-10y"}, "retentionFilter": {"period": "Hour"}},  # 87,600 cohorts
    {"dateRange": {"date_from": "-2y"}, "retentionFilter": {"period": "Day", "totalIntervals": 200}},
    {"retentionFilter": {"period": "Day", "retentionCustomBrackets": [60, 60]}},  # 120 days ahead
    {"dateRange": {"date_from": "-1000d"}, "retentionFilter": {"period": "Day", "totalIntervals": 100}},  # 100,100 cells
    {"dateRange": {"date_from": "-300d"}, "retentionFilter": {"period": "Day", "totalIntervals": 100},
     "breakdownFilter": {"breakdown": "$browser", "breakdown_limit": 50}},  # 30,100 cells x 51 matrices
])
def test_matrices_past_posthogs_bounds_are_a_400(project, query):
    response = post(project, {"kind": "RetentionQuery", **query})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "retention_too_many_intervals"
    assert set(response.json()) == {"type", "code", "detail", "attr"}


def test_a_matrix_at_the_bounds_is_computed(project):
    # 1,000 cohorts x 100 columns: exactly the cell bound
    query = {"kind": "RetentionQuery", "dateRange": {"date_from": "2021-06-24", "date_to": "2024-03-19"},
             "retentionFilter": {"period": "Day", "totalIntervals": 100}}
    results = run(project, query)
    assert (len(results), len(results[0]["values"])) == (1000, 100)
    assert sum(row["values"][0]["count"] for row in results) > 0
