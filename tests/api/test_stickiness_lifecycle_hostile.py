"""Odd values of stickiness ``intervalCount`` and of group aggregation (stickiness, lifecycle and
their actors) are PostHog-shaped 400s, never 500s, and change nothing."""

from __future__ import annotations

import pytest

from tests.api.test_insights import dates, project, pv  # noqa: F401  (fixture)

STICKINESS = {"kind": "StickinessQuery", "series": [pv()], "dateRange": dates("2024-01-01", "2024-01-10")}
LIFECYCLE = {"kind": "LifecycleQuery", "series": [pv()], "dateRange": dates("2024-01-01", "2024-01-10")}
BY_GROUP = {"aggregation_group_type_index": 0}


@pytest.mark.parametrize("query", [
    {**STICKINESS, "intervalCount": 0},
    {**STICKINESS, "intervalCount": -3},
    {**STICKINESS, "intervalCount": 10_001},
    {**STICKINESS, "intervalCount": 2.5},
    {**STICKINESS, "intervalCount": 2**70},
    {**STICKINESS, "aggregation_group_type_index": 5},
    {**STICKINESS, "aggregation_group_type_index": -1},
    {**STICKINESS, "series": [pv(math="unique_group")]},
    {**STICKINESS, "series": [pv(math="hogql", math_hogql="count()")]},
    {**STICKINESS, "series": [pv(math="hogql", math_hogql="person_id; drop table events")]},
    {**LIFECYCLE, "aggregation_group_type_index": 5},
    {**LIFECYCLE, "aggregation_group_type_index": "0; drop"},
    {"kind": "ActorsQuery", "properties": [{"key": "plan", "value": "pro", "type": "person"}],
     "source": {"kind": "InsightActorsQuery", "day": 1, "source": {
         **STICKINESS, "series": [pv(math="unique_group", math_group_type_index=0)]}}},
    {"kind": "ActorsQuery", "select": ["count()"],
     "source": {"kind": "InsightActorsQuery", "source": {**LIFECYCLE, **BY_GROUP}, "day": "2024-01-02",
                "status": "new"}},
    {"kind": "InsightActorsQuery", "source": {**STICKINESS, "intervalCount": 3}, "day": 0},
])
def test_hostile_options_are_a_400(project, query):
    before = project.services.events.cursor().execute("SELECT count(*) FROM events").fetchone()
    response = project.post(f"/api/projects/{project.project_id}/query/", {"query": query})
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"type", "code", "detail", "attr"}
    assert project.services.events.cursor().execute("SELECT count(*) FROM events").fetchone() == before


def test_monthly_periods(project):
    # the dataset's pageviews in Jan 2024 (New York): A Jan 1, 2, 9; B Jan 3; C Jan 6; ghost Jan 6, 8;
    # F Jan 7; D Jan 10; E Jan 11. Months back from Jan 31: all of January is period 0.
    [monthly] = project.post(f"/api/projects/{project.project_id}/query/", {"query": {
        **STICKINESS, "interval": "month", "intervalCount": 2, "dateRange": dates("2023-12-01", "2024-01-31")},
        "refresh": "force_blocking"}).json()["results"]
    assert monthly["data"] == [7] and monthly["days"] == [1]
