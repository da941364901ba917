"""Stickiness ``intervalCount`` and group aggregation, lifecycle by group, and their actors, on
DuckDB and on chdb (the embedded ClickHouse), against answers worked out by hand.

The traffic (UTC project, ``$pageview`` days in May 2024 unless said otherwise; company is
group type 0)::

    ada    Apr 25 acme, May 1 acme, 2 acme, 4 acme, 7 acme (twice)    person created Apr 25
    bob    May 1 beta, 2 beta, 3 beta, 8 beta                         person created Apr 20
    cy     May 3 cyan, 4 acme, 10 cyan
    dee    May 2, 5, 6, 9 (no company)
    eve    May 6 delta, 7 delta (12:00)
    ghost  May 5 acme, personless

    groups: acme created May 1 09:00, beta Apr 20, delta May 7 10:00 (after eve's first
    delta event), cyan never identified (no group row)

Periods of ``intervalCount: 3`` over May 1-10 count back from May 10 23:59:59.999999: May 8-10
is period 0, May 5-7 period 1, May 2-4 period 2, May 1 period 3 (N = ceil(10 / 3) = 4).
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tests.e2e.engine_server import ENGINES, serve
from tests.e2e.engine_server import post_query as _post

pytestmark = pytest.mark.e2e

RANGE = {"date_from": "2024-05-01", "date_to": "2024-05-10"}
PV = {"kind": "EventsNode", "event": "$pageview"}


def _traffic() -> list[dict]:
    batch: list[dict] = []

    def capture(event: str, who: str, when: str, company: str | None = None, **props) -> None:
        if company is not None:
            props["$groups"] = {"company": company}
        batch.append({"event": event, "distinct_id": who, "properties": props, "timestamp": f"{when}Z",
                      "uuid": str(uuid.UUID(int=len(batch) + 1))})

    def identify_group(who: str, when: str, key: str) -> None:
        capture("$groupidentify", who, when, **{"$group_type": "company", "$group_key": key,
                                               "$group_set": {"name": key.title()}})

    identify_group("bob", "2024-04-20T08:00:00", "beta")
    capture("$pageview", "ada", "2024-04-25T10:00:00", "acme")
    identify_group("ada", "2024-05-01T09:00:00", "acme")
    for day in (1, 2, 3, 8):
        capture("$pageview", "bob", f"2024-05-0{day}T11:00:00", "beta")
    for day, hour in ((1, 10), (2, 10), (4, 10), (7, 10), (7, 18)):
        capture("$pageview", "ada", f"2024-05-0{day}T{hour}:00:00", "acme")
    capture("$pageview", "cy", "2024-05-03T12:00:00", "cyan")
    capture("$pageview", "cy", "2024-05-04T12:00:00", "acme")
    capture("$pageview", "cy", "2024-05-10T12:00:00", "cyan")
    for day in (2, 5, 6, 9):
        capture("$pageview", "dee", f"2024-05-0{day}T13:00:00")
    capture("$pageview", "eve", "2024-05-06T09:00:00", "delta")
    identify_group("eve", "2024-05-07T10:00:00", "delta")
    capture("$pageview", "eve", "2024-05-07T12:00:00", "delta")
    capture("$pageview", "ghost", "2024-05-05T14:00:00", "acme", **{"$process_person_profile": False})
    return batch


STICKINESS = {"kind": "StickinessQuery", "series": [PV], "dateRange": RANGE}
BY_COMPANY = {"aggregation_group_type_index": 0}
UNIQUE_COMPANIES = {"series": [{**PV, "math": "unique_group", "math_group_type_index": 0}]}
LIFECYCLE = {"kind": "LifecycleQuery", "series": [PV], "dateRange": RANGE, **BY_COMPANY}

STICKY_CASES = [
    # persons, active days: ada 4, bob 4, cy 3, dee 4, eve 2, ghost 1
    ({}, [1, 1, 1, 3, 0, 0, 0, 0, 0, 0]),
    # persons, periods of 3 days: ada {3,2,1}, bob {3,2,0}, cy {2,0}, dee {2,1,0}, eve {1}, ghost {1}
    ({"intervalCount": 3}, [2, 1, 3, 0]),
    # companies, active days: acme {1,2,4,5,7} (ghost's event counts), beta 4, cyan 2, delta 2
    # PostHog's stickiness counts groups only for a unique_group series: the query's
    # aggregation_group_type_index is ignored (persons, as with no option)
    (BY_COMPANY, [1, 1, 1, 3, 0, 0, 0, 0, 0, 0]),
    (UNIQUE_COMPANIES, [0, 2, 0, 1, 1, 0, 0, 0, 0, 0]),
    # companies, periods of 3 days: acme {3,2,1}, beta {3,2,0}, cyan {2,0}, delta {1}
    ({**UNIQUE_COMPANIES, "intervalCount": 3}, [1, 1, 2, 0]),
    # weeks up to Wednesday May 8: 7-day windows back from its end (May 2-8, then Apr 28 - May 1)
    # give ada, bob 2 and the rest 1; calendar weeks (Sun Apr 28 - Sat May 4, May 5 - 8) give
    # ada, bob, dee 2 and cy, eve, ghost 1
    ({"interval": "week", "dateRange": {"date_from": "2024-05-01", "date_to": "2024-05-08"}, "intervalCount": 1},
     [4, 2]),
    ({"interval": "week", "dateRange": {"date_from": "2024-05-01", "date_to": "2024-05-08"}}, [3, 3]),
    # hours up to May 8 00:00, 49 of them, in periods of 24 back from it: eve's May 6 09:00 is 39 hours
    # before (period 1) and her May 7 12:00 is 12 (period 0); dee's May 6 13:00 35 (1); ada's May 7
    # events 14 and 6 (0)
    ({"interval": "hour", "dateRange": {"date_from": "2024-05-06", "date_to": "2024-05-08"}, "intervalCount": 24},
     [2, 1, 0]),
    # months back from May 10 23:59:59.999999: ada's Apr 25 is less than a whole month before it (period
    # 0 with her May events), in calendar months it is April
    ({"interval": "month", "dateRange": {"date_from": "2024-03-15", "date_to": "2024-05-10"}, "intervalCount": 1},
     [6, 0, 0]),
    ({"interval": "month", "dateRange": {"date_from": "2024-03-15", "date_to": "2024-05-10"}}, [5, 1, 0]),
]

LIFECYCLE_BY_COMPANY = {
    # acme (new May 1) {1,2,4,7}; beta (created Apr 20) {1,2,3,8}; cyan (no group) {3,10};
    # delta {6,7}: created May 7 but active May 6 first, so May 7 is returning, not new
    "new": [1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    "returning": [0, 2, 1, 0, 0, 0, 1, 0, 0, 0],
    "resurrecting": [1, 0, 1, 1, 0, 1, 1, 1, 0, 1],
    "dormant": [0, 0, -1, -2, -1, 0, 0, -2, -1, 0],
}

ACTOR_CASES = [
    # companies active in exactly 3 periods of 3 days
    ({"kind": "InsightActorsQuery", "source": {**STICKINESS, **UNIQUE_COMPANIES, "intervalCount": 3}, "day": 3},
     ["acme", "beta"]),
    # cyan (2 periods) has no group row: left out
    ({"kind": "InsightActorsQuery", "source": {**STICKINESS, **UNIQUE_COMPANIES, "intervalCount": 3}, "day": 2}, []),
    ({"kind": "StickinessActorsQuery", "source": {**STICKINESS, **UNIQUE_COMPANIES}, "day": 2, "operator": "gte"},
     ["acme", "beta", "delta"]),
    ({"kind": "InsightActorsQuery", "source": LIFECYCLE, "day": "2024-05-02", "status": "returning"}, ["acme", "beta"]),
    ({"kind": "InsightActorsQuery", "source": LIFECYCLE, "day": "2024-05-01", "status": "new"}, ["acme"]),
    ({"kind": "InsightActorsQuery", "source": LIFECYCLE, "day": "2024-05-07", "status": "returning"}, ["delta"]),
]


@pytest.fixture(scope="module", params=ENGINES)
def served(request, tmp_path_factory):
    with serve(request.param, tmp_path_factory, _traffic()) as live:
        yield live


@pytest.mark.parametrize("options, data", STICKY_CASES)
def test_stickiness_options(served, options, data) -> None:
    [result] = _post(*served, {**STICKINESS, **options})["results"]
    assert result["data"] == data
    assert result["days"] == list(range(1, len(data) + 1))
    assert result["count"] == sum(data)


def test_stickiness_periods_are_labelled_by_interval(served) -> None:
    [result] = _post(*served, {**STICKINESS, "intervalCount": 3,
                               "stickinessFilter": {"computedAs": "cumulative"}})["results"]
    assert result["data"] == [6, 4, 3, 0] and result["count"] == 6
    assert result["labels"] == ["1 day or more", "2 days or more", "3 days or more", "4 days or more"]


def test_lifecycle_by_group(served) -> None:
    results = _post(*served, LIFECYCLE)["results"]
    assert {r["status"]: r["data"] for r in results} == LIFECYCLE_BY_COMPANY
    assert results[0]["days"][0] == "2024-05-01" and len(results[0]["days"]) == 10


@pytest.mark.parametrize("query, keys", ACTOR_CASES)
def test_group_actors(served, query, keys) -> None:
    body = _post(*served, query)
    assert body["columns"] == ["group"]
    assert [row[0]["group_key"] for row in body["results"]] == keys
    for row in body["results"]:
        group = row[0]
        assert group["id"] == group["group_key"] and group["type"] == "group" and group["group_type_index"] == 0
        assert group["properties"] == {"name": group["group_key"].title()}


def test_person_actors_of_periods(served) -> None:
    # one period of 3 days: eve and ghost; ghost is personless (no person row to list)
    body = _post(*served, {"kind": "ActorsQuery", "select": ["person", "active_intervals"], "source": {
        "kind": "InsightActorsQuery", "source": {**STICKINESS, "intervalCount": 3}, "day": 1}})
    assert [(row[0]["distinct_ids"], row[1]) for row in body["results"]] == [(["eve"], 1)]


def test_group_actors_search_and_columns(served) -> None:
    body = _post(*served, {"kind": "ActorsQuery", "select": ["key", "created_at", "active_intervals"],
                           "search": "ET", "source": {"kind": "InsightActorsQuery", "day": 3,
                                                       "source": {**STICKINESS, **UNIQUE_COMPANIES, "intervalCount": 3}}})
    assert [row[0] for row in body["results"]] == ["beta"]
    assert body["results"][0][2] == 3 and body["results"][0][1].startswith("2024-04-20")
