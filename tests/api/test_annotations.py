"""Annotations: PostHog's fields, filters, ordering, organization scope, soft deletion, bad input."""

from __future__ import annotations

import pytest


def url(api, project_id: int | None = None) -> str:
    return f"/api/projects/{project_id or api.project_id}/annotations/"


def create(api, project_id: int | None = None, **body):
    response = api.post(url(api, project_id), body)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_retrieve_fields(api) -> None:
    made = create(api, content="Launch", date_marker="2026-03-01T10:00:00Z", scope="project")
    assert made["content"] == "Launch" and made["date_marker"].startswith("2026-03-01T10:00:00")
    assert made["scope"] == "project" and made["creation_type"] == "USR" and made["deleted"] is False
    assert made["created_by"]["email"] == "admin@hedgerow.local"
    for field in ("dashboard_item", "dashboard_id", "insight_short_id", "created_at", "updated_at"):
        assert field in made
    assert api.get(url(api) + f"{made['id']}/").json() == made


def test_list_newest_first_with_filters(api) -> None:
    create(api, content="old release", date_marker="2026-01-01T00:00:00Z", scope="project")
    create(api, content="new release", date_marker="2026-03-01T00:00:00Z", scope="project")
    create(api, content="100% off", date_marker="2026-02-01T00:00:00Z", scope="dashboard_item")
    body = api.get(url(api)).json()
    assert [a["content"] for a in body["results"]] == ["new release", "100% off", "old release"]
    assert body["count"] == 3 and "next" in body and "previous" in body
    assert [a["content"] for a in api.get(url(api) + "?scope=dashboard_item").json()["results"]] == ["100% off"]
    assert [a["content"] for a in api.get(url(api) + "?search=RELEASE").json()["results"]] == [
        "new release", "old release"]  # fmt: skip
    assert [a["content"] for a in api.get(url(api) + "?search=%25").json()["results"]] == ["100% off"]
    window = api.get(url(api) + "?date_from=2026-01-15T00:00:00Z&date_to=2026-02-15T00:00:00Z").json()
    assert [a["content"] for a in window["results"]] == ["100% off"]
    page = api.get(url(api) + "?limit=1&offset=1").json()
    assert [a["content"] for a in page["results"]] == ["100% off"] and page["count"] == 3
    assert api.get(url(api) + "?limit=5000").status_code == 200


def test_organization_scope_shows_in_every_project(api) -> None:
    other = api.post("/api/projects/", {"name": "Second"})
    assert other.status_code == 201, other.text
    other_id = other.json()["id"]
    create(api, content="org wide", date_marker="2026-01-01T00:00:00Z", scope="organization")
    create(api, content="project only", date_marker="2026-01-02T00:00:00Z", scope="project")
    seen = [a["content"] for a in api.get(url(api, other_id)).json()["results"]]
    assert seen == ["org wide"]


def test_soft_delete_and_no_hard_delete(api) -> None:
    made = create(api, content="oops", date_marker="2026-01-01T00:00:00Z")
    one = url(api) + f"{made['id']}/"
    response = api.delete(one)
    assert response.status_code == 405 and response.content == b""
    changed = api.patch(one, {"content": "fixed"})
    assert changed.status_code == 200 and changed.json()["content"] == "fixed"
    assert api.patch(one, {"deleted": True}).json()["deleted"] is True
    assert api.get(one).status_code == 404
    assert api.get(url(api)).json()["count"] == 0


@pytest.mark.parametrize(
    "body, attr, code",
    [
        ({"content": "x" * 401}, "content", "max_length"),
        ({"content": "a\x00b"}, "content", "null_characters_not_allowed"),
        ({"content": {"a": 1}}, "content", "invalid"),
        ({"date_marker": "yesterday"}, "date_marker", "invalid"),
        ({"date_marker": 12}, "date_marker", "invalid"),
        ({"scope": "galaxy"}, "scope", "invalid_choice"),
        ({"creation_type": "BOT"}, "creation_type", "invalid_choice"),
        ({"dashboard_item": "abc"}, "dashboard_item", "incorrect_type"),
        ({"deleted": "yes"}, "deleted", "invalid"),
    ],
)
def test_bad_input_is_a_posthog_400_and_changes_nothing(api, body, attr, code) -> None:
    response = api.post(url(api), body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert set(error) == {"type", "code", "detail", "attr"}
    assert error["attr"] == attr and error["code"] == code and error["type"] == "validation_error"
    assert api.get(url(api)).json()["count"] == 0


@pytest.mark.parametrize(
    "query, detail",
    [
        ("date_from=notadate", "Invalid date range: date_from must be a valid ISO 8601 date"),
        ("date_to=2026-13-01", "Invalid date range: date_to must be a valid ISO 8601 date"),
        ("date_from=2026-02-01&date_to=2026-01-01", "Invalid date range: date_from must be before date_to"),
        ("scope=galaxy", "Invalid scope: galaxy"),
    ],
)
def test_bad_list_filters_are_400(api, query, detail) -> None:
    response = api.get(url(api) + "?" + query)
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == detail and response.json()["type"] == "validation_error"


def test_insight_scope_filter_means_dashboard_item(api) -> None:
    create(api, content="on a chart", date_marker="2026-01-01T00:00:00Z", scope="dashboard_item")
    create(api, content="project", date_marker="2026-01-01T00:00:00Z", scope="project")
    assert [a["content"] for a in api.get(url(api) + "?scope=insight").json()["results"]] == ["on a chart"]


def test_recording_scope_is_deprecated(api) -> None:
    response = api.post(url(api), {"content": "x", "scope": "recording"})
    assert response.status_code == 400 and response.json()["detail"] == "Recording scope is deprecated"


def test_default_page_holds_more_than_a_hundred(api) -> None:
    for day in range(1, 102):
        create(api, content=f"n{day}", date_marker="2026-01-01T00:00:00Z")
    body = api.get(url(api)).json()
    assert body["count"] == 101 and len(body["results"]) == 101 and body["next"] is None


def test_scopes(api) -> None:
    reader = api.key(["annotation:read"])
    assert api.get(url(api), key=reader).status_code == 200
    assert api.post(url(api), {"content": "x"}, key=reader).status_code == 403
    other = api.key(["feature_flag:read"])
    assert api.get(url(api), key=other).status_code == 403


def test_an_id_beyond_64_bits_names_no_annotation(api) -> None:
    huge = url(api) + "99999999999999999999999/"
    for answer in (api.get(huge), api.patch(huge, {"content": "x"})):
        assert answer.status_code == 404 and answer.json()["code"] == "not_found", answer.text
