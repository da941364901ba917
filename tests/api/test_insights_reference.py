"""Insight answers on seeded random data against a small, separate pure-Python reference.

The reference below shares no code with ``hedgerow.insights``: it reads the generated rows,
converts timestamps with ``zoneinfo`` and counts. Events carry random microseconds (no ties);
some distinct ids are merged into other persons after their first events (overrides).
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

TZ = "Asia/Kolkata"  # UTC+05:30: local midnight is 18:30 UTC
START = dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc)
EVENTS = ["$pageview", "signup", "purchase", "click"]
BROWSERS = ["Chrome", "Safari", "Firefox", "Edge", None, ""]


def generate(seed: int = 7):
    rng = random.Random(seed)
    persons = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(30)]
    overrides = {f"anon-{i}": persons[i + 10] for i in range(5)}  # anon-i was person i+20 before merging
    rows = []
    for _ in range(500):
        p = rng.randrange(30)
        distinct_id = f"u{p}"
        person = persons[p]
        if p < 5 and rng.random() < 0.5:
            distinct_id, person = f"anon-{p}", persons[p + 20]
        ts = START + dt.timedelta(microseconds=rng.randrange(20 * 86400 * 10**6))
        rows.append((distinct_id, person, rng.choice(EVENTS), ts.replace(tzinfo=None), rng.choice(BROWSERS)))
    return rows, overrides


ROWS, OVERRIDES = generate()


def company(distinct_id: str) -> str:
    """The event's group of type 0 (a company; none for some users)."""
    n = sum(map(ord, distinct_id))
    return "" if n % 4 == 0 else f"org-{n % 3}"


TIERS = {"org-0": "gold", "org-1": "silver", "org-2": None}
"""The companies' ``tier`` group property (org-2 has none)."""


def actor(distinct_id: str, person: str) -> str:
    return OVERRIDES.get(distinct_id, person)


def local(ts: dt.datetime) -> dt.datetime:
    return ts.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(TZ))


@pytest.fixture
def project(api):
    api.services.projects.update(api.services.projects.get(api.project_id), {"timezone": TZ, "week_start_day": 1})
    conn = api.services.events.cursor()
    for ddl in TABLES:
        conn.execute(ddl)
    rows = [[api.project_id, str(uuid.UUID(int=n + 1)), event, distinct_id,
             json.dumps({} if browser is None else {"$browser": browser}), ts, ts, person, company(distinct_id)]
            for n, (distinct_id, person, event, ts, browser) in enumerate(ROWS)]  # fmt: skip
    insert_rows(conn, "events", ["team_id", "uuid", "event", "distinct_id", "properties", "timestamp", "created_at",
                                 "person_id", "$group_0"], rows)  # fmt: skip
    conn.execute(fill_hot_columns())
    for key, tier in TIERS.items():
        conn.execute("INSERT INTO groups VALUES (?, 0, ?, ?, ?, ?)",
                     [api.project_id, key, json.dumps({"tier": tier} if tier else {}), START, START])
    for distinct_id, person in OVERRIDES.items():
        conn.execute("INSERT INTO person_distinct_id_overrides_folded VALUES (?, ?, ?, ?)",
                     [api.project_id, distinct_id, person, 1])
    conn.close()
    return api


def run(api, query):
    response = api.post(f"/api/projects/{api.project_id}/query/", {"query": query, "refresh": "force_blocking"})
    assert response.status_code == 200, response.text
    return response.json()["results"]


RANGE = {"date_from": "2024-03-03", "date_to": "2024-03-16"}
FIRST, LAST = dt.date(2024, 3, 3), dt.date(2024, 3, 16)


def in_range(ts: dt.datetime) -> bool:
    return FIRST <= local(ts).date() <= LAST


@pytest.mark.parametrize("math", ["total", "dau"])
def test_daily_trend_matches_reference(project, math):
    expected: dict[dt.date, set | int] = defaultdict(set if math == "dau" else int)
    for distinct_id, person, event, ts, _ in ROWS:
        if event == "$pageview" and in_range(ts):
            day = local(ts).date()
            if math == "dau":
                expected[day].add(actor(distinct_id, person))
            else:
                expected[day] += 1
    days = [FIRST + dt.timedelta(days=i) for i in range((LAST - FIRST).days + 1)]
    want = [len(expected[d]) if math == "dau" else expected[d] for d in days]
    [series] = run(project, {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview", "math": math}],
                             "dateRange": RANGE})
    assert series["days"] == [d.isoformat() for d in days]
    assert series["data"] == want


def test_weekly_unique_users_with_monday_weeks(project):
    weeks: dict[dt.date, set] = defaultdict(set)
    for distinct_id, person, _, ts, _ in ROWS:
        if in_range(ts):
            day = local(ts).date()
            weeks[day - dt.timedelta(days=day.weekday())].add(actor(distinct_id, person))
    [series] = run(project, {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": None, "math": "dau"}],
                             "interval": "week", "dateRange": RANGE})
    assert series["days"] == ["2024-02-26", "2024-03-04", "2024-03-11"]
    assert series["data"] == [len(weeks[dt.date.fromisoformat(d)]) for d in series["days"]]


def test_breakdown_with_limit_matches_reference(project):
    totals: dict[str, int] = defaultdict(int)
    for _, _, event, ts, browser in ROWS:
        if event == "$pageview" and in_range(ts):
            totals[browser or "$$_posthog_breakdown_null_$$"] += 1
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    kept, rest = ranked[:2], ranked[2:]
    want = sorted(kept, key=lambda kv: (kv[0] == "$$_posthog_breakdown_null_$$", -kv[1], kv[0]))
    want.append(("$$_posthog_breakdown_other_$$", sum(v for _, v in rest)))
    results = run(project, {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}],
                            "dateRange": RANGE, "breakdownFilter": {"breakdown": "$browser", "breakdown_limit": 2},
                            "trendsFilter": {"display": "ActionsTable"}})
    assert [(r["breakdown_value"], r["aggregated_value"]) for r in results] == want


def reference_funnel(steps: list[str], window: dt.timedelta, strict: bool) -> list[int]:
    """Persons reaching each step: some events e0 < e1 < ... (in time) matching the steps, the
    last within the window of the first; strict funnels need them back to back."""
    start = dt.datetime.combine(FIRST, dt.time(), ZoneInfo(TZ)).astimezone(dt.timezone.utc).replace(tzinfo=None)
    end = dt.datetime.combine(LAST + dt.timedelta(days=1), dt.time(), ZoneInfo(TZ)).astimezone(dt.timezone.utc).replace(tzinfo=None)
    by_actor: dict[str, list] = defaultdict(list)
    for distinct_id, person, event, ts, _ in ROWS:
        if start <= ts < end and (strict or event in steps):
            by_actor[actor(distinct_id, person)].append((ts, event))
    reached = [0] * len(steps)
    for events in by_actor.values():
        events.sort()
        best = -1
        for i, (t0, e0) in enumerate(events):
            if e0 != steps[0]:
                continue
            k, last = 0, i
            if strict:
                while k + 1 < len(steps) and last + 1 < len(events) and events[last + 1][1] == steps[k + 1] \
                        and events[last + 1][0] - t0 <= window:
                    k, last = k + 1, last + 1
            else:
                for j in range(i + 1, len(events)):
                    if k + 1 < len(steps) and events[j][1] == steps[k + 1] and events[j][0] - t0 <= window:
                        k, last = k + 1, j
            best = max(best, k)
        for k in range(best + 1):
            reached[k] += 1
    return reached


@pytest.mark.parametrize("steps, days, order", [
    (["$pageview", "signup", "purchase"], 3, "ordered"),
    (["$pageview", "signup"], 1, "ordered"),
    (["$pageview", "$pageview", "click"], 2, "ordered"),
    (["$pageview", "signup"], 14, "strict"),
])
def test_funnel_counts_match_reference(project, steps, days, order):
    query = {"kind": "FunnelsQuery", "series": [{"kind": "EventsNode", "event": s} for s in steps],
             "dateRange": RANGE, "funnelsFilter": {"funnelWindowInterval": days, "funnelOrderType": order}}
    results = run(project, query)
    assert [s["count"] for s in results] == reference_funnel(steps, dt.timedelta(days=days), order == "strict")


def test_unique_users_of_other_values_are_counted_once(project):
    null = "$$_posthog_breakdown_null_$$"
    users: dict[str, set] = defaultdict(set)
    for distinct_id, person, event, ts, browser in ROWS:
        if event == "$pageview" and in_range(ts):
            users[browser or null].add(actor(distinct_id, person))
    ranked = sorted(users, key=lambda v: (-len(users[v]), v))
    kept, rest = ranked[:2], ranked[2:]
    other = set().union(*(users[v] for v in rest))
    assert len(other) < sum(len(users[v]) for v in rest)  # people use several browsers: no adding up
    want = sorted(((v, len(users[v])) for v in kept), key=lambda kv: (kv[0] == null, -kv[1], kv[0]))
    want.append(("$$_posthog_breakdown_other_$$", len(other)))
    results = run(project, {"kind": "TrendsQuery", "dateRange": RANGE,
                            "series": [{"kind": "EventsNode", "event": "$pageview", "math": "dau"}],
                            "breakdownFilter": {"breakdown": "$browser", "breakdown_limit": 2},
                            "trendsFilter": {"display": "BoldNumber"}})
    assert [(r["breakdown_value"], r["aggregated_value"]) for r in results] == want


@pytest.mark.parametrize("display", ["ActionsLineGraph", "ActionsLineGraphCumulative", "BoldNumber"])
def test_unique_groups_match_reference(project, display):
    days = [FIRST + dt.timedelta(days=i) for i in range((LAST - FIRST).days + 1)]
    groups: dict[dt.date, set] = defaultdict(set)
    for distinct_id, _, event, ts, _ in ROWS:
        if event == "signup" and in_range(ts) and company(distinct_id):
            groups[local(ts).date()].add(company(distinct_id))
    assert len(set().union(*groups.values())) == 3 and sum(map(len, groups.values())) > 3
    [series] = run(project, {"kind": "TrendsQuery", "dateRange": RANGE, "trendsFilter": {"display": display},
                             "series": [{"kind": "EventsNode", "event": "signup", "math": "unique_group",
                                         "math_group_type_index": 0}]})
    if display == "BoldNumber":
        assert series["aggregated_value"] == len(set().union(*groups.values()))
    elif display == "ActionsLineGraph":
        assert series["data"] == [len(groups[d]) for d in days]
    else:  # each group counts once, on its first day
        seen: set = set()
        want = []
        for d in days:
            seen |= groups[d]
            want.append(len(seen))
        assert series["data"] == want


def test_group_property_and_hogql_breakdowns_match_reference(project):
    null = "$$_posthog_breakdown_null_$$"
    by_tier: dict[str, int] = defaultdict(int)
    by_hour: dict[str, int] = defaultdict(int)
    for distinct_id, _, event, ts, _ in ROWS:
        if event == "click" and in_range(ts):
            by_tier[TIERS.get(company(distinct_id)) or null] += 1
            by_hour[str(local(ts).hour // 6)] += 1
    query = {"kind": "TrendsQuery", "dateRange": RANGE, "trendsFilter": {"display": "ActionsTable"},
             "series": [{"kind": "EventsNode", "event": "click"}],
             "breakdownFilter": {"breakdown": "tier", "breakdown_type": "group", "breakdown_group_type_index": 0}}
    results = run(project, query)
    want = sorted(by_tier.items(), key=lambda kv: (kv[0] == null, -kv[1], kv[0]))
    assert [(r["breakdown_value"], r["aggregated_value"]) for r in results] == want
    query["breakdownFilter"] = {"breakdown": "intDiv(toHour(timestamp), 6)", "breakdown_type": "hogql"}
    results = run(project, query)
    assert {r["breakdown_value"]: r["aggregated_value"] for r in results} == dict(by_hour)


def test_several_breakdowns_match_reference(project):
    null, other = "$$_posthog_breakdown_null_$$", "$$_posthog_breakdown_other_$$"
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for _, _, event, ts, browser in ROWS:
        if event == "$pageview" and in_range(ts):
            counts[(browser or null, str(local(ts).hour // 12))] += 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    kept, rest = dict(ranked[:4]), ranked[4:]
    results = run(project, {
        "kind": "TrendsQuery", "dateRange": RANGE, "trendsFilter": {"display": "ActionsTable"},
        "series": [{"kind": "EventsNode", "event": "$pageview"}],
        "breakdownFilter": {"breakdown_limit": 4, "breakdowns": [
            {"property": "$browser", "type": "event"}, {"property": "intDiv(toHour(timestamp), 12)", "type": "hogql"}]},
    })
    got = {tuple(r["breakdown_value"]): r["aggregated_value"] for r in results}
    assert got == {**kept, (other, other): sum(n for _, n in rest)}
    assert [r["label"] for r in results][-1] == f"{other}::{other}"
    assert all("::" in r["label"] and r["label"] == "::".join(r["breakdown_value"]) for r in results)


@pytest.mark.parametrize("aggregation", [{"aggregation_group_type_index": 0},
                                         {"funnelsFilter": {"funnelAggregateByHogQL": "distinct_id"}}])
def test_funnels_aggregated_by_group_or_hogql_match_reference(project, aggregation):
    steps, window = ["$pageview", "signup"], dt.timedelta(days=2)
    by_group = "aggregation_group_type_index" in aggregation
    start = dt.datetime.combine(FIRST, dt.time(), ZoneInfo(TZ)).astimezone(dt.timezone.utc).replace(tzinfo=None)
    end = dt.datetime.combine(LAST + dt.timedelta(days=1), dt.time(), ZoneInfo(TZ)).astimezone(dt.timezone.utc).replace(tzinfo=None)
    events: dict[str, list] = defaultdict(list)
    for distinct_id, _, event, ts, _ in ROWS:
        target = company(distinct_id) if by_group else distinct_id
        if start <= ts < end and event in steps and target:
            events[target].append((ts, event))
    entered = converted = 0
    for items in events.values():
        items.sort()
        firsts = [t for t, e in items if e == steps[0]]
        entered += bool(firsts)
        converted += any(e == steps[1] and t > t0 and t - t0 <= window for t0 in firsts for t, e in items)
    query = {"kind": "FunnelsQuery", "series": [{"kind": "EventsNode", "event": s} for s in steps], "dateRange": RANGE,
             "funnelsFilter": {"funnelWindowInterval": 2, **aggregation.get("funnelsFilter", {})},
             **{k: v for k, v in aggregation.items() if k != "funnelsFilter"}}
    assert [s["count"] for s in run(project, query)] == [entered, converted]
    assert 0 < converted and (by_group or converted < entered)


def _ordered_reach(events: list, steps: list[str], window: dt.timedelta) -> int:
    """The furthest 0-based step of an ordered funnel over sorted (ts, event) pairs, or -1."""
    best = -1
    for i, (t0, e0) in enumerate(events):
        if e0 != steps[0]:
            continue
        k = 0
        for t, e in events[i + 1:]:
            if k + 1 < len(steps) and e == steps[k + 1] and t - t0 <= window:
                k += 1
        best = max(best, k)
    return best


@pytest.mark.parametrize("attribution", ["all_events", "step"])
def test_funnel_breakdown_attribution_matches_reference(project, attribution):
    steps, window = ["$pageview", "signup"], dt.timedelta(days=3)
    start = dt.datetime.combine(FIRST, dt.time(), ZoneInfo(TZ)).astimezone(dt.timezone.utc).replace(tzinfo=None)
    end = dt.datetime.combine(LAST + dt.timedelta(days=1), dt.time(), ZoneInfo(TZ)).astimezone(dt.timezone.utc).replace(tzinfo=None)
    by_actor: dict[str, list] = defaultdict(list)
    for distinct_id, person, event, ts, browser in ROWS:
        if start <= ts < end and event in steps:
            by_actor[actor(distinct_id, person)].append((ts, event, browser or ""))
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for events in by_actor.values():
        events.sort()
        if attribution == "all_events":  # one funnel per value, over that value's events
            walks = [(v, [(t, e) for t, e, b in events if b == v]) for v in {b for _, _, b in events}]
        else:  # the value of the first signup event
            value = next((b for _, e, b in events if e == "signup"), "")
            walks = [(value, [(t, e) for t, e, _ in events])]
        for value, items in walks:
            for k in range(_ordered_reach(items, steps, window) + 1):
                counts[value][k] += 1
    results = run(project, {
        "kind": "FunnelsQuery", "series": [{"kind": "EventsNode", "event": s} for s in steps], "dateRange": RANGE,
        "breakdownFilter": {"breakdown": "$browser"},
        "funnelsFilter": {"funnelWindowInterval": 3, "breakdownAttributionType": attribution,
                          "breakdownAttributionValue": 1}})
    assert {steps_[0]["breakdown_value"]: [s["count"] for s in steps_] for steps_ in results} == dict(counts)


@pytest.mark.parametrize("options", [{}, {"cumulative": True}, {"minimumOccurrences": 2},
                                     {"aggregation_group_type_index": 0}])
def test_retention_matches_reference(project, options):
    by_group = "aggregation_group_type_index" in options
    minimum = options.get("minimumOccurrences", 1)
    days = [FIRST + dt.timedelta(days=i) for i in range((LAST - FIRST).days + 1)]
    active: dict[str, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    for distinct_id, person, event, ts, _ in ROWS:
        target = company(distinct_id) if by_group else actor(distinct_id, person)
        if event == "$pageview" and in_range(ts) and target:
            active[target][local(ts).date()] += 1
    want = []
    for c, day in enumerate(days):
        cohort = [a for a, seen in active.items() if seen.get(day)]
        row = [len(cohort)]
        for k in range(1, len(days)):
            returned = [a for a in cohort if any(d > day and n >= minimum for d, n in active[a].items())
                        and ((day + dt.timedelta(days=k)) in active[a] and active[a][day + dt.timedelta(days=k)] >= minimum
                             if not options.get("cumulative")
                             else max(d for d, n in active[a].items() if n >= minimum) >= day + dt.timedelta(days=k))]
            row.append(len(returned) if c + k < len(days) else 0)
        want.append(row)
    retention = {"kind": "RetentionQuery", "dateRange": RANGE,
                 "retentionFilter": {"period": "Day", "totalIntervals": len(days),
                                     **{k: v for k, v in options.items() if k != "aggregation_group_type_index"}},
                 **({"aggregation_group_type_index": 0} if by_group else {})}
    got = [[v["count"] for v in row["values"]] for row in run(project, retention)]
    assert got == want
    assert any(n for row in want for n in row[1:])


def _bursts(seed: int = 11) -> list[tuple]:
    """Dense sessions (minutes apart) with a signup some steps before a purchase, for paths."""
    rng = random.Random(seed)
    rows = []
    for i in range(12):
        ts = START + dt.timedelta(days=5, hours=i, minutes=7)
        items = [rng.choice(EVENTS) for _ in range(rng.randrange(3))] + ["signup"] \
            + [rng.choice(["click", "$pageview"]) for _ in range(rng.randrange(6))] + ["purchase", "click"]
        for item in items:
            ts += dt.timedelta(minutes=rng.randrange(1, 6), microseconds=rng.randrange(10**6))
            rows.append((f"u{i}", None, item, ts.replace(tzinfo=None), None))
    return rows


BURSTS = _bursts()


def _reference_paths(start: str | None, end: str | None, limit: int) -> dict[tuple[str, str], int]:
    """PostHog's path edges: per person, sessions split at gaps of 30 min or more, repeats collapsed,
    cut from the start point to the first end point after it (the first and last halves of the
    limit around "..." when longer), else to the first ``limit`` items."""
    by_actor: dict[str, list] = defaultdict(list)
    persons = {distinct_id: person for distinct_id, person, *_ in ROWS}
    for distinct_id, person, event, ts, _ in ROWS + BURSTS:
        if in_range(ts):
            by_actor[actor(distinct_id, person or persons[distinct_id])].append((ts, "" if event == "$pageview" else event))
    edges: dict[tuple[str, str], int] = defaultdict(int)
    for events in by_actor.values():
        events.sort()
        sessions, last = [], None
        for ts, item in events:
            if last is None or ts - last >= dt.timedelta(minutes=30):
                sessions.append([])
            last = ts
            if not sessions[-1] or sessions[-1][-1] != item:
                sessions[-1].append(item)
        for path in sessions:
            if start is not None:
                if start not in path or end not in path[path.index(start):]:
                    continue
                path = path[path.index(start):]
                path = path[:path.index(end) + 1]
                if len(path) > limit:
                    half = limit // 2
                    path = path[:half] + ["..."] + path[-half:]
            else:
                path = path[:limit]
            for i in range(len(path) - 1):
                edges[(f"{i + 1}_{path[i]}", f"{i + 2}_{path[i + 1]}")] += 1
    return edges


@pytest.mark.parametrize("start, end, limit", [(None, None, 5), ("signup", "purchase", 4), ("signup", "click", 3)])
def test_paths_match_reference(project, start, end, limit):
    persons = {distinct_id: person for distinct_id, person, *_ in ROWS}
    conn = project.services.events.cursor()
    for n, (distinct_id, _, event, ts, _) in enumerate(BURSTS):
        conn.execute("INSERT INTO events (team_id, uuid, event, distinct_id, properties, timestamp, created_at,"
                     " person_id) VALUES (?, ?, ?, ?, '{}', ?, ?, ?)",
                     [project.project_id, str(uuid.UUID(int=10_000 + n)), event, distinct_id, ts, ts,
                      persons[distinct_id]])
    conn.close()
    edges = _reference_paths(start, end, limit)
    ranked = sorted(edges.items(), key=lambda kv: (-kv[1], kv[0]))[:50]
    reached, want = set(), []
    for (source, target), n in sorted(ranked, key=lambda kv: (int(kv[0][0].split("_")[0]), -kv[1], kv[0])):
        if source.startswith("1_") or source in reached:
            reached.add(target)
            want.append((source, target, n))
    points = {"startPoint": start, "endPoint": end} if start else {}
    results = run(project, {"kind": "PathsQuery", "dateRange": RANGE,
                            "pathsFilter": {"stepLimit": limit, "edgeLimit": 50, **points}})
    assert sorted((e["source"], e["target"], e["value"]) for e in results) == sorted(want)
    assert want and (start is None or any("..." in e["target"] for e in results))
