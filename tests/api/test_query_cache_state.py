"""The result cache is keyed on what a result depends on besides the query: a change to an action
or to an experiment reaches the very next (non-forced) query, not one a minute later."""

from __future__ import annotations

import datetime as dt

import pytest

from hedgerow import clock
from tests.api import experiments_dataset as data

NOW = dt.datetime(2024, 1, 25, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def project(api, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    api.services.projects.update(api.services.projects.get(api.project_id),
                                 {"test_account_filters": data.TEST_ACCOUNT_FILTERS})  # fmt: skip
    cursor = api.services.events.cursor()
    data.load(cursor, api.project_id)
    cursor.close()
    return api


def query(api, node: dict) -> dict:
    response = api.post(f"/api/projects/{api.project_id}/query/", {"query": node})
    assert response.status_code == 200, response.text
    return response.json()


def trends_of(action_id: int) -> dict:
    return {"kind": "TrendsQuery", "series": [{"kind": "ActionsNode", "id": action_id}],
            "dateRange": {"date_from": "2024-01-01", "date_to": "2024-01-31"},
            "trendsFilter": {"display": "BoldNumber"}}  # fmt: skip


def test_changing_an_actions_steps_reaches_the_next_query(project) -> None:
    made = project.post(f"/api/projects/{project.project_id}/actions/", {"name": "Bought", "steps": [
        {"event": "purchase"}]}).json()  # fmt: skip
    node = trends_of(made["id"])
    first = query(project, node)
    assert first["results"][0]["aggregated_value"] == 6  # purchases
    assert query(project, node)["is_cached"] is True  # unchanged: served from the cache
    changed = project.patch(f"/api/projects/{project.project_id}/actions/{made['id']}/", {"steps": [
        {"event": "checkout"}]})  # fmt: skip
    assert changed.status_code == 200, changed.text
    after = query(project, node)
    assert after["is_cached"] is False and after["results"][0]["aggregated_value"] == 3  # checkouts
    assert after["cache_key"] != first["cache_key"]


def test_hogql_matching_an_action_by_name_follows_its_steps(project) -> None:
    made = project.post(f"/api/projects/{project.project_id}/actions/", {"name": "Bought", "steps": [
        {"event": "purchase"}]}).json()  # fmt: skip
    node = {"kind": "HogQLQuery", "query": "select count() from events where matchesAction('Bought')"}
    assert query(project, node)["results"] == [[6]]
    project.patch(f"/api/projects/{project.project_id}/actions/{made['id']}/", {"steps": [{"event": "checkout"}]})
    assert query(project, node)["results"] == [[3]]


def test_changing_an_experiment_reaches_its_next_results(project) -> None:
    made = project.post(f"/api/projects/{project.project_id}/experiments/", {
        "name": "Checkout", "feature_flag_key": data.FLAG, "start_date": data.START, "end_date": data.END}).json()
    node = {"kind": "ExperimentQuery", "experiment_id": made["id"], "metric": {
        "kind": "ExperimentMetric", "metric_type": "mean", "source": {"kind": "EventsNode", "event": "purchase"}}}
    exposures = {"kind": "ExperimentExposureQuery", "experiment_id": made["id"]}

    def test_samples() -> int:
        return query(project, node)["variant_results"][0]["number_of_samples"]

    assert test_samples() == 2 and query(project, exposures)["total_exposures"]["test"] == 2
    assert query(project, node)["is_cached"] is True
    # p4 saw test first, then control: kept as test once the first variant seen counts
    changed = project.patch(f"/api/projects/{project.project_id}/experiments/{made['id']}/",
                            {"exposure_criteria": {"multiple_variant_handling": "first_seen"}})  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert test_samples() == 3 and query(project, exposures)["total_exposures"]["test"] == 3
    project.patch(f"/api/projects/{project.project_id}/experiments/{made['id']}/",
                  {"end_date": "2024-01-04T00:00:00Z"})  # fmt: skip
    assert test_samples() == 2  # p5 is exposed on 01-05: after the new end


def test_a_query_reads_the_actions_version_once(api) -> None:
    """The cache key and the compiler share one snapshot of the actions (one read, and the
    answer is cached under the key of the actions it was computed with)."""
    from sqlalchemy import event

    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if "FROM actions" in statement and "count(" in statement:
            seen.append(statement)

    event.listen(api.services.meta.engine, "before_cursor_execute", note)
    try:
        response = api.post(f"/api/projects/{api.project_id}/query/",
                            {"query": {"kind": "HogQLQuery", "query": "select count() from events"},
                             "refresh": "force_blocking"})  # fmt: skip
    finally:
        event.remove(api.services.meta.engine, "before_cursor_execute", note)
    assert response.status_code == 200, response.text
    assert len(seen) == 1
