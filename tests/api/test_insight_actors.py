"""``ActorsQuery`` through ``POST /query/``: the persons behind insight data points, on the
hand-checked ``insights_dataset`` (America/New_York; local times in its comments)."""

from __future__ import annotations

import pytest

from tests.api import insights_dataset as data
from tests.api.test_insights import dates, project, pv  # noqa: F401  (fixture)

NULL, OTHER = "$$_posthog_breakdown_null_$$", "$$_posthog_breakdown_other_$$"
JAN = dates("2024-01-01", "2024-01-31")


def post(api, query, key=None):
    return api.post(f"/api/projects/{api.project_id}/query/", {"query": query, "refresh": "force_blocking"}, key=key)


def actors(api, source, **query):
    response = post(api, {"kind": "ActorsQuery", "source": source, **query})
    assert response.status_code == 200, response.text
    return response.json()


def ids(api, source, **query):
    return {row[0] for row in actors(api, source, select=["id"], **query)["results"]}


def point(source, **fields):
    return {"kind": "InsightActorsQuery", "source": source, **fields}


def trend(**query):
    return {"kind": "TrendsQuery", "series": [pv()], "dateRange": dates("2024-01-01", "2024-01-10"), **query}


def test_person_objects_columns_and_local_day_buckets(project):
    # A's pageview at 23:30 local on Jan 1 is in Jan 1's bucket, the one at 00:30 in Jan 2's
    body = actors(project, point(trend(), day="2024-01-01"))
    assert body["columns"] == ["person", "id", "person.$delete", "event_distinct_ids"]
    assert body["results"] == [[
        {"id": data.A, "properties": {"plan": "pro"}, "is_identified": True,
         "created_at": "2023-11-30T19:00:00-05:00", "distinct_ids": ["a"]},
        data.A, 1, ["a"],
    ]]
    assert (body["hasMore"], body["limit"], body["offset"]) == (False, 100, 0)
    assert len(body["types"]) == 4 and body["hogql"]
    assert ids(project, point(trend(), day="2024-01-02")) == {data.A}
    assert ids(project, point(trend(), day="2024-01-05")) == set()


def test_merged_persons_count_once_and_personless_actors_are_left_out(project):
    # Jan 6-8: C (through the merged c-anon), F, and ghost, who has no person row
    body = actors(project, point(trend(trendsFilter={"display": "BoldNumber"}), day=None),
                  select=["actor", "event_count"], orderBy=["event_count DESC"])
    assert [(row[0]["id"], row[1]) for row in body["results"]] == [
        (data.A, 3), (data.B, 1), (data.C, 1), (data.D, 1), (data.F, 1)]
    assert body["results"][2][0]["distinct_ids"] == ["c", "c-anon"]
    firsts = actors(project, point(trend(series=[pv(math="first_time_for_user")]), day="2024-01-06"),
                    select=["id", "event_distinct_ids"])
    assert firsts["results"] == [[data.C, ["c-anon"]]]


def test_trends_breakdown_values_null_row_other_and_compare(project):
    source = trend(dateRange=JAN, breakdownFilter={"breakdown": "$browser", "breakdown_limit": 2},
                   trendsFilter={"display": "ActionsTable"})
    assert ids(project, point(source, breakdown="Chrome")) == {data.A, data.F}
    assert ids(project, point(source, breakdown=NULL)) == set()  # only ghost has no value, and no person
    assert ids(project, point(source, breakdown=OTHER)) == {data.B, data.C, data.D, data.E}
    compared = trend(dateRange=dates("2024-01-08", "2024-01-10"), compareFilter={"compare": True})
    assert ids(project, point(compared, day="2024-01-10", compare="current")) == {data.D}
    assert ids(project, point(compared, day="2024-01-06", compare="previous")) == {data.C}


def test_actors_of_several_breakdowns(project):
    source = trend(dateRange=JAN, trendsFilter={"display": "ActionsTable", "formula": "A"}, breakdownFilter={
        "breakdowns": [{"property": "$browser"}, {"property": "plan", "type": "person"}]})
    rows = post(project, source).json()["results"]
    assert {tuple(r["breakdown_value"]): r["aggregated_value"] for r in rows}[("Chrome", "pro")] == 4
    assert ids(project, point(source, breakdown=["Chrome", "pro"])) == {data.A, data.F}
    assert ids(project, point(source, breakdown=["Safari", NULL])) == {data.C}


def test_weekly_active_users_of_a_day_span_seven_days(project):
    source = trend(series=[pv(math="weekly_active")], dateRange=dates("2024-01-08", "2024-01-10"))
    assert ids(project, point(source, day="2024-01-08")) == {data.A, data.B, data.C, data.F}


def test_funnel_steps_drop_offs_and_breakdowns(project):
    funnel = {"kind": "FunnelsQuery", "series": [pv(), {"kind": "EventsNode", "event": "signup"}], "dateRange": JAN}
    steps = lambda n, **kw: {"kind": "FunnelsActorsQuery", "source": funnel, "funnelStep": n, **kw}  # noqa: E731
    assert ids(project, steps(1)) == {data.A, data.B, data.C, data.D, data.E, data.F}
    # B signs up 17 days after the pageview, past the 14-day window
    assert ids(project, steps(2)) == {data.A, data.C, data.D}
    assert ids(project, steps(-2)) == {data.B, data.E, data.F}
    funnel["breakdownFilter"] = {"breakdown": "$browser"}
    assert ids(project, steps(2, funnelStepBreakdown="Chrome")) == {data.A}
    assert ids(project, steps(-2, funnelStepBreakdown="Chrome")) == {data.F}


def test_funnel_trends_converted_and_dropped_off_by_entrance_period(project):
    funnel = {"kind": "FunnelsQuery", "series": [pv(), {"kind": "EventsNode", "event": "signup"}],
              "dateRange": dates("2024-01-01", "2024-01-11"), "funnelsFilter": {"funnelVizType": "trends"}}

    def period(start, drop_off):
        return {"kind": "FunnelsActorsQuery", "source": funnel, "funnelTrendsEntrancePeriodStart": start,
                "funnelTrendsDropOff": drop_off}

    # as in test_funnel_trends: A converts from Jan 1 and Jan 2 (one signup serves both) but not
    # from Jan 9; on Jan 6 C converts (the ghost, who dropped off, has no person); D on Jan 10
    assert ids(project, period("2024-01-01 00:00:00", False)) == {data.A}
    assert ids(project, period("2024-01-02", False)) == {data.A}
    assert ids(project, period("2024-01-09 00:00:00", False)) == set()
    assert ids(project, period("2024-01-09 00:00:00", True)) == {data.A}
    assert ids(project, period("2024-01-06 00:00:00", False)) == {data.C}
    assert ids(project, period("2024-01-06 00:00:00", True)) == set()
    assert ids(project, period("2024-01-10 00:00:00", False)) == {data.D}
    assert ids(project, period("2024-01-10 00:00:00", True)) == set()
    assert ids(project, period("2024-01-06 10:00:00", False)) == set()  # no period starts there
    missing = post(project, {"kind": "ActorsQuery", "source": {
        "kind": "FunnelsActorsQuery", "source": funnel, "funnelTrendsEntrancePeriodStart": "2024-01-01"}})
    assert missing.status_code == 400 and missing.json()["attr"] == "funnelTrendsDropOff", missing.text
    bad = post(project, {"kind": "ActorsQuery", "source": period("soon", False)})
    assert bad.status_code == 400 and bad.json()["attr"] == "funnelTrendsEntrancePeriodStart", bad.text


def test_retention_cohort_rows(project):
    retention = {"kind": "RetentionQuery", "dateRange": dates("2024-01-01", "2024-01-10"),
                 "retentionFilter": {"period": "Week", "totalIntervals": 2}}
    # weeks start on Sunday: Dec 31 - Jan 6 and Jan 7 - 13 (the range runs to the end of date_to's
    # week, so E's pageview on Jan 11 is in; ghost has no person)
    assert ids(project, point(retention, interval=0)) == {data.A, data.B, data.C}
    assert ids(project, point(retention, interval=1)) == {data.A, data.D, data.E, data.F}
    body = actors(project, point(retention, interval=0), select=["id", "appearances", "week_1"],
                  orderBy=["length(appearances) DESC", "id"])
    # A comes back in week 1 (Jan 9); B and C do not
    assert body["results"] == [[data.A, [0, 1], True], [data.B, [0], False], [data.C, [0], False]]


def test_stickiness_lifecycle_and_paths(project):
    sticky = {"kind": "StickinessQuery", "series": [pv()], "dateRange": dates("2024-01-01", "2024-01-10")}
    assert ids(project, point(sticky, day=3)) == {data.A}
    assert ids(project, {"kind": "StickinessActorsQuery", "source": sticky, "day": 2, "operator": "lte"}) \
        == {data.B, data.C, data.D, data.F}
    lifecycle = {"kind": "LifecycleQuery", "series": [pv()], "dateRange": dates("2024-01-01", "2024-01-10")}
    assert ids(project, point(lifecycle, day="2024-01-03", status="dormant")) == {data.A}
    assert ids(project, point(lifecycle, day="2024-01-07", status="new")) == {data.F}
    assert ids(project, point(lifecycle, day="2024-01-09", status="resurrecting")) == {data.A}
    paths = {"kind": "PathsQuery", "dateRange": JAN,
             "pathsFilter": {"pathStartKey": "1_https://x.com", "pathEndKey": "2_click"}}
    assert ids(project, point(paths)) == {data.D}
    paths["pathsFilter"] = {"pathDropoffKey": "3_signup"}
    assert ids(project, point(paths)) == {data.D}


def test_pages_search_and_person_filters(project):
    everyone = point(trend(dateRange=JAN, trendsFilter={"display": "BoldNumber"}))
    first = actors(project, everyone, select=["id"], limit=2)
    second = actors(project, everyone, select=["id"], limit=2, offset=2)
    last = actors(project, everyone, select=["id"], limit=2, offset=4)
    assert (first["hasMore"], second["hasMore"], last["hasMore"]) == (True, True, False)
    listed = [row[0] for body in (first, second, last) for row in body["results"]]
    assert listed == sorted([data.A, data.B, data.C, data.D, data.E, data.F])
    assert ids(project, everyone, search="c-an") == {data.C}
    assert ids(project, everyone, properties=[{"key": "plan", "value": "pro", "type": "person"}]) == {data.A, data.F}
    direct = post(project, point(trend(), day="2024-01-09"))
    assert direct.status_code == 200 and direct.json()["results"][0][1] == data.A


@pytest.mark.parametrize("query", [
    {"kind": "ActorsQuery", "source": point(trend(), day="2023-12-01")},
    {"kind": "ActorsQuery", "source": point(trend(), series=3)},
    {"kind": "ActorsQuery", "source": point(trend()), "select": ["count()"]},
    {"kind": "ActorsQuery", "source": point(trend()), "limit": -1},
    {"kind": "ActorsQuery", "source": {"kind": "FunnelsActorsQuery", "source": trend(), "funnelStep": 1}},
    {"kind": "ActorsQuery", "source": {"kind": "FunnelsActorsQuery", "funnelStep": -1, "source": {
        "kind": "FunnelsQuery", "series": [pv(), pv()]}}},
    {"kind": "ActorsQuery", "source": point({"kind": "LifecycleQuery", "series": [pv()]}, day="2024-01-09")},
    {"kind": "ActorsQuery", "source": point({"kind": "StickinessQuery", "series": [pv()]}, day="x")},
    {"kind": "ActorsQuery", "source": point({"kind": "PathsQuery", "pathsFilter": {}})},
    {"kind": "ActorsQuery", "source": point({"kind": "HogQLQuery", "query": "select 1"})},
    {"kind": "ActorsQuery", "source": {"kind": "FunnelsActorsQuery", "funnelStep": 2, "source": {
        "kind": "FunnelsQuery", "series": [pv(), pv()],
        "funnelsFilter": {"funnelAggregateByHogQL": "properties.$session_id"}}}},
    # groups have no person columns nor person filters
    {"kind": "ActorsQuery", "select": ["person"], "source": point(trend(
        series=[{**pv(), "math": "unique_group", "math_group_type_index": 0}]), day="2024-01-09")},
    {"kind": "ActorsQuery", "select": ["event_distinct_ids"], "source": point(trend(
        series=[{**pv(), "math": "unique_group", "math_group_type_index": 0}]), day="2024-01-09")},
    {"kind": "ActorsQuery", "properties": [{"key": "plan", "value": "pro", "type": "person"}], "source": point(
        {"kind": "RetentionQuery", "retentionFilter": {}, "aggregation_group_type_index": 0}, interval=0)},
    {"kind": "ActorsQuery", "source": {"kind": "FunnelsActorsQuery", "funnelStep": 9, "source": {
        "kind": "FunnelsQuery", "series": [pv(), pv()], "aggregation_group_type_index": 0}}},
    {"kind": "ActorsQuery", "source": point({"kind": "RetentionQuery", "retentionFilter": {}}, interval=99)},
    {"kind": "ActorsQuery", "source": point(trend(breakdownFilter={"breakdown": [1], "breakdown_type": "cohort"}),
                                            breakdown=2)},
    {"kind": "InsightActorsQuery", "source": "nope"},
])
def test_hostile_actors_queries_are_400(project, query):
    response = post(project, query)
    assert response.status_code == 400, response.text
    assert set(response.json()) >= {"type", "code", "detail", "attr"}


def test_an_agent_without_person_read_is_refused_actors(project):
    services = project.services
    organization = services.projects.get(project.project_id).organization_id
    _, _, key = services.agents.create(services.projects.operator(), organization, "analyst",
                                       {"query": "read"}, [project.project_id], None)
    refused = post(project, {"kind": "ActorsQuery", "source": point(trend(), day="2024-01-09")}, key=key)
    assert refused.status_code == 403 and "person" in refused.json()["detail"]
    assert post(project, trend(), key=key).status_code == 200
