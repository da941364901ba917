"""Audit sentences name the object a call is about by the name people know it by, read through
the audit API, whether the call was allowed, denied or failed."""

from __future__ import annotations


def _project(api) -> str:
    api.services.projects.update(api.services.projects.get(api.project_id), {"name": "Shop"})
    return f"/api/projects/{api.project_id}"


def newest(api) -> str:
    response = api.get("/api/organizations/@current/audit_log/", params={"limit": 1})
    assert response.status_code == 200, response.text
    return response.json()["results"][0]["sentence"]  # this read is recorded after it answers


def test_actions_are_named(api) -> None:
    base = _project(api)
    made = api.post(f"{base}/actions/", {"name": "Signed up", "steps": [{"event": "signed_up"}]}).json()
    assert api.patch(f"{base}/actions/{made['id']}/", {"description": "new"}).status_code == 200
    assert newest(api) == "Key 'admin' changed action 'Signed up' in project 'Shop' over REST — allowed."
    reader = api.key(["action:read"], label="reader")
    assert api.patch(f"{base}/actions/{made['id']}/", {"name": "x"}, key=reader).status_code == 403
    assert newest(api).startswith("Key 'reader' tried to change action 'Signed up' in project 'Shop' over REST — denied")
    assert api.get(f"{base}/actions/987654/").status_code == 404
    assert newest(api) == ("Key 'admin' tried to read action '987654' in project 'Shop' over REST — "
                           "allowed, but the request failed (404).")  # fmt: skip


def test_experiments_flags_insights_dashboards_and_destinations_are_named(api) -> None:
    base = _project(api)
    experiment = api.post(f"{base}/experiments/", {"name": "Checkout test", "feature_flag_key": "checkout"}).json()
    api.get(f"{base}/experiments/{experiment['id']}/")
    assert newest(api) == "Key 'admin' read experiment 'Checkout test' in project 'Shop' over REST — allowed."
    api.patch(f"{base}/feature_flags/{experiment['feature_flag']['id']}/", {"name": "Checkout flag"})
    assert newest(api) == "Key 'admin' changed feature flag 'checkout' in project 'Shop' over REST — allowed."
    insight = api.post(f"{base}/insights/", {"name": "Weekly buyers", "query": {
        "kind": "InsightVizNode", "source": {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "buy"}]}}})
    assert insight.status_code == 201, insight.text
    api.get(f"{base}/insights/{insight.json()['short_id']}/")
    assert newest(api) == "Key 'admin' read insight 'Weekly buyers' in project 'Shop' over REST — allowed."
    board = api.post(f"{base}/dashboards/", {"name": "Sales"}).json()
    api.patch(f"{base}/dashboards/{board['id']}/", {"name": "Sales (old)"})
    assert newest(api) == "Key 'admin' changed dashboard 'Sales' in project 'Shop' over REST — allowed."
    hook = api.post(f"{base}/hog_functions/", {"type": "destination", "template_id": "template-webhook",
                                               "name": "Orders hook",
                                               "inputs": {"url": {"value": "https://example.com/hook"}}})  # fmt: skip
    assert hook.status_code == 201, hook.text
    api.get(f"{base}/hog_functions/{hook.json()['id']}/")
    assert newest(api) == "Key 'admin' read hog function 'Orders hook' in project 'Shop' over REST — allowed."


def test_names_with_control_characters_read_escaped(api) -> None:
    base = _project(api)
    made = api.post(f"{base}/actions/", {"name": "Evil\nname", "steps": []}).json()
    api.get(f"{base}/actions/{made['id']}/")
    sentence = newest(api)
    assert "\n" not in sentence and "read action 'Evil" in sentence
