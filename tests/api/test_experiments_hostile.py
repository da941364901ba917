"""Hostile experiment input: every field of an experiment and of its metric queries, sent values
of every JSON type and out-of-range numbers, gets a PostHog-shaped answer, never a 500."""

from __future__ import annotations

import pytest

ODD = [None, True, -1, 0, 2**64, 1.5, "", "x", "\x00", [], [1], ["control"], {}, {"a": {"b": []}}]
FIELDS = ["name", "description", "feature_flag_key", "start_date", "end_date", "parameters", "filters", "archived",
          "deleted", "type", "metrics", "metrics_secondary", "secondary_metrics", "stats_config",
          "exposure_criteria", "holdout_id", "saved_metrics_ids", "conclusion", "conclusion_comment",
          "primary_metrics_ordered_uuids", "scheduling_config"]  # fmt: skip
PARAMETERS = [{"feature_flag_variants": v} for v in ODD] + [
    {"rollout_percentage": v} for v in ODD] + [{"aggregation_group_type_index": v} for v in ODD] + [
    {"ensure_experience_continuity": v} for v in ODD] + [
    {"feature_flag_variants": [{"key": "control", "rollout_percentage": v}, {"key": "test", "rollout_percentage": 50}]}
    for v in ODD]  # fmt: skip
METRIC_FIELDS = ["metric_type", "source", "series", "numerator", "conversion_window", "conversion_window_unit",
                 "breakdownFilter", "lower_bound_percentile", "funnel_order_type"]  # fmt: skip


def shaped(response, allowed: set[int]) -> None:
    assert response.status_code in allowed, (response.status_code, response.text[:500])
    if response.status_code >= 400:
        assert set(response.json()) == {"type", "code", "detail", "attr"}, response.text[:500]


@pytest.mark.parametrize("field", FIELDS)
def test_every_field_every_type(api, field) -> None:
    url = f"/api/projects/{api.project_id}/experiments/"
    for n, value in enumerate(ODD):
        body = {"name": "x", "feature_flag_key": f"k-{field}-{n}", field: value}
        shaped(api.post(url, body), {201, 400})
    made = api.post(url, {"name": "target", "feature_flag_key": f"target-{field}"}).json()
    for value in ODD:
        shaped(api.patch(f"{url}{made['id']}/", {field: value}), {200, 400, 404})  # 404 once deleted


def test_parameters(api) -> None:
    url = f"/api/projects/{api.project_id}/experiments/"
    for n, parameters in enumerate(PARAMETERS):
        shaped(api.post(url, {"name": "x", "feature_flag_key": f"p-{n}", "parameters": parameters}), {201, 400})


def test_metric_queries(api) -> None:
    made = api.post(f"/api/projects/{api.project_id}/experiments/", {
        "name": "x", "feature_flag_key": "metric-fuzz", "start_date": "2026-01-01T00:00:00Z"}).json()  # fmt: skip
    base = {"kind": "ExperimentMetric", "metric_type": "mean", "source": {"kind": "EventsNode", "event": "e"}}
    for field in METRIC_FIELDS:
        for value in ODD:
            query = {"kind": "ExperimentQuery", "experiment_id": made["id"], "metric": {**base, field: value}}
            shaped(api.post(f"/api/projects/{api.project_id}/query/", {"query": query}), {200, 400})
    for field in ("experiment_id", "feature_flag", "start_date", "end_date", "exposure_criteria"):
        for value in ODD:
            query = {"kind": "ExperimentExposureQuery", "experiment_id": made["id"], field: value}
            shaped(api.post(f"/api/projects/{api.project_id}/query/", {"query": query}), {200, 400, 404})
