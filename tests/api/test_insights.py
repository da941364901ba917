"""Insight query kinds through ``POST /query/`` on a real DuckDB, against hand-computed answers.

The dataset (``insights_dataset``) lives in a project on America/New_York; every expected value
below was worked out by hand from its table (local times in its comments).
"""

from __future__ import annotations

import datetime as dt

import pytest

from hedgerow import clock
from tests.api import insights_dataset as data

NULL, OTHER = "$$_posthog_breakdown_null_$$", "$$_posthog_breakdown_other_$$"
NOW = dt.datetime(2024, 1, 10, 15, 0, tzinfo=dt.timezone.utc)  # Wed Jan 10 10:00 local


@pytest.fixture
def project(api, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    api.services.projects.update(api.services.projects.get(api.project_id), {"timezone": data.TIMEZONE})
    cursor = api.services.events.cursor()
    data.load(cursor, api.project_id)
    cursor.close()
    return api


def run(api, query):
    response = api.post(f"/api/projects/{api.project_id}/query/", {"query": query, "refresh": "force_blocking"})
    assert response.status_code == 200, response.text
    return response.json()


def trends(api, **query):
    return run(api, {"kind": "TrendsQuery", **query})["results"]


def pv(**extra):
    return {"kind": "EventsNode", "event": "$pageview", **extra}


def dates(date_from, date_to, **extra):
    return {"date_from": date_from, "date_to": date_to, **extra}


# -- trends ----------------------------------------------------------------------------------


def test_daily_totals_use_local_days(project):
    [series] = trends(project, series=[pv()], dateRange=dates("2024-01-01", "2024-01-10"))
    assert series["days"] == [f"2024-01-{d:02d}" for d in range(1, 11)]
    assert series["data"] == [1, 1, 1, 0, 0, 2, 1, 1, 1, 1]
    assert series["count"] == 9.0
    assert series["labels"][:2] == ["1-Jan-2024", "2-Jan-2024"]
    assert series["label"] == "$pageview" and series["action"]["id"] == "$pageview"
    assert series["filter"]["insight"] == "TRENDS"


def test_relative_range_is_eight_local_days(project):
    [series] = trends(project, series=[pv()], dateRange={"date_from": "-7d"})
    assert series["days"][0] == "2024-01-03" and series["days"][-1] == "2024-01-10"
    assert series["data"] == [1, 0, 0, 2, 1, 1, 1, 1]


def test_weeks_start_on_sunday_by_default(project):
    [series] = trends(project, series=[pv()], interval="week", dateRange=dates("2024-01-01", "2024-01-13"))
    assert series["days"] == ["2023-12-31", "2024-01-07"]
    assert series["data"] == [5, 5]
    assert series["labels"] == ["1–6 Jan", "7–13 Jan"]


def test_weeks_start_on_monday_when_the_project_says_so(project):
    project.services.projects.update(project.services.projects.get(project.project_id), {"week_start_day": 1})
    [series] = trends(project, series=[pv()], interval="week", dateRange=dates("2024-01-01", "2024-01-13"))
    assert series["days"] == ["2024-01-01", "2024-01-08"]
    assert series["data"] == [6, 4]


def test_hourly_buckets_with_explicit_dates(project):
    rng = dates("2024-01-01T23:00:00", "2024-01-02T01:59:59", explicitDate=True)
    [series] = trends(project, series=[pv()], interval="hour", dateRange=rng)
    assert series["days"] == ["2024-01-01 23:00:00", "2024-01-02 00:00:00", "2024-01-02 01:00:00"]
    assert series["data"] == [1, 1, 0]


def test_unique_users_follow_merges_and_count_personless_events(project):
    [series] = trends(project, series=[{"kind": "EventsNode", "event": None, "math": "dau"}],
                      dateRange=dates("2024-01-01", "2024-01-10"), trendsFilter={"display": "BoldNumber"})
    # A, B, C (c-anon merged into c), ghost, F, D; E's events are later
    assert series["aggregated_value"] == 6
    assert series["label"] == "All events" and series["data"] == [] and series["count"] == 0


def test_weekly_active_users_per_day(project):
    [series] = trends(project, series=[pv(math="weekly_active")], dateRange=dates("2024-01-08", "2024-01-10"))
    assert series["data"] == [5, 5, 5]


def test_property_maths(project):
    rng = dates("2024-01-01", "2024-01-10")
    total = {"display": "ActionsTable"}
    [summed] = trends(project, series=[pv(math="sum", math_property="amount")], dateRange=rng, trendsFilter=total)
    [average] = trends(project, series=[pv(math="avg", math_property="amount")], dateRange=rng, trendsFilter=total)
    [median] = trends(project, series=[pv(math="median", math_property="amount")], dateRange=rng, trendsFilter=total)
    [top] = trends(project, series=[pv(math="max", math_property="amount")], dateRange=rng, trendsFilter=total)
    assert (summed["aggregated_value"], average["aggregated_value"]) == (100, 25)
    assert (median["aggregated_value"], top["aggregated_value"]) == (25, 40)


def test_breakdown_limit_other_and_null_rows(project):
    results = trends(project, series=[pv()], dateRange=dates("2024-01-01", "2024-01-31"),
                     breakdownFilter={"breakdown": "$browser", "breakdown_limit": 2},
                     trendsFilter={"display": "BoldNumber"})
    assert [(r["breakdown_value"], r["aggregated_value"]) for r in results] == [("Chrome", 4), (NULL, 2), (OTHER, 4)]
    body = run(project, {"kind": "TrendsQuery", "series": [pv()], "dateRange": dates("2024-01-01", "2024-01-31"),
                         "breakdownFilter": {"breakdown": "$browser", "breakdown_limit": 2}})
    assert body["hasMore"] is True
    assert [r["label"] for r in body["results"]] == ["Chrome", NULL, OTHER]


def test_person_property_breakdown(project):
    results = trends(project, series=[pv()], dateRange=dates("2024-01-01", "2024-01-31"),
                     breakdownFilter={"breakdown": "plan", "breakdown_type": "person"},
                     trendsFilter={"display": "ActionsPie"})
    assert [(r["breakdown_value"], r["aggregated_value"]) for r in results] == [("pro", 4), ("free", 1), (NULL, 5)]


def test_property_filters_global_and_per_series(project):
    chrome = [{"key": "$browser", "value": "Chrome", "operator": "exact", "type": "event"}]
    pro = [{"key": "plan", "value": ["pro"], "operator": "exact", "type": "person"}]
    rng, total = dates("2024-01-01", "2024-01-31"), {"display": "BoldNumber"}
    [series] = trends(project, series=[pv(properties=chrome)], dateRange=rng, trendsFilter=total)
    assert series["aggregated_value"] == 4
    [series] = trends(project, series=[{"kind": "EventsNode", "event": None}], properties=pro, dateRange=rng,
                      trendsFilter=total, filterTestAccounts=False)
    assert series["aggregated_value"] == 5  # A's four events and F's pageview


def test_compare_to_previous_period(project):
    current, previous = trends(project, series=[pv()], dateRange=dates("2024-01-08", "2024-01-10"),
                               compareFilter={"compare": True})
    assert (current["compare_label"], current["days"], current["data"]) == (
        "current", ["2024-01-08", "2024-01-09", "2024-01-10"], [1, 1, 1])
    assert (previous["compare_label"], previous["days"], previous["data"]) == (
        "previous", ["2024-01-05", "2024-01-06", "2024-01-07"], [0, 2, 1])


def test_invalid_math_is_a_400(project):
    response = project.post(f"/api/projects/{project.project_id}/query/",
                            {"query": {"kind": "TrendsQuery", "series": [pv(math="sum")]}})
    assert response.status_code == 400 and response.json()["type"] == "validation_error"


# -- funnels ---------------------------------------------------------------------------------


def funnel(api, steps, **filters):
    query = {"kind": "FunnelsQuery", "series": [{"kind": "EventsNode", "event": s} for s in steps],
             "dateRange": dates("2024-01-01", "2024-01-31"), "funnelsFilter": filters}
    return run(api, query)["results"]


def counts(steps):
    return [(s["name"], s["count"], s["average_conversion_time"], s["median_conversion_time"]) for s in steps]


def test_ordered_funnel_window_is_measured_from_the_first_step(project):
    steps = funnel(project, ["$pageview", "click", "signup"])
    # seven entrants (A, B, C, ghost, F, D, E); D converts in 60 s + 60 s; E clicks after 9 days but signs up 16 days after its first step
    assert counts(steps) == [("$pageview", 7, None, None), ("click", 2, 388830, 388830), ("signup", 1, 60, 60)]
    assert [s["order"] for s in steps] == [0, 1, 2] and steps[1]["action_id"] == "click"


def test_ordered_vs_strict(project):
    ordered = funnel(project, ["$pageview", "signup"])
    assert counts(ordered) == [("$pageview", 7, None, None), ("signup", 3, 29440, 1800)]
    strict = funnel(project, ["$pageview", "signup"], funnelOrderType="strict")
    assert counts(strict) == [("$pageview", 7, None, None), ("signup", 2, 44100, 44100)]


def test_exclusions_drop_the_person(project):
    exclusion = [{"kind": "EventsNode", "event": "click", "funnelFromStep": 0, "funnelToStep": 1}]
    steps = funnel(project, ["$pageview", "signup"], exclusions=exclusion)
    assert [s["count"] for s in steps] == [5, 2]  # D and E clicked in between


def test_unordered_funnel(project):
    steps = funnel(project, ["signup", "$pageview"], funnelOrderType="unordered")
    assert [(s["name"], s["count"], s["action_id"]) for s in steps] == [
        ("Completed 1 step", 7, None), ("Completed 2 steps", 3, None)]


def test_funnel_window_unit(project):
    steps = funnel(project, ["$pageview", "signup"], funnelWindowInterval=1, funnelWindowIntervalUnit="hour")
    assert [s["count"] for s in steps] == [7, 2]  # A (30 min) and D (2 min); C took a day


def test_funnel_breakdown_first_touch(project):
    results = run(project, {"kind": "FunnelsQuery", "series": [pv(), {"kind": "EventsNode", "event": "signup"}],
                            "dateRange": dates("2024-01-01", "2024-01-31"),
                            "breakdownFilter": {"breakdown": "$browser"}})["results"]
    by_value = {group[0]["breakdown_value"]: [s["count"] for s in group] for group in results}
    assert by_value == {"Chrome": [2, 1], "Safari": [1, 1], "Edge": [1, 1], "Firefox": [1, 0], "Opera": [1, 0],
                        "": [1, 0]}
    assert results[0][0]["breakdown_value"] in ("Chrome", "Safari", "Edge")


def test_funnel_without_entrants_is_empty(project):
    assert funnel(project, ["nothing", "signup"]) == []


# -- retention, stickiness, lifecycle ----------------------------------------------------------


def retention(api, retention_type):
    query = {"kind": "RetentionQuery", "dateRange": dates("2024-01-05", "2024-01-09"),
             "retentionFilter": {"period": "Day", "totalIntervals": 3, "retentionType": retention_type}}
    return run(api, query)["results"]


def test_recurring_retention(project):
    rows = retention(project, "retention_recurring")
    assert [r["label"] for r in rows] == ["Day 0", "Day 1", "Day 2", "Day 3", "Day 4"]
    assert rows[0]["date"] == "2024-01-05T00:00:00-05:00"
    assert [[v["count"] for v in r["values"]] for r in rows] == [[0, 0, 0], [2, 0, 1], [1, 0, 0], [1, 0, 0], [1, 0, 0]]
    assert [v["label"] for v in rows[1]["values"]] == ["Day 0", "Day 1", "Day 2"]


def test_first_time_retention_keeps_only_first_ever_cohorts(project):
    rows = retention(project, "retention_first_time")
    # A and B first came before the range, D after it; C (merged) and the ghost on Jan 6, F on Jan 7
    assert [[v["count"] for v in r["values"]] for r in rows] == [[0, 0, 0], [2, 0, 1], [1, 0, 0], [0, 0, 0], [0, 0, 0]]


def test_stickiness_by_day_and_week(project):
    [daily] = run(project, {"kind": "StickinessQuery", "series": [pv()],
                            "dateRange": dates("2024-01-01", "2024-01-10")})["results"]
    assert daily["data"] == [4, 1, 1, 0, 0, 0, 0, 0, 0, 0] and daily["count"] == 6
    assert daily["days"][:3] == [1, 2, 3] and daily["labels"][:2] == ["1 day", "2 days"]
    [weekly] = run(project, {"kind": "StickinessQuery", "series": [pv()], "interval": "week",
                             "dateRange": dates("2024-01-01", "2024-01-13")})["results"]
    assert weekly["data"] == [5, 2] and weekly["labels"] == ["1 week", "2 weeks"]


def test_lifecycle(project):
    results = run(project, {"kind": "LifecycleQuery", "series": [pv()],
                            "dateRange": dates("2024-01-05", "2024-01-10")})["results"]
    assert [r["status"] for r in results] == ["new", "returning", "resurrecting", "dormant"]
    assert {r["status"]: r["data"] for r in results} == {
        "new": [0, 0, 1, 0, 0, 0],
        "returning": [0, 0, 0, 0, 0, 0],
        "resurrecting": [0, 1, 0, 0, 1, 1],
        "dormant": [0, 0, -1, -1, 0, -1],
    }
    # the ghost's events are personless: no lifecycle
    assert results[3]["label"] == "$pageview - dormant" and results[3]["count"] == -3


def test_date_from_all_starts_at_the_first_event(project):
    [series] = trends(project, series=[pv()], dateRange=dates("all", "2024-01-03"))
    assert (series["days"], series["data"]) == (["2024-01-01", "2024-01-02", "2024-01-03"], [1, 1, 1])


def test_cumulative_unique_users_count_each_person_once(project):
    [series] = trends(project, series=[pv(math="dau")], dateRange=dates("2024-01-01", "2024-01-10"),
                      trendsFilter={"display": "ActionsLineGraphCumulative"})
    # first pageview days: A Jan 1, B Jan 3, C and ghost Jan 6, F Jan 7, D Jan 10
    assert series["data"] == [1, 1, 2, 2, 2, 4, 5, 5, 5, 6] and series["count"] == 6


def test_smoothing_is_a_floored_moving_average(project):
    [series] = trends(project, series=[pv()], dateRange=dates("2024-01-04", "2024-01-08"),
                      trendsFilter={"smoothingIntervals": 2})
    # raw [0, 0, 2, 1, 1] -> [0, 0, 1, 1, 1]
    assert series["data"] == [0, 0, 1, 1, 1]


def test_formulas_replace_the_series(project):
    series = [pv(), {"kind": "EventsNode", "event": "signup"}]
    [result] = trends(project, series=series, dateRange=dates("2024-01-01", "2024-01-31"),
                      trendsFilter={"display": "BoldNumber", "formulaNodes": [{"formula": "B / A * 100"}]})
    # 5 signups (A, B, C, D, E) over 10 pageviews
    assert result["aggregated_value"] == 50.0
    assert result["label"] == "Formula (B / A * 100)" and result["action"] is None
    [daily] = trends(project, series=series, dateRange=dates("2024-01-01", "2024-01-03"),
                     trendsFilter={"formula": "A - B"})
    assert daily["data"] == [1.0, 0.0, 1.0] and daily["count"] == 2.0


def test_formula_with_breakdown_groups_by_value(project):
    series = [pv(), pv(math="dau")]
    results = trends(project, series=series, dateRange=dates("2024-01-01", "2024-01-31"),
                     breakdownFilter={"breakdown": "$browser"},
                     trendsFilter={"display": "ActionsTable", "formula": "A / B"})
    # pageviews per unique user: Chrome 4/2 (A, F), the ghost's 2/1, every other browser 1/1
    assert [(r["breakdown_value"], r["aggregated_value"]) for r in results] == [
        ("Chrome", 2.0), ("Safari", 1.0), ("Opera", 1.0), ("Firefox", 1.0), ("Edge", 1.0), (NULL, 2.0)]


def test_unsafe_formula_is_a_400(project):
    response = project.post(f"/api/projects/{project.project_id}/query/", {"query": {
        "kind": "TrendsQuery", "series": [pv()], "trendsFilter": {"formula": "__import__('os')"}}})
    assert response.status_code == 400 and response.json()["attr"] == "formula"


def test_funnel_breakdown_limit_merges_into_other(project):
    results = run(project, {"kind": "FunnelsQuery", "series": [pv(), {"kind": "EventsNode", "event": "signup"}],
                            "dateRange": dates("2024-01-01", "2024-01-31"),
                            "breakdownFilter": {"breakdown": "$browser", "breakdown_limit": 2}})["results"]
    # ranked by last step, then first step, then value: Chrome [2, 1], Edge [1, 1]; the rest merge
    assert [(g[0]["breakdown_value"], [s["count"] for s in g]) for g in results] == [
        ("Chrome", [2, 1]), ("Edge", [1, 1]), ("Other", [4, 1])]


def test_insight_viz_node_runs_its_source(project):
    source = {"kind": "TrendsQuery", "series": [pv()], "dateRange": dates("2024-01-01", "2024-01-03")}
    body = run(project, {"kind": "InsightVizNode", "source": source})
    assert body["results"][0]["data"] == [1, 1, 1]
    bad = project.post(f"/api/projects/{project.project_id}/query/",
                       {"query": {"kind": "InsightVizNode", "source": {"kind": "TrendsQuery"}}})
    assert bad.status_code == 400 and bad.json()["code"] == "parse_error"


def test_paths(project):
    query = {"kind": "PathsQuery", "dateRange": dates("2024-01-01", "2024-01-31"), "pathsFilter": {}}
    # only D moves within one session (A's events are 30+ minutes apart); the URL loses its trailing slash
    assert run(project, query)["results"] == [
        {"source": "1_https://x.com", "target": "2_click", "value": 1, "average_conversion_time": 60000.0},
        {"source": "2_click", "target": "3_signup", "value": 1, "average_conversion_time": 60000.0},
    ]
    query["pathsFilter"] = {"includeEventTypes": ["custom_event"], "startPoint": "click"}
    assert [(e["source"], e["target"]) for e in run(project, query)["results"]] == [("1_click", "2_signup")]


def test_stickiness_cumulative_and_criteria(project):
    base = {"kind": "StickinessQuery", "series": [{"kind": "EventsNode", "event": None}],
            "dateRange": dates("2024-01-01", "2024-01-10")}
    # active days (all events): A Jan 1, 2, 9; B Jan 3; C Jan 6, 7; ghost Jan 6, 8; F Jan 7; D Jan 10
    [plain] = run(project, base)["results"]
    assert plain["data"][:4] == [3, 2, 1, 0] and plain["count"] == 6
    [cumulative] = run(project, {**base, "stickinessFilter": {"computedAs": "cumulative"}})["results"]
    assert cumulative["data"][:4] == [6, 3, 1, 0] and cumulative["labels"][1] == "2 days or more"
    # days with 2+ events: A on Jan 2 (pageview + signup), D on Jan 10 (three events)
    criteria = {"stickinessCriteria": {"operator": "gte", "value": 2}}
    [busy] = run(project, {**base, "stickinessFilter": criteria})["results"]
    assert busy["data"][:2] == [2, 0] and busy["count"] == 2


@pytest.mark.parametrize("query", [
    {"kind": "FunnelsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}] * 2,
     "breakdownFilter": {"breakdown": "$browser", "breakdown_histogram_bin_count": 5}},
    {"kind": "RetentionQuery", "retentionFilter": {}, "breakdownFilter": {"breakdown": "$browser", "breakdowns": []}},
    {"kind": "PathsQuery", "pathsFilter": {"pathGroupings": ["/a/*"]}},
])
def test_options_not_computed_are_refused(project, query):
    response = project.post(f"/api/projects/{project.project_id}/query/", {"query": query})
    assert response.status_code == 400 and response.json()["code"] == "parse_error", response.text


def test_last_24_hours_hourly(project):
    # now is Jan 10 10:00 local: buckets Jan 9 10:00 .. Jan 10 10:00; A's pageview at Jan 9 09:00 is just out
    [series] = trends(project, series=[pv()], interval="hour", dateRange={"date_from": "-24h"})
    assert (series["days"][0], series["days"][-1], len(series["days"])) == ("2024-01-09 10:00:00", "2024-01-10 10:00:00", 25)
    assert series["data"] == [0] * 24 + [1]  # D at 10:00


def test_month_start_and_end(project):
    [since] = trends(project, series=[pv()], dateRange={"date_from": "-1mStart"})
    assert (since["days"][0], len(since["days"]), since["count"]) == ("2023-12-01", 41, 9.0)
    [december] = trends(project, series=[pv()], interval="month", dateRange={"date_from": "-1mStart", "date_to": "-1mEnd"})
    assert (december["days"], december["data"], december["labels"]) == (["2023-12-01"], [0], ["Dec 2023"])


def test_funnel_last_touch_string_vs_list_breakdown(project):
    def groups(breakdown):
        results = run(project, {"kind": "FunnelsQuery", "series": [pv(), {"kind": "EventsNode", "event": "signup"}],
                                "dateRange": dates("2024-01-01", "2024-01-31"),
                                "funnelsFilter": {"breakdownAttributionType": "last_touch"},
                                "breakdownFilter": {"breakdown": breakdown}})["results"]
        return [(g[0]["breakdown_value"], [s["count"] for s in g]) for g in results]

    # a string breakdown takes the last event's value even when empty (B, C, D and E end on a signup)
    assert groups("$browser") == [("", [5, 2]), ("Chrome", [2, 1])]
    # a list breakdown skips empty values
    assert groups(["$browser"]) == [(["Chrome"], [2, 1]), (["Edge"], [1, 1]), (["Safari"], [1, 1]), ([""], [1, 0]),
                                    (["Firefox"], [1, 0]), (["Opera"], [1, 0])]


def test_funnel_time_to_convert(project):
    query = {"kind": "FunnelsQuery", "series": [pv(), {"kind": "EventsNode", "event": "signup"}],
             "dateRange": dates("2024-01-01", "2024-01-31"), "funnelsFilter": {"funnelVizType": "time_to_convert"}}
    # converters take 1800 s (A), 86400 s (C) and 120 s (D): ceil(cbrt(3)) = 2 bins of ceil(86280 / 2) s
    assert run(project, query)["results"] == {
        "bins": [[120, 2], [43260, 0], [86400, 1]], "average_conversion_time": 29440.0,
        "median_conversion_time": 1800.0}
    query["funnelsFilter"]["binCount"] = 1
    assert run(project, query)["results"]["bins"] == [[120, 2], [86400, 1]]


def test_a_result_cut_by_the_row_limit_is_an_error_not_a_wrong_answer(project, monkeypatch):
    from hedgerow.hogql import LimitContext
    from hedgerow.insights import context

    monkeypatch.setattr(context, "INSIGHT_LIMITS", LimitContext(default=2, maximum=2))
    response = project.post(f"/api/projects/{project.project_id}/query/", {"query": {
        "kind": "TrendsQuery", "series": [pv()], "dateRange": dates("2024-01-01", "2024-01-10")}})
    assert response.status_code == 400 and response.json()["code"] == "too_many_rows", response.text


def test_filter_test_accounts_applies_the_project_filters(project):
    internal = [{"key": "$browser", "value": ["Chrome"], "operator": "is_not", "type": "event"}]
    project.services.projects.update(project.services.projects.get(project.project_id),
                                     {"test_account_filters": internal})
    rng, total = dates("2024-01-01", "2024-01-31"), {"display": "BoldNumber"}
    [everyone] = trends(project, series=[pv()], dateRange=rng, trendsFilter=total)
    [filtered] = trends(project, series=[pv()], dateRange=rng, trendsFilter=total, filterTestAccounts=True)
    # the four Chrome pageviews go; is_not keeps events without a browser (the ghost's)
    assert (everyone["aggregated_value"], filtered["aggregated_value"]) == (10, 6)
    steps = funnel(project, ["$pageview", "signup"])
    filtered_steps = run(project, {"kind": "FunnelsQuery", "filterTestAccounts": True,
                                   "series": [pv(), {"kind": "EventsNode", "event": "signup"}],
                                   "dateRange": dates("2024-01-01", "2024-01-31")})["results"]
    # signups have no browser and stay; A and F lose their (Chrome) pageviews
    assert [s["count"] for s in steps] == [7, 3] and [s["count"] for s in filtered_steps] == [5, 2]


def test_weekly_retention(project):
    rows = run(project, {"kind": "RetentionQuery", "dateRange": dates("2024-01-01", "2024-01-13"),
                         "retentionFilter": {"period": "Week", "totalIntervals": 2}})["results"]
    # week of Dec 31: A, B, C, ghost; of them A and the ghost come back the week of Jan 7 (F, D, E are new there)
    assert [(r["label"], r["date"]) for r in rows] == [("Week 0", "2023-12-31T00:00:00-05:00"),
                                                     ("Week 1", "2024-01-07T00:00:00-05:00")]
    assert [[v["count"] for v in r["values"]] for r in rows] == [[4, 2], [5, 0]]
    assert [v["label"] for v in rows[0]["values"]] == ["Week 0", "Week 1"]


def test_monthly_trend_starts_at_the_month(project):
    [series] = trends(project, series=[pv()], interval="month", dateRange=dates("2023-12-15", "2024-01-31"))
    assert (series["days"], series["data"], series["labels"]) == (
        ["2023-12-01", "2024-01-01"], [0, 10], ["Dec 2023", "Jan 2024"])


@pytest.mark.parametrize("query", [
    {"kind": "TrendsQuery", "series": [pv()], "dateRange": {"date_from": "-99999y"}},
    {"kind": "TrendsQuery", "series": [pv()], "dateRange": {"date_from": "-100000000d"}},
    {"kind": "TrendsQuery", "series": [pv()], "dateRange": {"date_from": "9999-12-31"}},
    {"kind": "TrendsQuery", "series": [pv()], "interval": "hour", "dateRange": {"date_from": "-10y"}},
    {"kind": "TrendsQuery", "series": [pv()], "compareFilter": {"compare": True, "compare_to": "-99999y"}},
    {"kind": "TrendsQuery", "series": [pv()], "compareFilter": {"compare": True, "compare_to": "last week"}},
    {"kind": "TrendsQuery", "series": [pv()], "dateRange": {"date_from": "not a date"}},
    {"kind": "TrendsQuery", "series": [pv()], "breakdownFilter": {"breakdown": "$browser", "breakdown_limit": 0}},
    {"kind": "FunnelsQuery", "series": [pv(), pv()], "funnelsFilter": {"funnelWindowInterval": 0}},
    {"kind": "FunnelsQuery", "series": [pv(), pv()],
     "funnelsFilter": {"exclusions": [{"kind": "EventsNode", "event": "x", "funnelFromStep": 1, "funnelToStep": 1}]}},
    {"kind": "FunnelsQuery", "series": [pv(), pv()], "funnelsFilter": {"funnelVizType": "time_to_convert", "funnelToStep": 5}},
    {"kind": "LifecycleQuery", "series": [pv(), pv()]},
    {"kind": "TrendsQuery", "series": [pv(math="monthly_active")], "interval": "week"},
    {"kind": "TrendsQuery", "series": [pv(math="weekly_active")], "interval": "hour"},
    {"kind": "TrendsQuery", "series": [pv(math="avg", math_property="$session_duration")]},
    {"kind": "TrendsQuery", "series": [pv(math="hogql", math_hogql="properties.amount")]},
    {"kind": "TrendsQuery", "series": [pv(math="hogql", math_hogql="count() from events; drop table x")]},
])
def test_hostile_input_is_a_400(project, query):
    response = project.post(f"/api/projects/{project.project_id}/query/", {"query": query})
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"type", "code", "detail", "attr"}


def test_retention_breakdown_pins_each_person_to_their_first_value(project):
    rows = run(project, {"kind": "RetentionQuery", "dateRange": dates("2024-01-05", "2024-01-09"),
                         "retentionFilter": {"period": "Day", "totalIntervals": 3},
                         "breakdownFilter": {"breakdown": "$browser", "breakdown_limit": 2}})["results"]
    # C is Safari, the ghost has no browser (""), F and A are Chrome; Safari falls past the limit
    zero = [0, 0, 0]
    assert [(r["breakdown_value"], [v["count"] for v in r["values"]]) for r in rows] == [
        ("", zero), ("", [1, 0, 1]), ("", zero), ("", [1, 0, 0]), ("", zero),
        ("Chrome", zero), ("Chrome", zero), ("Chrome", [1, 0, 0]), ("Chrome", zero), ("Chrome", [1, 0, 0]),
        (OTHER, zero), (OTHER, [1, 0, 0]), (OTHER, zero), (OTHER, zero), (OTHER, zero),
    ]


def test_paths_end_point_and_excluded_items(project):
    query = {"kind": "PathsQuery", "dateRange": dates("2024-01-01", "2024-01-31"),
             "pathsFilter": {"endPoint": "signup", "excludeEvents": ["click"]}}
    # D's session without its click: the page, then the signup
    assert [(e["source"], e["target"], e["average_conversion_time"]) for e in run(project, query)["results"]] == [
        ("1_https://x.com", "2_signup", 120000.0)]
    both = {**query, "pathsFilter": {"startPoint": "https://x.com", "endPoint": "signup"}}
    assert [(e["source"], e["target"]) for e in run(project, both)["results"]] == [
        ("1_https://x.com", "2_click"), ("2_click", "3_signup")]
    # past the step limit, the first and last halves around "...", which takes the click's time
    both["pathsFilter"]["stepLimit"] = 2
    assert [(e["source"], e["target"], e["average_conversion_time"]) for e in run(project, both)["results"]] == [
        ("1_https://x.com", "2_...", 60000.0), ("2_...", "3_signup", 60000.0)]
    # a single point loses one trailing "/", as page items do
    query["pathsFilter"] = {"startPoint": "https://x.com/"}
    assert run(project, query)["results"][0]["source"] == "1_https://x.com"


def test_count_per_actor_maths(project):
    rng = dates("2024-01-01", "2024-01-10")
    # pageviews per person over the range: A 3, B 1, C 1, ghost 2, F 1, D 1
    [average] = trends(project, series=[pv(math="avg_count_per_actor")], dateRange=rng,
                       trendsFilter={"display": "BoldNumber"})
    [most] = trends(project, series=[pv(math="max_count_per_actor")], dateRange=rng,
                    trendsFilter={"display": "BoldNumber"})
    assert (average["aggregated_value"], most["aggregated_value"]) == (1.5, 3)
    [daily] = trends(project, series=[pv(math="avg_count_per_actor")], dateRange=dates("2024-01-05", "2024-01-07"))
    assert daily["data"] == [0, 1.0, 1.0]  # Jan 6: C and the ghost once each; Jan 7: F


def test_window_ends(api):
    """The conversion window includes its last microsecond; a day ends at 23:59:59.999999 local."""
    conn = api.services.events.cursor()
    for ddl in data.TABLES:
        conn.execute(ddl)
    rows = [
        ("w1", "$pageview", "2024-02-01 10:00:00"), ("w1", "signup", "2024-02-15 10:00:00"),  # exactly 14 days
        ("w2", "$pageview", "2024-02-01 10:00:00"), ("w2", "signup", "2024-02-15 10:00:00.000001"),
        ("w3", "$pageview", "2024-02-20 23:59:59.999999"), ("w3", "$pageview", "2024-02-21 00:00:00"),
    ]
    for n, (did, event, ts) in enumerate(rows):
        conn.execute("INSERT INTO events (team_id, uuid, event, distinct_id, timestamp, created_at, person_id)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [api.project_id, f"00000000-0000-4000-9000-{n:012d}", event, did, ts, ts,
                      f"00000000-0000-4000-a000-{int(did[1]):012d}"])
    conn.close()
    steps = run(api, {"kind": "FunnelsQuery", "series": [pv(), {"kind": "EventsNode", "event": "signup"}],
                      "dateRange": dates("2024-02-01", "2024-02-29")})["results"]
    # w1 converts on the window's last microsecond, w2 one microsecond late; w3 only entered
    assert [s["count"] for s in steps] == [3, 1] and steps[1]["average_conversion_time"] == 14 * 86400
    [series] = trends(api, series=[pv()], dateRange=dates("2024-02-20", "2024-02-20"))
    assert series["data"] == [1]


def test_unique_sessions(project):
    conn = project.services.events.cursor()
    conn.execute("""UPDATE events SET "$session_id" = NULL WHERE distinct_id = 'e'""")  # a server-side client
    conn.close()
    [series] = trends(project, series=[{"kind": "EventsNode", "event": None, "math": "unique_session"}],
                      dateRange=dates("2024-01-01", "2024-01-31"), trendsFilter={"display": "BoldNumber"})
    # one session per distinct id (a, b, c, c-anon, ghost, f, d) and E's events without one
    assert series["aggregated_value"] == 8


def test_first_time_for_user(project):
    rng = dates("2024-01-05", "2024-01-10")
    first = trends(project, series=[pv(math="first_time_for_user")], dateRange=rng)[0]
    # first-ever pageviews: A Jan 1 and B Jan 3 (before the range), C and the ghost Jan 6, F Jan 7, D Jan 10
    assert first["data"] == [0, 2, 1, 0, 0, 1]
    chrome = [{"key": "$browser", "value": "Chrome", "operator": "exact", "type": "event"}]
    # F's first pageview is on Chrome; A's Chrome pageview on Jan 9 is not A's first
    assert trends(project, series=[pv(math="first_time_for_user", properties=chrome)], dateRange=rng)[0]["data"] == [
        0, 0, 1, 0, 0, 0]
    no_browser = [{"key": "$browser", "operator": "is_not_set", "type": "event"}]
    month, bold = dates("2024-01-01", "2024-01-31"), {"display": "BoldNumber"}
    everything = {"kind": "EventsNode", "event": None, "properties": no_browser}
    # only the ghost's very first event has no browser; the first event without one: everyone but F
    [strict] = trends(project, series=[{**everything, "math": "first_time_for_user"}], dateRange=month, trendsFilter=bold)
    [loose] = trends(project, series=[{**everything, "math": "first_matching_event_for_user"}], dateRange=month,
                     trendsFilter=bold)
    assert (strict["aggregated_value"], loose["aggregated_value"]) == (1, 6)
    [total] = trends(project, series=[pv(math="first_time_for_user")], dateRange=rng, trendsFilter={"display": "BoldNumber"})
    assert total["aggregated_value"] == 4


def test_hogql_math(project):
    rng = dates("2024-01-01", "2024-01-10")
    series = pv(math="hogql", math_hogql="sum(toFloat(properties.amount)) / count()")
    [total] = trends(project, series=[series], dateRange=rng, trendsFilter={"display": "BoldNumber"})
    assert total["aggregated_value"] == pytest.approx(100 / 9)  # amounts 10+20+30+40 over nine pageviews


def test_funnel_trends(project):
    query = {"kind": "FunnelsQuery", "series": [pv(), {"kind": "EventsNode", "event": "signup"}],
             "dateRange": dates("2024-01-01", "2024-01-11"), "funnelsFilter": {"funnelVizType": "trends"}}
    [result] = run(project, query)["results"]
    # by the local day of each person's first pageview that day: A converts from Jan 1 and Jan 2 (one signup
    # serves both), not from Jan 9; of C and the ghost on Jan 6 only C; D on Jan 10; B's signup is out of range
    assert result["data"] == [100, 100, 0, 0, 0, 50, 0, 0, 0, 100, 0]
    assert (result["count"], result["days"][0], result["labels"][0]) == (11, "2024-01-01", "1-Jan-2024")


def test_minute_buckets_from_a_relative_start(project, monkeypatch):
    # now 10:01:30 local on Jan 10: "-2M" starts at 09:59:30; D's pageview at 10:00 and click at
    # 10:01 are in, the signup at 10:02 is after the end of the current minute
    monkeypatch.setattr(clock, "now", lambda: NOW + dt.timedelta(minutes=1, seconds=30))
    [series] = trends(project, series=[{"kind": "EventsNode", "event": None}], interval="minute",
                      dateRange={"date_from": "-2M"})
    assert series["days"] == ["2024-01-10 09:59:00", "2024-01-10 10:00:00", "2024-01-10 10:01:00"]
    assert series["data"] == [0, 1, 1] and series["labels"][0] == "10-Jan 09:59"
    [series] = trends(project, series=[{"kind": "EventsNode", "event": None}], interval="minute",
                      dateRange=dates("2024-01-10T10:00:00", "2024-01-10T10:01:59"))
    assert series["data"] == [1, 1]


def test_hogql_and_cohort_breakdowns(project):
    results = trends(project, series=[pv()], dateRange=dates("2024-01-01", "2024-01-31"),
                     breakdownFilter={"breakdown": "person.properties.plan", "breakdown_type": "hogql"},
                     trendsFilter={"display": "BoldNumber"})
    # pro: A's 3 and F's 1; free: B's 1; no plan: c-anon, ghost's 2, D, E
    assert [(r["breakdown_value"], r["aggregated_value"]) for r in results] == [("pro", 4), ("free", 1), (NULL, 5)]
    cohort = project.post(f"/api/projects/{project.project_id}/cohorts/", {"name": "Early", "is_static": True}).json()
    project.services.membership.add_static(project.project_id, cohort["id"], [data.A, data.B])
    source = {"kind": "TrendsQuery", "series": [pv()], "dateRange": dates("2024-01-01", "2024-01-31"),
              "breakdownFilter": {"breakdown": [cohort["id"], "all"], "breakdown_type": "cohort"},
              "trendsFilter": {"display": "BoldNumber"}}
    results = run(project, source)["results"]
    assert [(r["breakdown_value"], r["label"], r["aggregated_value"]) for r in results] == [
        (cohort["id"], "Early", 4), ("all", "all users", 10)]
    source["series"] = [pv(), {"kind": "EventsNode", "event": "signup"}]
    results = run(project, source)["results"]  # cohort by cohort, then series by series
    assert [(r["label"], r["aggregated_value"]) for r in results] == [
        ("$pageview - Early", 4), ("signup - Early", 2), ("$pageview - all users", 10), ("signup - all users", 5)]
    actors = run(project, {"kind": "ActorsQuery", "select": ["id"], "source": {
        "kind": "InsightActorsQuery", "source": source, "breakdown": cohort["id"]}})
    assert sorted(row[0] for row in actors["results"]) == [data.A, data.B]


def test_a_bold_number_counts_over_its_exact_range(project):
    # now is 10:00 local on Jan 10: "-1d" is Jan 9 10:00 to now for a bold number (A's pageview at
    # 09:00 on Jan 9 is out, D's at 10:00 today in), Jan 9 00:00 to the end of today for a table
    bold = trends(project, series=[pv()], dateRange={"date_from": "-1d"}, trendsFilter={"display": "BoldNumber"})
    table = trends(project, series=[pv()], dateRange={"date_from": "-1d"}, trendsFilter={"display": "ActionsTable"})
    assert (bold[0]["aggregated_value"], table[0]["aggregated_value"]) == (1, 2)
    # an explicit end is still the end of its day
    bold = trends(project, series=[pv()], dateRange={"date_from": "-2d", "date_to": "-1d"},
                  trendsFilter={"display": "BoldNumber"})
    assert bold[0]["aggregated_value"] == 1  # Jan 8 10:00 - Jan 9 23:59: A's pageview; ghost's at 09:00 is out
