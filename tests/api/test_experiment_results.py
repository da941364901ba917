"""Experiment results through ``POST /query/`` on a real DuckDB, against the hand-made experiment of
``experiments_dataset`` (every expected number worked out by hand from its table)."""

from __future__ import annotations

import datetime as dt

import pytest

from hedgerow import clock
from tests.api import experiments_dataset as data

NOW = dt.datetime(2024, 1, 25, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def project(api, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    project = api.services.projects.get(api.project_id)
    api.services.projects.update(project, {"test_account_filters": data.TEST_ACCOUNT_FILTERS})
    cursor = api.services.events.cursor()
    data.load(cursor, api.project_id)
    cursor.close()
    return api


def experiment(api, **body) -> dict:
    response = api.post(f"/api/projects/{api.project_id}/experiments/", {
        "name": "Checkout", "feature_flag_key": data.FLAG, "start_date": data.START, "end_date": data.END, **body})
    assert response.status_code == 201, response.text
    return response.json()


def run(api, query: dict, status: int = 200) -> dict:
    response = api.post(f"/api/projects/{api.project_id}/query/", {"query": query, "refresh": "force_blocking"})
    assert response.status_code == status, response.text
    return response.json()


def metric(api, made: dict, **spec) -> dict:
    return run(api, {"kind": "ExperimentQuery", "experiment_id": made["id"],
                     "metric": {"kind": "ExperimentMetric", **spec}})  # fmt: skip


def sums(body: dict) -> dict[str, tuple]:
    everyone = [body["baseline"], *body["variant_results"]]
    return {v["key"]: (v["number_of_samples"], v["sum"], v["sum_squares"]) for v in everyone}


PURCHASES = {"kind": "EventsNode", "event": "purchase"}
AMOUNT = {**PURCHASES, "math": "sum", "math_property": "amount"}


def test_exposures_cumulative_by_first_day(project) -> None:
    made = experiment(project)
    body = run(project, {"kind": "ExperimentExposureQuery", "experiment_id": made["id"]})
    days = [f"2024-01-{d:02d}" for d in range(1, 11)]
    assert body["timeseries"] == [
        {"variant": "control", "days": days, "exposure_counts": [0, 2, 2, 2, 2, 2, 2, 2, 2, 2]},
        {"variant": "test", "days": days, "exposure_counts": [0, 0, 1, 1, 2, 2, 2, 2, 2, 2]},
        {"variant": "$multiple", "days": days, "exposure_counts": [0, 0, 1, 1, 1, 1, 1, 1, 1, 1]},
    ]
    assert body["total_exposures"] == {"control": 2, "test": 2, "$multiple": 1}
    assert "sample_ratio_mismatch" not in body  # fewer than 100 exposures


def test_mean_total_and_sum(project) -> None:
    made = experiment(project)
    assert sums(metric(project, made, metric_type="mean", source=PURCHASES)) == {
        "control": (2, 2, 4), "test": (2, 2, 2)}
    assert sums(metric(project, made, metric_type="mean", source=AMOUNT)) == {
        "control": (2, 15, 225), "test": (2, 27, 449)}


def test_conversion_window_counts_from_first_to_last_exposure_plus_window(project) -> None:
    made = experiment(project)
    body = metric(project, made, metric_type="mean", source=AMOUNT, conversion_window=1, conversion_window_unit="day")
    assert sums(body) == {"control": (2, 10, 100), "test": (2, 7, 49)}


def test_first_seen_keeps_multiple_exposures_and_test_accounts_can_count(project) -> None:
    made = experiment(project, exposure_criteria={"multiple_variant_handling": "first_seen"})
    assert sums(metric(project, made, metric_type="mean", source=PURCHASES))["test"] == (3, 2, 2)
    made = experiment(project, feature_flag_key=data.FLAG, exposure_criteria={"filterTestAccounts": False})
    assert sums(metric(project, made, metric_type="mean", source=PURCHASES))["test"] == (3, 2, 2)
    exposures = run(project, {"kind": "ExperimentExposureQuery", "experiment_id": made["id"]})
    assert exposures["total_exposures"] == {"control": 2, "test": 3, "$multiple": 1}


@pytest.mark.parametrize("math, control, test", [
    ("avg", (2, 7.5, 56.25), (2, 27, 449)),
    ("min", (2, 5, 25), (2, 27, 449)),
    ("max", (2, 10, 100), (2, 27, 449)),
])  # fmt: skip
def test_property_maths(project, math, control, test) -> None:
    made = experiment(project)
    body = metric(project, made, metric_type="mean", source={**AMOUNT, "math": math})
    assert sums(body) == {"control": control, "test": test}


def test_unique_sessions(project) -> None:
    made = experiment(project)
    body = metric(project, made, metric_type="mean", source={**PURCHASES, "math": "unique_session"})
    assert sums(body) == {"control": (2, 1, 1), "test": (2, 2, 2)}


STEPS = [{"kind": "EventsNode", "event": "checkout"}, PURCHASES]


@pytest.mark.parametrize("order, control, test", [
    ("ordered", (1, [1, 1]), (1, [2, 1])),
    ("unordered", (1, [1, 1]), (2, [2, 2])),
    ("strict", (1, [1, 1]), (0, [1, 0])),
])  # fmt: skip
def test_funnel_after_exposure(project, order, control, test) -> None:
    made = experiment(project)
    body = metric(project, made, metric_type="funnel", series=STEPS, funnel_order_type=order)
    found = {v["key"]: (v["sum"], v["step_counts"]) for v in [body["baseline"], *body["variant_results"]]}
    assert found == {"control": control, "test": test}
    assert body["baseline"]["number_of_samples"] == 2
    assert "not-enough-metric-data" in body["baseline"]["validation_failures"]


def test_funnel_conversion_window_from_the_exposure(project) -> None:
    made = experiment(project)
    body = metric(project, made, metric_type="funnel", series=STEPS, conversion_window=1,
                  conversion_window_unit="hour")  # fmt: skip
    found = {v["key"]: (v["sum"], v["step_counts"]) for v in [body["baseline"], *body["variant_results"]]}
    assert found == {"control": (1, [1, 1]), "test": (0, [1, 0])}


def test_ratio(project) -> None:
    made = experiment(project)
    body = metric(project, made, metric_type="ratio", numerator=AMOUNT, denominator={"kind": "EventsNode",
                                                                                      "event": "checkout"})
    found = {v["key"]: (v["number_of_samples"], v["sum"], v["sum_squares"], v["denominator_sum"],
                        v["denominator_sum_squares"], v["numerator_denominator_sum_product"])
             for v in [body["baseline"], *body["variant_results"]]}  # fmt: skip
    assert found == {"control": (2, 15, 225, 1, 1, 15), "test": (2, 27, 449, 2, 2, 27)}


def test_breakdown_by_the_first_exposures_property(project) -> None:
    made = experiment(project)
    body = metric(project, made, metric_type="mean", source=PURCHASES,
                  breakdownFilter={"breakdowns": [{"property": "$browser", "type": "event"}]})  # fmt: skip
    assert sums(body) == {"control": (2, 2, 4), "test": (2, 2, 2)}
    assert {tuple(b["breakdown_value"]): sums(b) for b in body["breakdown_results"]} == {
        ("Chrome",): {"control": (1, 2, 4), "test": (1, 1, 1)},
        ("Firefox",): {"control": (1, 0, 0), "test": (1, 1, 1)},
    }


def test_winsorization_clamps_to_the_percentile(project) -> None:
    made = experiment(project)
    body = metric(project, made, metric_type="mean", source=AMOUNT, upper_bound_percentile=0.5)
    # per-entity values 15, 0 (control), 20, 7 (test) and 0 (p4, $multiple, counted in the
    # percentiles as in PostHog): the median is 7
    assert sums(body) == {"control": (2, 7, 49), "test": (2, 14, 98)}


def test_custom_exposure_event_reads_the_feature_property(project) -> None:
    made = experiment(project, exposure_criteria={"exposure_config": {
        "kind": "ExperimentEventExposureConfig", "event": "checkout", "properties": []}})  # fmt: skip
    assert sums(metric(project, made, metric_type="mean", source=PURCHASES)) == {
        "control": (1, 2, 4), "test": (1, 0, 0)}


def test_small_samples_carry_validation_failures_and_no_statistics(project) -> None:
    made = experiment(project)
    body = metric(project, made, metric_type="mean", source=PURCHASES)
    assert body["baseline"]["validation_failures"] == ["not-enough-exposures"]
    [variant] = body["variant_results"]
    assert variant["validation_failures"] == ["not-enough-exposures"] and variant["method"] == "bayesian"
    assert "chance_to_win" not in variant and "credible_interval" not in variant
    assert body["kind"] == "ExperimentQuery" and "hogql" in body


def test_legacy_trends_and_funnels(project) -> None:
    made = experiment(project)
    trends = run(project, {"kind": "ExperimentTrendsQuery", "experiment_id": made["id"],
                           "count_query": {"kind": "TrendsQuery", "series": [PURCHASES]}})  # fmt: skip
    assert trends["variants"] == [{"key": "control", "count": 2, "exposure": 2, "absolute_exposure": 2},
                                  {"key": "test", "count": 2, "exposure": 2, "absolute_exposure": 2}]  # fmt: skip
    assert trends["significance_code"] == "not_enough_exposure" and trends["significant"] is False
    funnels = run(project, {"kind": "ExperimentFunnelsQuery", "experiment_id": made["id"],
                            "funnels_query": {"kind": "FunnelsQuery", "series": STEPS}})  # fmt: skip
    assert funnels["variants"] == [{"key": "control", "success_count": 1, "failure_count": 1},
                                   {"key": "test", "success_count": 1, "failure_count": 1}]  # fmt: skip


def test_draft_has_no_exposures_and_unknown_experiments_404(project) -> None:
    response = project.post(f"/api/projects/{project.project_id}/experiments/",
                            {"name": "Draft", "feature_flag_key": "draft-flag"})  # fmt: skip
    draft = response.json()
    body = run(project, {"kind": "ExperimentExposureQuery", "experiment_id": draft["id"]})
    assert body["timeseries"] == [] and body["total_exposures"] == {}
    missing = run(project, {"kind": "ExperimentQuery", "experiment_id": 9999,
                            "metric": {"kind": "ExperimentMetric", "metric_type": "mean", "source": PURCHASES}}, 404)
    assert set(missing) == {"type", "code", "detail", "attr"}


@pytest.mark.parametrize("bad_metric", [
    {"kind": "ExperimentMetric", "metric_type": "mean"},
    {"kind": "ExperimentMetric", "metric_type": "retention", "source": PURCHASES},
    {"kind": "ExperimentMetric", "metric_type": "mean", "source": {**PURCHASES, "math": "sum"}},
    {"kind": "ExperimentMetric", "metric_type": "funnel", "series": [PURCHASES] * 25},
    {"kind": "ExperimentMetric", "metric_type": "mean", "source": PURCHASES, "upper_bound_percentile": 7},
])  # fmt: skip
def test_bad_metrics_are_refused(project, bad_metric) -> None:
    made = experiment(project)
    body = run(project, {"kind": "ExperimentQuery", "experiment_id": made["id"], "metric": bad_metric}, 400)
    assert body["type"] == "invalid_request" and body["detail"].startswith("JSON parse error")


def test_exposure_days_are_the_projects_local_days(project) -> None:
    project.services.projects.update(project.services.projects.get(project.project_id),
                                     {"timezone": "Pacific/Kiritimati"})  # UTC+14  # fmt: skip
    made = experiment(project)
    body = run(project, {"kind": "ExperimentExposureQuery", "experiment_id": made["id"]})
    # p1 is exposed at 10:00 UTC on Jan 2, which is midnight starting Jan 3 there; p2 at 09:00 UTC stays on Jan 2
    assert body["timeseries"][0] == {"variant": "control", "days": [f"2024-01-{d:02d}" for d in range(1, 11)],
                                     "exposure_counts": [0, 1, 2, 2, 2, 2, 2, 2, 2, 2]}  # fmt: skip
    assert body["date_range"] == {"date_from": "2024-01-01T14:00:00+14:00", "date_to": "2024-01-10T14:00:00+14:00",
                                  "explicitDate": True}  # fmt: skip


def test_hostile_ids_and_ranges_get_4xx(project) -> None:
    huge = 2**63
    body = run(project, {"kind": "ExperimentQuery", "experiment_id": huge,
                         "metric": {"kind": "ExperimentMetric", "metric_type": "mean", "source": PURCHASES}}, 404)
    assert set(body) == {"type", "code", "detail", "attr"}
    assert project.get(f"/api/projects/{project.project_id}/experiments/{huge}/").status_code == 404
    ancient = experiment(project, start_date="0001-01-01T00:00:00Z", end_date="9999-12-31T00:00:00Z")
    run(project, {"kind": "ExperimentExposureQuery", "experiment_id": ancient["id"]}, 400)
    for spec in ({"metric_type": "mean", "source": PURCHASES, "conversion_window": 100_000,
                  "conversion_window_unit": "month"},
                 {"metric_type": "funnel", "series": STEPS, "conversion_window": 5, "conversion_window_unit": "week"}):
        response = project.post(f"/api/projects/{project.project_id}/query/", {"query": {
            "kind": "ExperimentQuery", "experiment_id": ancient["id"], "metric": {"kind": "ExperimentMetric", **spec}}})
        assert response.status_code == 400, response.text


# -- actions: sources, funnel steps and exposure criteria, matched by matchesAction ------------


def action(api, name: str, steps: list[dict]) -> dict:
    response = api.post(f"/api/projects/{api.project_id}/actions/", {"name": name, "steps": steps})
    assert response.status_code == 201, response.text
    return {"kind": "ActionsNode", "id": response.json()["id"], "name": name}


def ratio_sums(body: dict) -> dict[str, tuple]:
    return {v["key"]: (v["number_of_samples"], v["sum"], v["sum_squares"], v["denominator_sum"],
                       v["denominator_sum_squares"], v["numerator_denominator_sum_product"])
            for v in [body["baseline"], *body["variant_results"]]}  # fmt: skip


def test_mean_over_an_action_counts_every_step_event(project) -> None:
    made = experiment(project)
    either = action(project, "Bought or checked out", [{"event": "purchase"}, {"event": "checkout"}])
    # after exposure, before the end: p1 checkout + 2 purchases; p3 purchase + checkout; p5 checkout + purchase
    assert sums(metric(project, made, metric_type="mean", source=either)) == {"control": (2, 3, 9), "test": (2, 4, 8)}


def test_mean_sum_over_an_action_with_step_properties(project) -> None:
    made = experiment(project)
    big = action(project, "Big purchase", [{"event": "purchase", "properties": [
        {"key": "amount", "value": 8, "operator": "gt", "type": "event"}]}])  # fmt: skip
    body = metric(project, made, metric_type="mean", source={**big, "math": "sum", "math_property": "amount"})
    # p1's 10 (its 5 is too small), p3's 20 (p5's 7 is too small)
    assert sums(body) == {"control": (2, 10, 100), "test": (2, 20, 400)}


def test_funnel_steps_over_actions(project) -> None:
    made = experiment(project)
    checkout = action(project, "Checked out", [{"event": "checkout"}])
    body = metric(project, made, metric_type="funnel", series=[checkout, PURCHASES])
    found = {v["key"]: (v["sum"], v["step_counts"]) for v in [body["baseline"], *body["variant_results"]]}
    assert found == {"control": (1, [1, 1]), "test": (1, [2, 1])}  # as the same funnel over event names
    either = action(project, "Bought or checked out", [{"event": "purchase"}, {"event": "checkout"}])
    body = metric(project, made, metric_type="funnel", series=[either])
    found = {v["key"]: (v["sum"], v["step_counts"]) for v in [body["baseline"], *body["variant_results"]]}
    assert found == {"control": (1, [1]), "test": (2, [2])}


def test_ratio_with_an_action_denominator(project) -> None:
    made = experiment(project)
    checkout = action(project, "Checked out", [{"event": "checkout"}])
    body = metric(project, made, metric_type="ratio", numerator=AMOUNT, denominator=checkout)
    assert ratio_sums(body) == {"control": (2, 15, 225, 1, 1, 15), "test": (2, 27, 449, 2, 2, 27)}


def test_exposure_criteria_over_an_action_read_the_feature_property(project) -> None:
    checkout = action(project, "Checked out", [{"event": "checkout"}])
    made = experiment(project, exposure_criteria={"exposure_config": {"kind": "ActionsNode", "id": checkout["id"]}})
    # p1's checkout says control, p3's test; p5's checkout carries no $feature/exp: not exposed
    assert sums(metric(project, made, metric_type="mean", source=PURCHASES)) == {
        "control": (1, 2, 4), "test": (1, 0, 0)}
    exposures = run(project, {"kind": "ExperimentExposureQuery", "experiment_id": made["id"]})
    assert exposures["total_exposures"] == {"control": 1, "test": 1}


def test_missing_actions_match_no_event(project) -> None:
    made = experiment(project)
    missing = {"kind": "ActionsNode", "id": 987654}
    assert sums(metric(project, made, metric_type="mean", source=missing)) == {"control": (2, 0, 0), "test": (2, 0, 0)}
    unexposed = experiment(project, exposure_criteria={"exposure_config": missing})
    exposures = run(project, {"kind": "ExperimentExposureQuery", "experiment_id": unexposed["id"]})
    assert exposures["total_exposures"] == {}


def test_experiments_save_action_metrics_and_refuse_an_action_without_id(project) -> None:
    checkout = action(project, "Checked out", [{"event": "checkout"}])
    made = experiment(project, metrics=[{"kind": "ExperimentMetric", "metric_type": "mean", "source": checkout}])
    assert made["metrics"][0]["source"]["id"] == checkout["id"]
    response = project.post(f"/api/projects/{project.project_id}/experiments/", {
        "name": "No id", "feature_flag_key": "no-id", "metrics": [
            {"kind": "ExperimentMetric", "metric_type": "mean", "source": {"kind": "ActionsNode"}}]})  # fmt: skip
    assert response.status_code == 400 and response.json()["attr"] == "metrics"
    body = run(project, {"kind": "ExperimentQuery", "experiment_id": made["id"], "metric": {
        "kind": "ExperimentMetric", "metric_type": "mean", "source": {"kind": "ActionsNode", "id": "x"}}}, 400)
    assert set(body) == {"type", "code", "detail", "attr"}
    for bad in ("x", True, -1, 2**63, None):
        body = run(project, {"kind": "ExperimentExposureQuery", "experiment_id": made["id"],
                             "exposure_criteria": {"exposure_config": {"kind": "ActionsNode", "id": bad}}}, 400)
        assert body["attr"] == "exposure_config", bad
