"""Ordered and strict funnels on both engines (DuckDB and chdb), events sent through ``/batch/``.

Hand-worked cases for the traps (the window measured from the first step, one event matching
two steps, strict funnels and repeated events, tied timestamps), and a seeded random dataset
checked against the per-person walk of :mod:`hedgerow.insights.funnel_steps` (PostHog's funnel
UDF restated in Python) run here over the same events: the engine computes most persons
set-based, so this is the differential check between the two.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
from collections import defaultdict
from collections.abc import Iterator

import pytest

from hedgerow.config import Settings
from hedgerow.hogql import LimitContext
from hedgerow.insights import funnel_steps, funnels
from tests.conftest import Harness, make_harness

BASE = dt.datetime(2024, 2, 1, tzinfo=dt.timezone.utc)
RANGE = {"date_from": "2024-02-01", "date_to": "2024-02-20"}


@pytest.fixture(params=["duckdb", "chdb"])
def api(request, tmp_path, database_url) -> Iterator[Harness]:
    events_url = f"chdb:///{tmp_path / 'events.chdb'}" if request.param == "chdb" else ""
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, rate_limits_enabled=False,
                        events_url=events_url)
    yield from make_harness(settings)


def send(api: Harness, events: list[tuple]) -> None:
    """Capture (person, event, seconds after BASE[, $browser]) tuples; the browser defaults to
    "b" and the person's last character."""
    batch = [{"event": event, "distinct_id": who,
              "properties": {"$browser": browser[0] if browser else "b" + who[-1]},
              "timestamp": (BASE + dt.timedelta(seconds=seconds)).isoformat()}
             for who, event, seconds, *browser in events]
    response = api.client.post("/batch/", json={"api_key": api.project_token, "batch": batch})
    assert response.status_code == 200, response.text


def funnel(api: Harness, steps: list[str], **options) -> list[dict]:
    query = {"kind": "FunnelsQuery", "series": [{"kind": "EventsNode", "event": s} for s in steps],
             "dateRange": RANGE, "funnelsFilter": options}
    response = api.post(f"/api/projects/{api.project_id}/query/", {"query": query, "refresh": "force_blocking"})
    assert response.status_code == 200, response.text
    return response.json()["results"]


def summary(results: list[dict]) -> list[tuple]:
    return [(s["count"], s["average_conversion_time"], s["median_conversion_time"]) for s in results]


DAY = 86400


def test_window_from_the_first_step_and_the_latest_start(api):
    send(api, [
        # p1: a, then b and c within a day of the first a: 3 steps (100 s, 200 s)
        ("p1", "a", 0), ("p1", "b", 100), ("p1", "c", 300),
        # p2: a, b, then c 2 days after the first a, but a second a restarts within a day of c:
        # the attempt from the later a reaches b and c (b 10 s after it, c 20 s after b)
        ("p2", "a", 1000), ("p2", "b", 1100), ("p2", "a", 2 * DAY), ("p2", "b", 2 * DAY + 10),
        ("p2", "c", 2 * DAY + 30),
        # p3: a, b, then c just past a day from a: 2 steps (b after 50 s)
        ("p3", "a", 0), ("p3", "b", 50), ("p3", "c", DAY + 1),
        # p4: b before a: 1 step
        ("p4", "b", 0), ("p4", "a", 10),
    ])
    assert summary(funnel(api, ["a", "b", "c"], funnelWindowInterval=1)) == [
        (4, None, None), (3, (100 + 10 + 50) / 3, 50), (2, 110, 110)]


def test_one_event_cannot_serve_two_consecutive_steps(api):
    send(api, [("p1", "$pageview", 0), ("p1", "$pageview", 40), ("p2", "$pageview", 0),
               ("p3", "$pageview", 0), ("p3", "$pageview", 5), ("p3", "$pageview", 7)])
    assert summary(funnel(api, ["$pageview", "$pageview"])) == [(3, None, None), (2, 22.5, 22.5)]
    assert summary(funnel(api, ["$pageview", "$pageview", "$pageview"])) == [(3, None, None), (2, 22.5, 22.5),
                                                                             (1, 2, 2)]


def test_strict_needs_the_steps_back_to_back(api):
    send(api, [
        ("p1", "a", 0), ("p1", "x", 5), ("p1", "b", 10),           # x between: 1 step
        ("p2", "a", 0), ("p2", "b", 10), ("p2", "b", 20), ("p2", "c", 30),  # b repeated: still on step 2, then c
        ("p3", "a", 0), ("p3", "b", 10), ("p3", "x", 20), ("p3", "c", 30),  # x breaks before c: 2 steps
    ])
    assert summary(funnel(api, ["a", "b", "c"], funnelOrderType="strict")) == [
        (3, None, None), (2, 10, 10), (1, 20, 20)]
    assert summary(funnel(api, ["a", "b", "c"])) == [(3, None, None), (3, 10, 10), (2, 20, 20)]


def test_tied_timestamps_beside_untied_persons(api):
    send(api, [
        ("p1", "b", 0), ("p1", "a", 0), ("p1", "c", 60),  # a and b at once: either order is tried
        ("p2", "a", 0), ("p2", "b", 30),                  # no ties
        ("p3", "b", 0), ("p3", "a", 10), ("p3", "a", 10),  # a twice at once, no b after
    ])
    # p1's a -> b takes 0 s, which conversion times leave out (as PostHog's do)
    assert summary(funnel(api, ["a", "b", "c"])) == [(3, None, None), (2, 30, 30), (1, 60, 60)]


def test_breakdown_and_time_to_convert(api):
    send(api, [("p1", "a", 0), ("p1", "b", 100), ("p2", "a", 0), ("p2", "b", 400), ("q1", "a", 0)])
    query = {"kind": "FunnelsQuery", "series": [{"kind": "EventsNode", "event": s} for s in ("a", "b")],
             "dateRange": RANGE, "breakdownFilter": {"breakdown": "$browser"}}
    response = api.post(f"/api/projects/{api.project_id}/query/", {"query": query, "refresh": "force_blocking"})
    by_value = {g[0]["breakdown_value"]: [s["count"] for s in g] for g in response.json()["results"]}
    assert by_value == {"b1": [2, 1], "b2": [1, 1]}
    query["funnelsFilter"] = {"funnelVizType": "time_to_convert", "binCount": 3}
    del query["breakdownFilter"]
    response = api.post(f"/api/projects/{api.project_id}/query/", {"query": query, "refresh": "force_blocking"})
    result = response.json()["results"]
    assert result["bins"] == [[100, 1], [200, 0], [300, 0], [400, 1]]
    assert result["average_conversion_time"] == 250 and result["median_conversion_time"] == 250


@pytest.mark.parametrize("attribution, want", [
    ({"breakdownAttributionType": "first_touch"}, {"X": [1, 1], "Y": [1, 1]}),
    ({"breakdownAttributionType": "last_touch"}, {"Z": [1, 1], "Y": [1, 1]}),
    ({"breakdownAttributionType": "step", "breakdownAttributionValue": 1}, {"Z": [1, 1], "Y": [1, 1]}),
    # one funnel per value over its events: p1's X and Y funnels stop at a, its Z one never starts
    ({"breakdownAttributionType": "all_events"}, {"X": [1, 0], "Y": [2, 1]}),
])
def test_breakdown_attribution(api, attribution, want):
    send(api, [("p1", "a", 0, "X"), ("p1", "a", 10, "Y"), ("p1", "b", 20, "Z"),
               ("p2", "a", 0, "Y"), ("p2", "b", 30, "Y")])
    query = {"kind": "FunnelsQuery", "series": [{"kind": "EventsNode", "event": s} for s in ("a", "b")],
             "dateRange": RANGE, "breakdownFilter": {"breakdown": "$browser"}, "funnelsFilter": attribution}
    response = api.post(f"/api/projects/{api.project_id}/query/", {"query": query, "refresh": "force_blocking"})
    assert response.status_code == 200, response.text
    assert {g[0]["breakdown_value"]: [s["count"] for s in g] for g in response.json()["results"]} == want


def _random_events(seed: int) -> list[tuple[str, str, float]]:
    rng = random.Random(seed)
    events = []
    for person in range(60):
        for _ in range(rng.randrange(1, 12)):
            # whole hours over four days: steps exactly a window apart, and some tied timestamps
            events.append((f"u{person}", rng.choice("abcx"), rng.randrange(4 * 24) * 3600.0))
    return events


def _reference(events: list[tuple[str, str, float]], steps: list[str], window: float, strict: bool) -> list[tuple]:
    by_person: dict[str, list] = defaultdict(list)
    for who, event, seconds in events:
        if strict or event in steps:
            by_person[who].append((seconds, None, [i + 1 for i, s in enumerate(steps) if s == event]))
    outcomes = []
    for items in by_person.values():
        items.sort(key=lambda e: e[0])
        outcome = funnel_steps.ordered(items, len(steps), window, strict=strict)
        if outcome is not None and outcome.step >= 0:
            outcomes.append(outcome)
    out = []
    for index in range(len(steps)):
        reached = [o for o in outcomes if o.step >= index]
        durations = [o.durations[index - 1] for o in reached if index and o.durations[index - 1] > 0]
        out.append((len(reached), statistics.fmean(durations) if durations else None,
                    statistics.median(durations) if durations else None))
    return out


def _assert_matches_walk(api: Harness, events: list[tuple[str, str, float]], order: str,
                         shapes: tuple[tuple[list[str], int], ...]) -> None:
    """Send ``events`` and check each (steps, window in hours) funnel against the walk."""
    send(api, events)
    for steps, hours in shapes:
        got = funnel(api, steps, funnelWindowInterval=hours, funnelWindowIntervalUnit="hour", funnelOrderType=order)
        want = _reference(events, steps, hours * 3600.0, order == "strict")
        assert [(c, pytest.approx(a), m) for c, a, m in summary(got)] == want, (steps, hours)


def _hourly_events(seed: int, most: int, least: int = 1) -> list[tuple[str, str, float]]:
    """Events of 80 persons at distinct whole hours over four days (no ties: those are walked)."""
    rng = random.Random(seed)
    return [(f"u{person}", rng.choice("abcx"), hour * 3600.0) for person in range(80)
            for hour in rng.sample(range(4 * 24), rng.randrange(least, most))]


@pytest.mark.parametrize("order", ["ordered", "strict"])
def test_random_events_match_the_walk(api, order):
    _assert_matches_walk(api, _random_events(5), order, ((["a", "b", "c"], 24), (["a", "a", "b"], 12), (["b", "a"], 6)))


@pytest.mark.parametrize("order", ["ordered", "strict"])
@pytest.mark.parametrize("seed", [11, 12, 13])
def test_two_step_funnels_match_the_walk(api, order, seed):
    # two-step funnels read only the previous row's attempt: steps that share an event, steps
    # in either order, windows shorter and longer than the gaps; no ties (those are walked)
    _assert_matches_walk(api, _hourly_events(seed, 14), order,
                         ((["a", "b"], 3), (["a", "b"], 48), (["a", "a"], 5), (["c", "a"], 24), (["x", "b"], 1)))


@pytest.mark.parametrize("order", ["ordered", "strict"])
@pytest.mark.parametrize("seed", [21, 22, 23])
def test_three_and_four_step_funnels_match_the_walk(api, order, seed):
    # ordered: three steps in one window pass, step 3 of longer ones from two numbers (module
    # doc); restarts after step 2, steps that share an event, windows shorter and longer than
    # the gaps, a fourth step on top
    _assert_matches_walk(api, _hourly_events(seed, 20, least=2), order,
                         ((["a", "b", "c"], 4), (["a", "b", "c"], 30), (["a", "b", "a"], 12), (["a", "a", "a"], 20),
                          (["b", "a", "b", "c"], 24), (["a", "b", "c", "a"], 48), (["x", "a", "b", "b"], 10)))


def test_totals_are_not_bounded_by_the_per_person_rows(api, monkeypatch):
    # a funnel without breakdown is summed up in the engine: one row, however many people convert
    monkeypatch.setattr(funnels, "PER_PERSON_LIMITS", LimitContext(default=2, maximum=2))
    send(api, [(f"p{i}", event, i * 10 + offset) for i in range(1, 6) for event, offset in (("a", 0), ("b", i))]
         + [("p6", "a", 0), ("p7", "a", 0), ("p7", "a", 5), ("p7", "b", 9)])
    # times a -> b: 1, 2, 3, 4, 5 and p7's 4 (from the later a): mean 19 / 6, median (3 + 4) / 2
    assert summary(funnel(api, ["a", "b"])) == [(7, None, None), (6, pytest.approx(19 / 6), 3.5)]


def test_walked_times_merge_with_the_engines_for_the_median(api):
    # p3's two a's share a timestamp, so p3 is walked; its 20 s lies between the engine's 10 s
    # and 40 s: the median is taken over all three, not between the engine's two
    send(api, [("p1", "a", 0), ("p1", "b", 10), ("p2", "a", 0), ("p2", "b", 40),
               ("p3", "a", 0), ("p3", "a", 0), ("p3", "b", 20), ("p4", "a", 0)])
    assert summary(funnel(api, ["a", "b"])) == [(4, None, None), (3, pytest.approx(70 / 3), 20)]
