"""``/api/personal_api_keys/``: create, list, retrieve, update, roll, revoke, and validation."""

from __future__ import annotations

import pytest


def test_create_fields(api) -> None:
    response = api.post(
        "/api/personal_api_keys/",
        {"label": "agent", "scopes": ["insight:read", "query:read"], "scoped_teams": [api.project_id]},
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id", "label", "value", "mask_value", "created_at", "last_used_at", "last_rolled_at",
        "user_id", "scopes", "scoped_teams", "scoped_organizations",
    }
    assert body["scopes"] == ["insight:read", "query:read"]
    assert body["scoped_teams"] == [api.project_id]
    assert body["last_used_at"] is None
    assert body["created_at"].endswith("Z")


@pytest.mark.parametrize(
    "payload, attr, detail",
    [
        ({"scopes": ["*"]}, "label", "This field is required."),
        ({"label": "x"}, "scopes", "This field is required."),
        ({"label": "x", "scopes": ["bogus:read"]}, "scopes", "Invalid scope: bogus:read"),
        ({"label": "x", "scopes": ["insight:delete"]}, "scopes", "Invalid scope: insight:delete"),
        ({"label": "x", "scopes": "insight:read"}, "scopes", None),
        ({"label": "", "scopes": ["*"]}, "label", "This field may not be blank."),
        ({"label": "x" * 41, "scopes": ["*"]}, "label", "Ensure this field has no more than 40 characters."),
        ({"label": "x", "scopes": ["*"], "scoped_teams": [987654]}, "scoped_teams",
         "You must be a member of all teams that you are scoping the key to."),
        ({"label": "x", "scopes": ["*"], "scoped_organizations": ["not-a-uuid"]}, "scoped_organizations",
         "Invalid organization UUID"),
        ({"label": "x", "scopes": ["*"], "scoped_organizations": ["00000000-0000-0000-0000-000000000000"]},
         "scoped_organizations", "You must be a member of all organizations that you are scoping the key to."),
    ],
)
def test_create_validation(api, payload, attr, detail) -> None:
    before = len(api.get("/api/personal_api_keys/").json())
    response = api.post("/api/personal_api_keys/", payload)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["type"] == "validation_error" and body["attr"] == attr
    if detail:
        assert body["detail"] == detail
    assert len(api.get("/api/personal_api_keys/").json()) == before  # nothing stored


def test_at_most_ten_keys_per_user_over_rest(api) -> None:
    existing = len(api.get("/api/personal_api_keys/").json())
    for i in range(10 - existing):
        assert api.post("/api/personal_api_keys/", {"label": f"k{i}", "scopes": ["*"]}).status_code == 201
    response = api.post("/api/personal_api_keys/", {"label": "one-too-many", "scopes": ["*"]})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("You can only have 10 personal API keys.")


def test_update_roll_revoke(api) -> None:
    created = api.post("/api/personal_api_keys/", {"label": "a", "scopes": ["project:read"]}).json()
    key_id, value = created["id"], created["value"]
    assert api.get(f"/api/projects/{api.project_id}/", key=value).status_code == 200

    updated = api.patch(f"/api/personal_api_keys/{key_id}/", {"label": "b", "scopes": ["insight:read"]})
    assert updated.status_code == 200 and updated.json()["label"] == "b"
    assert api.get(f"/api/projects/{api.project_id}/", key=value).status_code == 403  # scope change is immediate

    rolled = api.post(f"/api/personal_api_keys/{key_id}/roll/").json()
    assert rolled["value"] != value and rolled["last_rolled_at"]
    assert api.get("/api/users/@me/", key=value).status_code == 401
    assert api.get("/api/users/@me/", key=rolled["value"]).status_code == 403  # valid; lacks user:read

    assert api.delete(f"/api/personal_api_keys/{key_id}/").status_code == 204
    assert api.get("/api/users/@me/", key=rolled["value"]).status_code == 401
    assert api.get(f"/api/personal_api_keys/{key_id}/").status_code == 404


def test_current_key(api) -> None:
    body = api.get("/api/personal_api_keys/@current/").json()
    assert body["label"] == "admin" and body["scopes"] == ["*"]


def test_key_found_in_body_or_query_and_only_first_candidate_tried(api) -> None:
    assert api.client.get("/api/users/@me/", params={"personal_api_key": api.admin_key}).status_code == 200
    assert api.client.post("/api/projects/", json={"personal_api_key": api.admin_key, "name": "Via body"}).status_code == 201
    # a bad header is not rescued by a good query parameter
    response = api.client.get(
        "/api/users/@me/", params={"personal_api_key": api.admin_key}, headers={"Authorization": "Bearer phx_bad"}
    )
    assert response.status_code == 401
    assert response.json()["detail"] == "Personal API key found in request Authorization header is invalid."
    body_bad = api.client.post("/api/projects/", json={"personal_api_key": "phx_bad", "name": "x"})
    assert body_bad.json()["detail"] == "Personal API key found in request body is invalid."
    query_bad = api.client.get("/api/projects/", params={"personal_api_key": "phx_bad"})
    assert query_bad.json()["detail"] == "Personal API key found in request query string is invalid."


def test_last_used_at_is_bumped(api) -> None:
    created = api.post("/api/personal_api_keys/", {"label": "u", "scopes": ["*"]}).json()
    api.get("/api/users/@me/", key=created["value"])
    assert api.get(f"/api/personal_api_keys/{created['id']}/").json()["last_used_at"] is not None
