"""``/api/personal_api_keys/``: a key reads itself and manages nothing; the operator manages keys.

PostHog's ``PersonalApiKeySelfAccessPermission``: with a personal API key, the only key
operation allowed is retrieving the key making the call.
"""

from __future__ import annotations

import pytest

from hedgerow.errors import ValidationError

REFUSED = {
    "type": "authentication_error",
    "code": "permission_denied",
    "detail": "This action does not support Personal API Key access",
    "attr": None,
}
SERIALIZER_FIELDS = {
    "id", "label", "value", "mask_value", "created_at", "last_used_at", "last_rolled_at",
    "user_id", "scopes", "scoped_teams", "scoped_organizations",
}


def _owner(api) -> int:
    return api.services.projects.bootstrap().user.id


def _snapshot(api) -> list[tuple]:
    return [(k.id, k.label, tuple(k.scopes), k.scoped_teams, k.scoped_organizations, k.mask_value)
            for k in api.services.keys.list()]


def test_any_key_reads_itself_without_a_scope(api) -> None:
    other = api.services.projects.create(api.organization_id, "Elsewhere")
    record, value = api.services.keys.create(
        _owner(api), "narrow", ["insight:read"], [other.id], None
    )
    for ref in ("@current", record.id):
        response = api.get(f"/api/personal_api_keys/{ref}/", key=value)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == SERIALIZER_FIELDS
        assert body["id"] == record.id and body["label"] == "narrow" and body["value"] is None
        assert body["scopes"] == ["insight:read"] and body["scoped_teams"] == [other.id]
        assert body["mask_value"] == value[:4] + "..." + value[-4:]


def test_admin_current_key(api) -> None:
    body = api.get("/api/personal_api_keys/@current/").json()
    assert body["label"] == "admin" and body["scopes"] == ["*"]


def test_a_key_cannot_read_another_key(api) -> None:
    other, _ = api.services.keys.create(_owner(api), "other", ["*"])
    response = api.get(f"/api/personal_api_keys/{other.id}/")  # the admin key, scope *
    assert response.status_code == 403
    assert response.json() == REFUSED


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/api/personal_api_keys/", None),
    ("POST", "/api/personal_api_keys/", {"label": "minted", "scopes": ["*"]}),
    ("PATCH", "/api/personal_api_keys/@current/", {"scopes": ["*"], "scoped_organizations": []}),
    ("PUT", "/api/personal_api_keys/@current/", {"label": "x", "scopes": ["*"]}),
    ("POST", "/api/personal_api_keys/@current/roll/", None),
    ("DELETE", "/api/personal_api_keys/@current/", None),
])
def test_key_management_refuses_every_key(api, method, path, body) -> None:
    before = _snapshot(api)
    count = len(api.services.audit.newest(1000))
    response = api.client.request(method, path, json=body, headers=api.auth())  # scope *
    assert response.status_code == 403, response.text
    assert response.json() == REFUSED
    assert _snapshot(api) == before
    assert len(api.services.audit.newest(1000)) == count + 1
    entry = api.services.audit.newest(1)[0]
    assert entry.decision == "denied" and entry.status == 403


def test_review_attack_a_key_cannot_mint_or_widen_a_key(api) -> None:
    """A key holding only personal_api_key:write, limited to one organization, tries to mint a
    ``*`` key and to widen itself, then to read persons it was denied."""
    record, attacker = api.services.keys.create(
        _owner(api), "attacker", ["personal_api_key:write"], None, [api.organization_id]
    )
    before = _snapshot(api)
    persons = f"/api/projects/{api.project_id}/persons/"
    assert api.get(persons, key=attacker).status_code == 403

    minted = api.post("/api/personal_api_keys/", {"label": "root", "scopes": ["*"]}, key=attacker)
    assert (minted.status_code, minted.json()) == (403, REFUSED)
    for method in ("PATCH", "PUT"):
        widened = api.client.request(
            method, "/api/personal_api_keys/@current/", headers=api.auth(attacker),
            json={"label": "attacker", "scopes": ["*"], "scoped_organizations": []},
        )
        assert (widened.status_code, widened.json()) == (403, REFUSED)
        by_id = api.client.request(method, f"/api/personal_api_keys/{record.id}/", headers=api.auth(attacker),
                                   json={"scopes": ["*"]})
        assert (by_id.status_code, by_id.json()) == (403, REFUSED)

    assert _snapshot(api) == before  # nothing minted, nothing widened
    assert api.get(persons, key=attacker).status_code == 403
    current = api.get("/api/personal_api_keys/@current/", key=attacker).json()
    assert current["scopes"] == ["personal_api_key:write"]
    assert current["scoped_organizations"] == [api.organization_id]


def test_operator_still_manages_keys(api) -> None:
    owner = _owner(api)
    record, value = api.services.keys.create(owner, "ops", ["project:read"])
    assert api.get(f"/api/projects/{api.project_id}/", key=value).status_code == 200
    api.services.keys.update(record.id, owner, {"scopes": ["insight:read"]})
    assert api.get(f"/api/projects/{api.project_id}/", key=value).status_code == 403  # immediate
    _, rolled = api.services.keys.roll(record.id, owner)
    assert api.get("/api/personal_api_keys/@current/", key=value).status_code == 401
    assert api.get("/api/personal_api_keys/@current/", key=rolled).status_code == 200
    api.services.keys.revoke(record.id)
    assert api.get("/api/personal_api_keys/@current/", key=rolled).status_code == 401


@pytest.mark.parametrize(
    "label, scopes, teams, orgs, attr, detail",
    [
        ("x", ["bogus:read"], None, None, "scopes", "Invalid scope: bogus:read"),
        ("x", ["insight:delete"], None, None, "scopes", "Invalid scope: insight:delete"),
        ("x", "insight:read", None, None, "scopes", "Expected a list of items."),
        ("", ["*"], None, None, "label", "This field may not be blank."),
        ("x" * 41, ["*"], None, None, "label", "Ensure this field has no more than 40 characters."),
        ("bot\n2026-01-01  200", ["*"], None, None, "label",
         "This field may not contain control characters."),
        ("\x1b[31mred", ["*"], None, None, "label", "This field may not contain control characters."),
        ("del\x7f", ["*"], None, None, "label", "This field may not contain control characters."),
        ("c1\x9b", ["*"], None, None, "label", "This field may not contain control characters."),
        ("x", ["*"], [987654], None, "scoped_teams", "You must be a member of all teams that you are scoping the key to."),
        ("x", ["*"], None, ["not-a-uuid"], "scoped_organizations", "Invalid organization UUID"),
        ("x", ["*"], None, ["00000000-0000-0000-0000-000000000000"], "scoped_organizations",
         "You must be a member of all organizations that you are scoping the key to."),
    ],
)
def test_create_validation_stores_nothing(api, label, scopes, teams, orgs, attr, detail) -> None:
    before = _snapshot(api)
    with pytest.raises(ValidationError) as caught:
        api.services.keys.create(_owner(api), label, scopes, teams, orgs)
    assert (caught.value.attr, caught.value.detail) == (attr, detail)
    assert _snapshot(api) == before


def test_at_most_ten_keys_per_user(api) -> None:
    owner = _owner(api)
    for i in range(10 - len(api.services.keys.list(owner))):
        api.services.keys.create(owner, f"k{i}", ["*"])
    with pytest.raises(ValidationError, match="You can only have 10 personal API keys."):
        api.services.keys.create(owner, "one-too-many", ["*"])


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


def test_key_in_the_query_is_decided_before_the_body_is_read(api) -> None:
    """With a key in the query the body is not searched (it is not read before the decision)."""
    response = api.client.post(
        "/api/projects/", params={"personal_api_key": "phx_bad"},
        json={"personal_api_key": api.admin_key, "name": "x"},
    )
    assert response.status_code == 401
    assert response.json()["detail"] == "Personal API key found in request query string is invalid."


def test_last_used_at_is_bumped(api) -> None:
    record, value = api.services.keys.create(_owner(api), "u", ["*"])
    assert record.last_used_at is None
    api.get("/api/users/@me/", key=value)
    assert api.services.keys.get(record.id).last_used_at is not None
