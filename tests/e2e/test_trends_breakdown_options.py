"""Trends options computed as PostHog computes them, on a real server over DuckDB and over chdb:
histogram breakdowns, ``normalize_url``, groups counted by the active-users maths, and the
actors behind each of these data points.

The dataset is sent through ``/batch/`` to a project on UTC; every expected value below was
worked out by hand from the table in :data:`EVENTS` (PostHog's own test of the same numbers,
min 10 and max 40 in 4 bins, labels them ``[10,17.5]`` ... ``[32.5,40.01]``).
"""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from hedgerow.testing import LiveServer

pytestmark = pytest.mark.e2e

NULL, OTHER = "$$_posthog_breakdown_null_$$", "$$_posthog_breakdown_other_$$"
D1, D2, D3 = "2024-03-01", "2024-03-02", "2024-03-03"
RANGE = {"date_from": D1, "date_to": D3}

# (event, distinct id, day, hour, properties)
EVENTS = [
    # numbers binned by a histogram breakdown on "amount": min 10, max 40
    ("$pageview", "p1", D1, 9, {"amount": 10}),
    ("$pageview", "p2", D1, 10, {"amount": 20}),
    ("$pageview", "p3", D1, 11, {}),  # no amount: the null row
    ("$pageview", "p4", D1, 12, {"amount": 11}),
    ("$pageview", "p4", D1, 13, {"amount": 12}),  # p4 twice in bin 1 with two numbers
    ("$pageview", "p1", D2, 9, {"amount": 15}),
    ("$pageview", "p1", D2, 10, {"amount": 25}),  # a bin's lower bound is in it
    ("$pageview", "p2", D2, 11, {"amount": 40}),  # the largest number is in the last bin
    ("$pageview", "p3", D2, 12, {"amount": "abc"}),  # not a number: the null row
    # URLs normalised by breakdown_normalize_url
    ("visit", "p1", D1, 9, {"$current_url": "https://x.io/a/"}),
    ("visit", "p2", D1, 9, {"$current_url": "https://x.io/a"}),
    ("visit", "p3", D1, 9, {"$current_url": "https://x.io/a?"}),
    ("visit", "p1", D2, 9, {"$current_url": "https://x.io/b#"}),
    ("visit", "p2", D2, 9, {"$current_url": "https://x.io/b?q=1"}),  # a query string is kept
    ("visit", "p3", D2, 9, {"$current_url": "/"}),  # nothing left: "/"
    ("visit", "p4", D2, 9, {"$current_url": ""}),  # empty: "/" too, as in PostHog
    ("visit", "p4", D3, 9, {}),  # missing: the null row
    # groups (type 0, "company") counted by dau / weekly / monthly active
    ("purchase", "p1", D1, 9, {"$groups": {"company": "acme"}}),
    ("purchase", "p2", D1, 10, {"$groups": {"company": "acme"}}),
    ("purchase", "p3", D1, 11, {"$groups": {"company": "beta"}}),
    ("purchase", "p1", D2, 9, {"$groups": {"company": "acme"}}),
    ("purchase", "p4", D2, 10, {}),  # no group: not counted
]


@pytest.fixture(scope="module", params=["duckdb", "chdb"])
def server(request, tmp_path_factory):
    base = tmp_path_factory.mktemp(request.param)
    env = {"HEDGEROW_EVENTS_URL": f"chdb:///{base / 'events.chdb'}"} if request.param == "chdb" else {}
    with LiveServer(base / "data", env=env) as live:
        boot = live.bootstrap()
        batch = [{"event": event, "distinct_id": who, "properties": props, "uuid": str(uuid.UUID(int=n + 1)),
                  "timestamp": f"{day}T{hour:02d}:00:00+00:00"} for n, (event, who, day, hour, props) in enumerate(EVENTS)]
        response = httpx.post(f"{live.url}/batch/", json={"api_key": boot["project_api_key"], "batch": batch})
        assert response.status_code == 200, response.text
        client = httpx.Client(base_url=f"{live.url}/api/projects/{boot['project_id']}",
                              headers={"Authorization": f"Bearer {boot['personal_api_key']}"}, timeout=60)
        # The bins read "amount" as a number once its definition says so (written after the ack)
        deadline = time.monotonic() + 30
        while not any(d["name"] == "amount" and d["property_type"] == "Numeric"
                      for d in client.get("/property_definitions/", params={"search": "amount"}).json()["results"]):
            assert time.monotonic() < deadline, "the definition of 'amount' never became numeric"
            time.sleep(0.05)
        persons = {}
        for person in client.get("/persons/").json()["results"]:
            persons[person["distinct_ids"][0]] = person["id"]
        yield client, persons
        client.close()


def query(server, body: dict) -> httpx.Response:
    client, _ = server
    return client.post("/query/", json={"query": body, "refresh": "force_blocking"})


def results(server, body: dict) -> list[dict]:
    response = query(server, body)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def trends(series: list[dict], **extra) -> dict:
    return {"kind": "TrendsQuery", "series": series, "dateRange": RANGE, **extra}


def rows(found: list[dict]) -> list[tuple]:
    return [(r["breakdown_value"], r["data"]) for r in found]


def actor_names(server, source: dict, **point) -> set[str]:
    client, persons = server
    names = {pid: did for did, pid in persons.items()}
    response = query(server, {"kind": "ActorsQuery", "select": ["id"],
                              "source": {"kind": "InsightActorsQuery", "source": source, **point}})
    assert response.status_code == 200, response.text
    return {names[row[0]] for row in response.json()["results"]}


HISTOGRAM = {"breakdown": "amount", "breakdown_histogram_bin_count": 4}
BIN1, BIN2, BIN3, BIN4 = "[10,17.5]", "[17.5,25]", "[25,32.5]", "[32.5,40.01]"


# -- histogram breakdowns ------------------------------------------------------------------


def test_histogram_bins_count_events_per_bin_with_the_last_bin_closed(server):
    found = results(server, trends([{"kind": "EventsNode", "event": "$pageview"}], breakdownFilter=HISTOGRAM))
    assert rows(found) == [
        (BIN1, [3, 1, 0]),  # 10, 11, 12 | 15
        (BIN2, [1, 0, 0]),  # 20
        (BIN3, [0, 1, 0]),  # 25
        (BIN4, [0, 1, 0]),  # 40
        (NULL, [1, 1, 0]),  # missing | "abc"
    ]
    assert [r["label"] for r in found] == [BIN1, BIN2, BIN3, BIN4, NULL]


def test_histogram_unique_users_add_up_per_number_as_posthog_rolls_bins_up(server):
    # bin 1 on day 1: 10 (p1), 11 (p4), 12 (p4) -> 1 + 1 + 1, not 2 distinct persons
    found = results(server, trends([{"kind": "EventsNode", "event": "$pageview", "math": "dau"}],
                                   breakdownFilter=HISTOGRAM))
    assert rows(found)[0] == (BIN1, [3, 1, 0])


def test_histogram_total_values_limit_and_other(server):
    body = trends([{"kind": "EventsNode", "event": "$pageview"}], trendsFilter={"display": "ActionsTable"},
                  breakdownFilter={**HISTOGRAM, "breakdown_limit": 2})
    found = results(server, body)
    assert [(r["breakdown_value"], r["aggregated_value"]) for r in found] == [
        (BIN1, 4), (NULL, 2), (OTHER, 3)]  # kept: bin 1 (4) and the null row (2); bins 2-4 summed


def test_histogram_with_one_number_and_in_several_breakdowns(server):
    # only 40 on day 2 among the events of p2: one number, so every bin is [40,40] but the last
    body = trends([{"kind": "EventsNode", "event": "$pageview", "properties": [
        {"key": "amount", "value": "40", "operator": "exact", "type": "event"}]}],
        breakdownFilter={"breakdowns": [{"property": "amount", "histogram_bin_count": 2}, {"property": "amount"}]})
    assert rows(results(server, body)) == [(["[40,40.01]", "40"], [0, 1, 0])]


def test_histogram_refuses_maths_that_do_not_add_up(server):
    body = trends([{"kind": "EventsNode", "event": "$pageview", "math": "median", "math_property": "amount"}],
                  breakdownFilter=HISTOGRAM)
    response = query(server, body)
    assert response.status_code == 400 and "Median is not supported" in response.json()["detail"], response.text
    for bad in (0, -1, "x", 10_000):
        response = query(server, trends([{"kind": "EventsNode", "event": "$pageview"}],
                                         breakdownFilter={"breakdown": "amount", "breakdown_histogram_bin_count": bad}))
        assert response.status_code == 400, (bad, response.text)


def test_histogram_actors_per_bin(server):
    source = trends([{"kind": "EventsNode", "event": "$pageview"}], breakdownFilter=HISTOGRAM)
    assert actor_names(server, source, day=D1, breakdown=BIN1) == {"p1", "p4"}
    assert actor_names(server, source, day=D2, breakdown=BIN3) == {"p1"}  # 25 is in [25, 32.5)
    assert actor_names(server, source, day=D2, breakdown=[BIN3]) == {"p1"}
    assert actor_names(server, source, day=D2, breakdown=BIN4) == {"p2"}
    assert actor_names(server, source, day=D2, breakdown=NULL) == {"p3"}
    assert actor_names(server, source, day=D2, breakdown='["",""]') == {"p1", "p2", "p3"}
    response = query(server, {"kind": "ActorsQuery", "source": {"kind": "InsightActorsQuery", "source": source,
                                                                 "day": D2, "breakdown": "[1,a]"}})
    assert response.status_code == 400, response.text
    several = trends([{"kind": "EventsNode", "event": "$pageview"}], breakdownFilter={
        "breakdowns": [{"property": "amount", "histogram_bin_count": 4}, {"property": "amount"}]})
    assert actor_names(server, several, day=D2, breakdown=[BIN1, "15"]) == {"p1"}
    assert actor_names(server, several, day=D2, breakdown=[BIN1, "25"]) == set()
    # "amount" is a numeric property (its definition): "abc" is no number in either breakdown
    assert actor_names(server, several, day=D2, breakdown=[NULL, NULL]) == {"p3"}


# -- normalize_url -------------------------------------------------------------------------


def test_normalize_url_trims_trailing_slash_question_mark_and_hash(server):
    body = trends([{"kind": "EventsNode", "event": "visit"}], trendsFilter={"display": "ActionsTable"},
                  breakdownFilter={"breakdown": "$current_url", "breakdown_normalize_url": True})
    found = results(server, body)
    assert [(r["breakdown_value"], r["aggregated_value"]) for r in found] == [
        ("https://x.io/a", 3), ("/", 2), ("https://x.io/b", 1), ("https://x.io/b?q=1", 1), (NULL, 1)]
    plain = results(server, {**body, "breakdownFilter": {"breakdown": "$current_url"}})
    assert len(plain) == 7  # unnormalised: six URLs and the null row ("" is null there)


def test_normalize_url_in_several_breakdowns_and_its_actors(server):
    body = trends([{"kind": "EventsNode", "event": "visit"}], trendsFilter={"display": "ActionsTable"},
                  breakdownFilter={"breakdowns": [{"property": "$current_url", "normalize_url": True}]})
    found = results(server, body)
    assert (found[0]["breakdown_value"], found[0]["aggregated_value"]) == (["https://x.io/a"], 3)
    source = trends([{"kind": "EventsNode", "event": "visit"}],
                    breakdownFilter={"breakdown": "$current_url", "breakdown_normalize_url": True})
    assert actor_names(server, source, day=D1, breakdown="https://x.io/a") == {"p1", "p2", "p3"}
    assert actor_names(server, source, day=D2, breakdown="/") == {"p3", "p4"}


# -- groups --------------------------------------------------------------------------------


def test_active_users_maths_count_groups_given_a_group_type(server):
    def series(math: str, **extra) -> list[dict]:
        return [{"kind": "EventsNode", "event": "purchase", "math": math, "math_group_type_index": 0, **extra}]

    [dau] = results(server, trends(series("dau")))
    assert dau["data"] == [2, 1, 0]  # acme, beta | acme (p4 has no group)
    [weekly] = results(server, trends(series("weekly_active")))
    assert weekly["data"] == [2, 2, 2]
    [monthly] = results(server, trends(series("monthly_active"), trendsFilter={"display": "BoldNumber"}))
    assert monthly["aggregated_value"] == 2
    [cumulative] = results(server, trends(series("dau"), trendsFilter={"display": "ActionsLineGraphCumulative"}))
    assert cumulative["data"] == [2, 2, 2]
    [persons] = results(server, trends([{"kind": "EventsNode", "event": "purchase", "math": "dau"}]))
    assert persons["data"] == [3, 2, 0]


def test_query_level_group_type_is_echoed_and_does_not_change_the_series(server):
    # PostHog's trends read groups from each series' math_group_type_index only
    [found] = results(server, trends([{"kind": "EventsNode", "event": "purchase", "math": "dau"}],
                                     aggregation_group_type_index=0))
    assert found["data"] == [3, 2, 0] and found["filter"]["aggregation_group_type_index"] == 0
    response = query(server, trends([{"kind": "EventsNode", "event": "purchase"}], aggregation_group_type_index=5))
    assert response.status_code == 400, response.text


def test_actors_of_a_group_count_are_groups_not_persons(server):
    # acme and beta were never identified: no group row to list, and never the persons p1-p3
    source = trends([{"kind": "EventsNode", "event": "purchase", "math": "dau", "math_group_type_index": 0}])
    response = query(server, {"kind": "ActorsQuery", "source": {"kind": "InsightActorsQuery", "source": source,
                                                                 "day": D1}})
    assert response.status_code == 200, response.text
    assert response.json()["columns"] == ["group"] and response.json()["results"] == []
