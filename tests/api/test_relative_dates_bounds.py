"""A relative date too far back for a calendar (``-999999999y``) is PostHog's 400 wherever a
filter date is read (an EventsQuery's ``after``/``before``, HogQL's ``{filters}``), not a 500."""

from __future__ import annotations

import pytest

FAR = ["-999999999y", "-99999999999999999999d", "-9999999999999q"]


def _queries(far: str) -> list[dict]:
    return [
        {"kind": "EventsQuery", "select": ["event"], "after": far},
        {"kind": "EventsQuery", "select": ["event"], "after": "all", "before": far},
        {"kind": "HogQLQuery", "query": "select count() from events where {filters}",
         "filters": {"dateRange": {"date_from": far}}},
    ]  # fmt: skip


@pytest.mark.parametrize("far", FAR)
@pytest.mark.parametrize("which", range(3))
def test_a_date_past_the_calendar_is_a_400(api, far: str, which: int) -> None:
    response = api.post(f"/api/projects/{api.project_id}/query/", {"query": _queries(far)[which]})
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"type", "code", "detail", "attr"} and body["type"] == "validation_error"
    assert far in body["detail"]


def test_a_far_but_real_date_still_runs(api) -> None:
    for query in _queries("-999y"):
        response = api.post(f"/api/projects/{api.project_id}/query/", {"query": query})
        assert response.status_code == 200, response.text
