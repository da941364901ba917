"""Experiments over REST: the flag each creates or reuses, launch, updates, soft deletion, and
PostHog's refusals in its words (a refused request leaves nothing behind)."""

from __future__ import annotations

import pytest


def url(api, suffix: str = "") -> str:
    return f"/api/projects/{api.project_id}/experiments/{suffix}"


def create(api, **body):
    response = api.post(url(api), {"name": "Checkout", "feature_flag_key": "checkout-test", **body})
    assert response.status_code == 201, response.text
    return response.json()


def flags(api) -> list[dict]:
    return api.get(f"/api/projects/{api.project_id}/feature_flags/").json()["results"]


def test_create_makes_a_draft_with_an_inactive_50_50_flag(api) -> None:
    made = create(api, description="new checkout")
    assert made["status"] == "draft" and made["start_date"] is None and made["archived"] is False
    assert made["feature_flag_key"] == "checkout-test"
    flag = made["feature_flag"]
    assert flag["key"] == "checkout-test" and flag["active"] is False
    assert flag["filters"]["multivariate"]["variants"] == [
        {"key": "control", "name": "Control Group", "rollout_percentage": 50},
        {"key": "test", "name": "Test Variant", "rollout_percentage": 50},
    ]
    [group] = flag["filters"]["groups"]
    assert group["properties"] == [] and group["rollout_percentage"] == 100
    assert made["exposure_criteria"] == {"filterTestAccounts": True}
    assert made["stats_config"] == {"method": "bayesian"}
    assert made["created_by"]["email"] == "admin@hedgerow.local"
    [listed] = flags(api)
    assert listed["name"] == "Feature Flag for Experiment Checkout" and listed["id"] == flag["id"]
    assert api.get(url(api, f"{made['id']}/")).json() == made


def test_create_with_given_variants_and_continuity(api) -> None:
    variants = [{"key": "control", "rollout_percentage": 34}, {"key": "a", "rollout_percentage": 33},
                {"key": "b", "rollout_percentage": 33}]  # fmt: skip
    made = create(api, parameters={"feature_flag_variants": variants, "ensure_experience_continuity": True})
    assert made["feature_flag"]["filters"]["multivariate"]["variants"] == variants
    assert made["feature_flag"]["ensure_experience_continuity"] is True


def test_created_launched_activates_the_flag(api) -> None:
    made = create(api, start_date="2026-01-01T00:00:00Z")
    assert made["status"] == "running" and made["feature_flag"]["active"] is True


def test_launching_a_draft_activates_its_flag(api) -> None:
    made = create(api)
    one = url(api, f"{made['id']}/")
    launched = api.patch(one, {"start_date": "2026-02-01T10:00:00Z"})
    assert launched.status_code == 200, launched.text
    body = launched.json()
    assert body["status"] == "running" and body["start_date"].startswith("2026-02-01T10:00:00")
    assert body["feature_flag"]["active"] is True
    assert [f["active"] for f in flags(api)] == [True]
    ended = api.patch(one, {"end_date": "2026-03-01T00:00:00Z", "conclusion": "won", "conclusion_comment": "ship"})
    assert ended.json()["status"] == "stopped" and ended.json()["conclusion"] == "won"


def test_existing_flag_is_reused_when_it_has_control(api) -> None:
    base = f"/api/projects/{api.project_id}/feature_flags/"
    good = {"key": "reuse-me", "filters": {"groups": [{"properties": [], "rollout_percentage": 100}],
            "multivariate": {"variants": [{"key": "control", "rollout_percentage": 50},
                                          {"key": "b", "rollout_percentage": 50}]}}}  # fmt: skip
    flag_id = api.post(base, good).json()["id"]
    made = create(api, feature_flag_key="reuse-me")
    assert made["feature_flag"]["id"] == flag_id and len(flags(api)) == 1
    api.post(base, {"key": "plain", "filters": {"groups": [{"properties": [], "rollout_percentage": 100}]}})
    refused = api.post(url(api), {"name": "x", "feature_flag_key": "plain"})
    assert refused.status_code == 400
    assert refused.json()["detail"] == "Feature flag must have at least 2 variants (control and at least one test variant)"
    no_control = {"key": "no-control", "filters": {"groups": [{"properties": [], "rollout_percentage": 100}],
                  "multivariate": {"variants": [{"key": "a", "rollout_percentage": 50},
                                                {"key": "b", "rollout_percentage": 50}]}}}  # fmt: skip
    api.post(base, no_control)
    refused = api.post(url(api), {"name": "x", "feature_flag_key": "no-control"})
    assert refused.json()["detail"] == "Feature flag must have a variant with key 'control'"
    assert api.get(url(api)).json()["count"] == 1


def test_list_shows_the_flag_and_filters(api) -> None:
    first = create(api, name="First", feature_flag_key="first")
    create(api, name="Second", feature_flag_key="second", start_date="2026-01-01T00:00:00Z")
    api.patch(url(api, f"{first['id']}/"), {"archived": True})
    body = api.get(url(api)).json()
    assert [e["name"] for e in body["results"]] == ["Second"] and body["count"] == 1
    assert body["results"][0]["feature_flag"]["key"] == "second"
    assert [e["name"] for e in api.get(url(api, "?archived=true")).json()["results"]] == ["First"]
    assert api.get(url(api, "?status=draft")).json()["count"] == 0
    assert api.get(url(api, "?search=SEC")).json()["count"] == 1


def test_soft_delete_and_no_hard_delete(api) -> None:
    made = create(api)
    one = url(api, f"{made['id']}/")
    response = api.delete(one)
    assert response.status_code == 405 and response.content == b""
    assert api.patch(one, {"deleted": True}).json()["deleted"] is True
    assert api.get(one).status_code == 404
    assert api.get(url(api)).json()["count"] == 0


def test_metrics_are_fingerprinted_and_ordered(api) -> None:
    metric = {"kind": "ExperimentMetric", "metric_type": "mean", "uuid": "m1",
              "source": {"kind": "EventsNode", "event": "purchase"}}  # fmt: skip
    made = create(api, metrics=[metric])
    assert made["metrics"][0]["fingerprint"] and made["primary_metrics_ordered_uuids"] == ["m1"]
    second = {**metric, "uuid": "m2", "metric_type": "funnel", "series": [{"kind": "EventsNode", "event": "buy"}]}
    del second["source"]
    changed = api.patch(url(api, f"{made['id']}/"), {"metrics_secondary": [second]}).json()
    assert changed["secondary_metrics_ordered_uuids"] == ["m2"] and changed["metrics_secondary"][0]["fingerprint"]


@pytest.mark.parametrize(
    "body, detail, attr",
    [
        ({"feature_flag_key": "k"}, "This field is required.", "name"),
        ({"name": "x"}, "This field is required.", "feature_flag_key"),
        ({"name": "", "feature_flag_key": "k"}, "This field may not be blank.", "name"),
        ({"name": "x", "feature_flag_key": "bad key"},
         "Only letters, numbers, hyphens (-) & underscores (_) are allowed.", "key"),
        ({"name": "x", "feature_flag_key": "k", "parameters": {"feature_flag_variants": [
            {"key": "a", "rollout_percentage": 50}, {"key": "b", "rollout_percentage": 50}]}},
         "Feature flag variants must contain a control variant", "parameters"),
        ({"name": "x", "feature_flag_key": "k", "parameters": {"feature_flag_variants": [
            {"key": "control", "rollout_percentage": 100}]}},
         "Feature flag must have at least 2 variants (control and at least one test variant)", "parameters"),
        ({"name": "x", "feature_flag_key": "k", "parameters": {"feature_flag_variants": [
            {"key": "control", "rollout_percentage": 60}, {"key": "test", "rollout_percentage": 60}]}},
         "Invalid variant definitions: Variant rollout percentages must sum to 100.", "filters"),
        ({"name": "x", "feature_flag_key": "k", "start_date": "2026-02-01T00:00:00Z",
          "end_date": "2026-01-01T00:00:00Z"}, "End date must be after start date", "non_field_errors"),
        ({"name": "x", "feature_flag_key": "k", "metrics": {"a": 1}}, "Metrics must be a list", "metrics"),
        ({"name": "x", "feature_flag_key": "k", "metrics": [3]}, "Invalid metric at index 0: must be a dict", "metrics"),
        ({"name": "x", "feature_flag_key": "k", "metrics": [{"kind": "TrendsQuery"}]},
         "Invalid metric at index 0: unknown kind 'TrendsQuery'", "metrics"),
        ({"name": "x", "feature_flag_key": "k", "exposure_criteria": {"filterTestAccounts": "yes"}},
         "filterTestAccounts must be a boolean", "exposure_criteria"),
        ({"name": "x", "feature_flag_key": "k", "conclusion": "meh"}, '"meh" is not a valid choice.', "conclusion"),
        ({"name": "x", "feature_flag_key": "k", "holdout_id": 7}, 'Invalid pk "7" - object does not exist.',
         "holdout_id"),
        ({"name": "x", "feature_flag_key": "k", "start_date": "soon"},
         "Datetime has wrong format. Use one of these formats instead: "
         "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].", "start_date"),
    ],
)
def test_refusals_in_posthogs_words_change_nothing(api, body, detail, attr) -> None:
    response = api.post(url(api), body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["detail"] == detail and error["attr"] == attr and error["type"] == "validation_error"
    assert api.get(url(api)).json()["count"] == 0 and flags(api) == []


def test_metric_schema_refusal_names_the_index(api) -> None:
    response = api.post(url(api), {"name": "x", "feature_flag_key": "k", "metrics": [
        {"kind": "ExperimentMetric", "metric_type": "mean"}]})  # fmt: skip
    assert response.status_code == 400 and response.json()["detail"].startswith("Invalid metric at index 0: ")


def test_update_refusals(api) -> None:
    made = create(api, start_date="2026-01-01T00:00:00Z")
    one = url(api, f"{made['id']}/")
    response = api.patch(one, {"type": "web"})
    assert (response.status_code, response.json()["detail"]) == (400, "Can't update keys: type on Experiment")
    response = api.patch(one, {"parameters": {"feature_flag_variants": [
        {"key": "control", "rollout_percentage": 50}, {"key": "other", "rollout_percentage": 50}]}})  # fmt: skip
    assert response.json()["detail"] == "Can't update feature_flag_variants on Experiment"
    response = api.patch(one, {"start_date": "2026-02-01T00:00:00Z", "end_date": "2025-01-01T00:00:00Z"})
    assert response.json()["detail"] == "End date must be after start date"
    response = api.patch(one, {"filters": {"properties": [{"key": "a", "value": "b"}]}})
    assert response.json()["detail"] == "Experiments do not support global filter properties"
    assert api.get(one).json() == made


def test_scopes(api) -> None:
    reader = api.key(["experiment:read"])
    assert api.get(url(api), key=reader).status_code == 200
    refused = api.post(url(api), {"name": "x", "feature_flag_key": "k"}, key=reader)
    assert refused.status_code == 403
    writer = api.key(["experiment:write"])
    assert api.post(url(api), {"name": "x", "feature_flag_key": "k"}, key=writer).status_code == 201
