"""Destinations (hog functions): PostHog's fields, soft deletion, filters and inputs refused in
DRF's words, logs and metrics shapes, scopes."""

from __future__ import annotations

import uuid

import pytest

WEBHOOK = {"type": "destination", "template_id": "template-webhook"}


def url(api, suffix: str = "") -> str:
    return f"/api/projects/{api.project_id}/hog_functions/{suffix}"


def create(api, **body):
    response = api.post(url(api), {**WEBHOOK, "inputs": {"url": {"value": "https://example.com/hook"}}, **body})
    assert response.status_code == 201, response.text
    return response.json()


def test_create_from_the_webhook_template(api) -> None:
    made = create(api, name="Orders", enabled=True, filters={"events": [{"id": "order", "type": "events"}]})
    assert made["type"] == "destination" and made["name"] == "Orders" and made["enabled"] is True
    assert made["template"]["id"] == "template-webhook" and made["template"]["name"] == "HTTP Webhook"
    assert [i["key"] for i in made["inputs_schema"]] == ["url", "method", "body", "headers", "debug"]
    assert made["inputs"] == {  # the template's defaults for what was not given
        "url": {"value": "https://example.com/hook"}, "method": {"value": "POST"},
        "body": {"value": {"event": "{event}", "person": "{person}"}}, "debug": {"value": False},
    }  # fmt: skip
    assert made["filters"] == {"events": [{"id": "order", "type": "events"}]}
    assert "fetch(inputs.url" in made["hog"] and made["status"]["state"] == 1
    assert made["created_by"]["email"] == "admin@hedgerow.local"
    assert "template_id" not in made and "deleted" not in made  # write-only in PostHog
    uuid.UUID(made["id"])
    assert api.get(url(api, f"{made['id']}/")).json() == made


def test_defaults_disabled_and_named_after_the_template(api) -> None:
    made = create(api)
    assert made["enabled"] is False and made["name"] == "HTTP Webhook" and made["filters"] == {}
    assert made["description"] == "Sends a webhook templated by the incoming event data"


def test_list_is_minimal_and_filtered(api) -> None:
    first = create(api, name="Alpha", enabled=True)
    create(api, name="Zulu")
    body = api.get(url(api)).json()
    assert body["count"] == 2 and [f["name"] for f in body["results"]] == ["Alpha", "Zulu"]
    assert "inputs" not in body["results"][0] and "filters" in body["results"][0]
    assert [f["id"] for f in api.get(url(api, "?enabled=true")).json()["results"]] == [first["id"]]
    assert api.get(url(api, "?type=transformation")).json()["count"] == 0
    assert api.get(url(api, "?search=ZUL")).json()["count"] == 1


def test_update_and_soft_delete(api) -> None:
    made = create(api)
    one = url(api, f"{made['id']}/")
    changed = api.patch(one, {"name": "Renamed", "enabled": True, "inputs": {"url": {"value": "https://x.io/"},
                                                                            "method": {"value": "PUT"}}})  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Renamed" and changed.json()["inputs"]["method"] == {"value": "PUT"}
    response = api.delete(one)
    assert response.status_code == 405 and response.content == b""
    assert api.patch(one, {"deleted": True}).status_code == 200
    assert api.get(one).status_code == 404
    assert api.get(url(api)).json()["count"] == 0
    assert api.patch(one, {"name": "x"}).status_code == 404
    restored = api.patch(one, {"deleted": False})
    assert restored.status_code == 200 and api.get(one).status_code == 200


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"inputs": {}}, "inputs__url"),
        ({"inputs": {"url": {"value": 5}}}, "inputs__url"),
        ({"inputs": {"url": {"value": "ftp://example.com/"}}}, "inputs__url"),
        ({"inputs": {"url": {"value": "https://user:pw@example.com/"}}}, "inputs__url"),
        ({"inputs": {"url": {"value": "https://e.com/"}, "method": {"value": "TRACE"}}}, "inputs__method"),
        ({"inputs": {"url": {"value": "https://e.com/"}, "headers": {"value": {"a": 1}}}}, "inputs__headers"),
        ({"inputs": {"url": {"value": "https://e.com/{event.uuid|upper}"}}}, "inputs__url"),
        ({"inputs": {"url": {"value": "https://e.com/"}, "body": {"value": {"a": "{os.environ}"}}}}, "inputs__body"),
        ({"inputs": "nope"}, "inputs"),
        ({"type": "transformation"}, "type"),
        ({"type": None}, "type"),
        ({"template_id": "template-slack"}, "template_id"),
        ({"template_id": None}, "template_id"),
        ({"template_id": {"id": "template-webhook"}}, "template_id"),
        ({"template_id": ["template-webhook"]}, "template_id"),
        ({"hog": "fetch('http://evil')"}, "hog"),
        ({"filters": {"events": "order"}}, "filters"),
        ({"filters": {"events": [{"id": 5, "type": "events"}]}}, "filters"),
        ({"filters": {"actions": [{"id": "x", "type": "actions"}]}}, "filters"),
        ({"filters": {"properties": [{"key": "a", "operator": "nope", "value": 1, "type": "event"}]}}, "filters"),
        ({"filters": []}, "filters"),
        ({"mappings": [{"inputs": {}}]}, "mappings"),
        ({"enabled": "maybe"}, "enabled"),
        ({"name": "x" * 401}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"execution_order": "first"}, "execution_order"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(api, body, attr) -> None:
    full = {**WEBHOOK, "inputs": {"url": {"value": "https://example.com/"}}, **body}
    full = {k: v for k, v in full.items() if not (k in ("type", "template_id") and v is None)}
    response = api.post(url(api), full)
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"type", "code", "detail", "attr"} and response.json()["attr"] == attr
    assert api.get(url(api)).json()["count"] == 0


def test_type_cannot_change(api) -> None:
    made = create(api)
    response = api.patch(url(api, f"{made['id']}/"), {"type": "transformation"})
    assert response.status_code == 400 and response.json()["attr"] == "type"


def test_unknown_ids_are_404(api) -> None:
    assert api.get(url(api, f"{uuid.uuid4()}/")).status_code == 404
    assert api.get(url(api, "not-a-uuid/")).status_code == 404
    assert api.get(url(api, "not-a-uuid/logs/")).status_code == 404
    assert api.get(url(api, f"{uuid.uuid4()}/metrics/totals/")).status_code == 404


def test_logs_and_metrics_of_a_new_destination(api) -> None:
    made = create(api)
    logs = api.get(url(api, f"{made['id']}/logs/")).json()
    assert logs == {"count": 0, "next": None, "previous": None, "results": []}
    metrics = api.get(url(api, f"{made['id']}/metrics/?after=-2d&interval=day")).json()
    assert len(metrics["labels"]) == 3 and metrics["series"] == []
    assert api.get(url(api, f"{made['id']}/metrics/totals/")).json() == {"totals": {}}
    for bad in ("metrics/?interval=year", "metrics/?breakdown_by=level", "metrics/?after=yesterday",
                "logs/?after=soon", "metrics/totals/?before=" + "9" * 70, "logs/?after=-999999999d",
                "metrics/?after=-99999999w"):  # fmt: skip
        response = api.get(url(api, f"{made['id']}/{bad}"))
        assert response.status_code == 400, (bad, response.text)
        assert set(response.json()) == {"type", "code", "detail", "attr"}


def test_scopes_are_hog_function_read_and_write(api) -> None:
    made = create(api)
    reader = api.key(["hog_function:read"])
    assert api.get(url(api), key=reader).status_code == 200
    assert api.get(url(api, f"{made['id']}/logs/"), key=reader).status_code == 200
    refused = api.post(url(api), {**WEBHOOK, "inputs": {"url": {"value": "https://e.com/"}}}, key=reader)
    assert refused.status_code == 403
    assert api.patch(url(api, f"{made['id']}/"), {"enabled": True}, key=reader).status_code == 403
    assert api.get(url(api), key=api.key(["insight:read"])).status_code == 403
    writer = api.key(["hog_function:write"])
    made_by_writer = api.post(url(api), {**WEBHOOK, "inputs": {"url": {"value": "https://e.com/"}}}, key=writer)
    assert made_by_writer.status_code == 201


def test_environments_alias(api) -> None:
    made = create(api)
    response = api.get(f"/api/environments/{api.project_id}/hog_functions/{made['id']}/")
    assert response.status_code == 200 and response.json()["id"] == made["id"]
