"""The groups behind trends series counting groups, retention and funnels aggregated by group,
on DuckDB and on chdb (the embedded ClickHouse), against answers worked out by hand.

The traffic (UTC project, May 2024; company is group type 0; ``pv`` is ``$pageview``)::

    ada    May 1 10:00 pv acme, 11:00 signup acme; May 3 10:00 pv acme
    bob    May 1 11:00 pv beta; May 2 11:00 pv beta
    cy     May 1 12:00 pv cyan; May 2 12:00 signup cyan
    dee    May 2 13:00 pv, 14:00 signup (no company)
    eve    May 2 15:00 pv beta; May 4 09:00 signup beta, 10:00 pv beta
    fay    May 3 16:00 pv delta

    groups: acme, beta, delta identified on Apr 20; cyan never identified (no group row, so
    counted but never listed)

Companies with a pageview, by day: May 1 acme, beta, cyan; May 2 beta (bob and eve); May 3 acme,
delta; May 4 beta.
"""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.engine_server import ENGINES, post_query, serve

pytestmark = pytest.mark.e2e

RANGE = {"date_from": "2024-05-01", "date_to": "2024-05-04"}
PV = {"kind": "EventsNode", "event": "$pageview"}
SIGNUP = {"kind": "EventsNode", "event": "signup"}


def _traffic() -> list[dict]:
    batch: list[dict] = []

    def capture(event: str, who: str, when: str, company: str | None = None, **props) -> None:
        if company is not None:
            props["$groups"] = {"company": company}
        batch.append({"event": event, "distinct_id": who, "properties": props, "timestamp": f"2024-{when}Z",
                      "uuid": str(uuid.UUID(int=len(batch) + 1))})

    for who, key in (("ada", "acme"), ("bob", "beta"), ("fay", "delta")):
        capture("$groupidentify", who, "04-20T08:00:00", **{"$group_type": "company", "$group_key": key,
                                                            "$group_set": {"name": key.title()}})
    capture("$pageview", "ada", "05-01T10:00:00", "acme")
    capture("signup", "ada", "05-01T11:00:00", "acme")
    capture("$pageview", "ada", "05-03T10:00:00", "acme")
    capture("$pageview", "bob", "05-01T11:00:00", "beta")
    capture("$pageview", "bob", "05-02T11:00:00", "beta")
    capture("$pageview", "cy", "05-01T12:00:00", "cyan")
    capture("signup", "cy", "05-02T12:00:00", "cyan")
    capture("$pageview", "dee", "05-02T13:00:00")
    capture("signup", "dee", "05-02T14:00:00")
    capture("$pageview", "eve", "05-02T15:00:00", "beta")
    capture("signup", "eve", "05-04T09:00:00", "beta")
    capture("$pageview", "eve", "05-04T10:00:00", "beta")
    capture("$pageview", "fay", "05-03T16:00:00", "delta")
    return batch


@pytest.fixture(scope="module", params=ENGINES)
def served(request, tmp_path_factory):
    with serve(request.param, tmp_path_factory, _traffic()) as live:
        yield live


def _keys(body: dict) -> list[str]:
    assert body["columns"][0] == "group"
    for row in body["results"]:
        group = row[0]
        assert group["type"] == "group" and group["group_type_index"] == 0 and group["id"] == group["group_key"]
        assert group["properties"] == {"name": group["group_key"].title()}
    return [row[0]["group_key"] for row in body["results"]]


def _point(source: dict, **point) -> dict:
    return {"kind": "InsightActorsQuery", "source": source, **point}


# -- trends ---------------------------------------------------------------------------------------

COMPANIES = {"math_group_type_index": 0}
TRENDS = {"kind": "TrendsQuery", "dateRange": RANGE, "interval": "day"}


def _trends(math: str, **options) -> dict:
    return {**TRENDS, "series": [{**PV, "math": math, **COMPANIES}], **options}


def test_trends_counting_groups(served) -> None:
    [result] = post_query(*served, _trends("unique_group"))["results"]
    assert result["data"] == [3, 1, 2, 1]


TREND_ACTORS = [
    (_point(_trends("unique_group"), day="2024-05-01"), ["acme", "beta"]),  # cyan has no group row
    (_point(_trends("unique_group"), day="2024-05-03"), ["acme", "delta"]),
    (_point(_trends("dau"), day="2024-05-02"), ["beta"]),  # dee's pageview has no company
    # the 7 days up to May 4: every company with a pageview
    (_point(_trends("weekly_active"), day="2024-05-04"), ["acme", "beta", "delta"]),
    (_point(_trends("unique_group", trendsFilter={"display": "BoldNumber"})), ["acme", "beta", "delta"]),
]


@pytest.mark.parametrize("query, keys", TREND_ACTORS)
def test_trends_group_actors(served, query, keys) -> None:
    assert _keys(post_query(*served, query)) == keys


def test_trends_group_actors_columns(served) -> None:
    # beta's two pageviews of May 2 (bob's and eve's); as PostHog, no event_distinct_ids for groups
    source = _point(_trends("unique_group"), day="2024-05-02")
    body = post_query(*served, {"kind": "ActorsQuery", "select": ["group", "event_count"], "source": source})
    assert [(row[0]["group_key"], row[1]) for row in body["results"]] == [("beta", 2)]
    assert post_query(*served, source)["columns"] == ["group"]


def test_trends_person_actors_unchanged(served) -> None:
    body = post_query(*served, _point({**TRENDS, "series": [{**PV, "math": "dau"}]}, day="2024-05-02"))
    assert sorted(row[0]["distinct_ids"][0] for row in body["results"]) == ["bob", "dee", "eve"]


# -- retention ------------------------------------------------------------------------------------

RETENTION = {"kind": "RetentionQuery", "dateRange": RANGE, "aggregation_group_type_index": 0,
             "retentionFilter": {"period": "Day", "totalIntervals": 4, "retentionType": "retention_recurring",
                                 "targetEntity": {"id": "$pageview", "type": "events"},
                                 "returningEntity": {"id": "$pageview", "type": "events"}}}
# companies active: acme May {1, 3}, beta {1, 2, 4}, cyan {1}, delta {3}
RETENTION_BY_COMPANY = [[3, 1, 1, 1], [1, 0, 1], [2, 0], [1]]
# persons active: ada {1, 3}, bob {1, 2}, cy {1}, dee {2}, eve {2, 4}, fay {3}
RETENTION_BY_PERSON = [[3, 1, 1, 0], [3, 0, 1], [2, 0], [1]]


@pytest.mark.parametrize("aggregation, cohorts", [(0, RETENTION_BY_COMPANY), (None, RETENTION_BY_PERSON)])
def test_retention_counts(served, aggregation, cohorts) -> None:
    results = post_query(*served, {**RETENTION, "aggregation_group_type_index": aggregation})["results"]
    assert [row["date"][:10] for row in results] == ["2024-05-01", "2024-05-02", "2024-05-03", "2024-05-04"]
    # columns past the end of the range are left out of the comparison
    assert [[v["count"] for v in row["values"][:len(want)]] for row, want in zip(results, cohorts)] == cohorts


def test_retention_group_actors(served) -> None:
    body = post_query(*served, {"kind": "ActorsQuery", "select": ["group", "appearances"],
                                "source": _point(RETENTION, interval=0)})
    assert _keys(body) == ["acme", "beta"]  # cyan has no group row
    assert [row[1] for row in body["results"]] == [[0, 2], [0, 1, 3]]
    assert _keys(post_query(*served, _point(RETENTION, interval=2))) == ["acme", "delta"]


def test_first_time_retention_group_actors(served) -> None:
    # a company's cohort is the day of its first pageview: acme's May 3 return is not a cohort
    options = {**RETENTION["retentionFilter"], "retentionType": "retention_first_time"}
    query = {**RETENTION, "retentionFilter": options}
    assert [row["values"][0]["count"] for row in post_query(*served, query)["results"]] == [3, 0, 1, 0]
    assert _keys(post_query(*served, _point(query, interval=2))) == ["delta"]


# -- funnels --------------------------------------------------------------------------------------

FUNNEL = {"kind": "FunnelsQuery", "series": [PV, SIGNUP], "dateRange": RANGE, "aggregation_group_type_index": 0}


def test_funnel_by_group_counts(served) -> None:
    # beta converts across persons: bob's pageview, eve's signup; delta never signs up
    steps = post_query(*served, FUNNEL)["results"]
    assert [step["count"] for step in steps] == [4, 3]


FUNNEL_ACTORS = [
    ({"funnelStep": 1}, ["acme", "beta", "delta"]),
    ({"funnelStep": 2}, ["acme", "beta"]),  # cyan converted but has no group row
    ({"funnelStep": -2}, ["delta"]),
]


@pytest.mark.parametrize("point, keys", FUNNEL_ACTORS)
def test_funnel_group_actors(served, point, keys) -> None:
    assert _keys(post_query(*served, {"kind": "FunnelsActorsQuery", "source": FUNNEL, **point})) == keys


def test_funnel_trends_group_actors(served) -> None:
    query = {**FUNNEL, "funnelsFilter": {"funnelVizType": "trends"}, "interval": "day"}
    body = post_query(*served, {"kind": "FunnelsActorsQuery", "source": query, "funnelTrendsDropOff": False,
                                "funnelTrendsEntrancePeriodStart": "2024-05-01"})
    assert _keys(body) == ["acme", "beta"]
