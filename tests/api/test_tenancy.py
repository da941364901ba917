"""Projects (= environments), organizations and the calling user."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from starlette.testclient import TestClient


def test_project_detail(api) -> None:
    body = api.get(f"/api/projects/{api.project_id}/").json()
    assert body["id"] == api.project_id and body["api_token"] == api.project_token
    assert body["api_token"].startswith("phc_") and body["timezone"] == "UTC"
    assert body["organization"] == api.organization_id
    assert api.get("/api/projects/@current/").json()["id"] == api.project_id


def test_create_and_update(api) -> None:
    created = api.post("/api/projects/", {"name": "Shop", "timezone": "Europe/Berlin"})
    assert created.status_code == 201
    project = created.json()
    assert project["name"] == "Shop" and project["timezone"] == "Europe/Berlin"
    assert project["api_token"] != api.project_token
    patched = api.patch(f"/api/projects/{project['id']}/", {"name": "Shop 2", "autocapture_opt_out": True})
    assert patched.status_code == 200
    assert patched.json()["name"] == "Shop 2" and patched.json()["autocapture_opt_out"] is True
    assert api.get(f"/api/environments/{project['id']}/").json()["name"] == "Shop 2"


def test_update_validation_stores_nothing(api) -> None:
    for payload, attr in (
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"name": ""}, "name"),
        ({"week_start_day": 5}, "week_start_day"),
        ({"autocapture_opt_out": "sometimes"}, "autocapture_opt_out"),
        ({"app_urls": "not-a-list"}, "app_urls"),
    ):
        response = api.patch(f"/api/projects/{api.project_id}/", payload)
        assert response.status_code == 400, payload
        assert response.json()["attr"] == attr
    body = api.get(f"/api/projects/{api.project_id}/").json()
    assert body["name"] == "Default project" and body["timezone"] == "UTC"


def test_pagination_envelope_keeps_other_params(api) -> None:
    for i in range(4):
        api.post("/api/projects/", {"name": f"P{i}"})
    first = api.get("/api/projects/", params={"limit": 2, "foo": "bar"}).json()
    assert first["count"] == 5 and len(first["results"]) == 2 and first["previous"] is None
    nxt = urlparse(first["next"])
    assert nxt.scheme == "http" and nxt.netloc == "testserver" and nxt.path == "/api/projects/"
    assert parse_qs(nxt.query) == {"foo": ["bar"], "limit": ["2"], "offset": ["2"]}
    second = api.get(first["next"]).json()
    assert parse_qs(urlparse(second["previous"]).query) == {"foo": ["bar"], "limit": ["2"]}
    last = api.get("/api/projects/", params={"limit": 2, "offset": 4}).json()
    assert last["next"] is None and len(last["results"]) == 1
    assert parse_qs(urlparse(last["previous"]).query) == {"limit": ["2"], "offset": ["2"]}


@pytest.mark.parametrize("params", [{"limit": "9" * 30}, {"offset": "9" * 30}, {"offset": str(2**63)},
                                    {"limit": str(2**63), "offset": str(2**63)}])  # fmt: skip
def test_pagination_past_the_databases_integers_is_an_empty_or_full_page(api, params) -> None:
    """A limit or offset larger than the database's integers reads as 'everything' or 'past
    the end', as a merely large one does, instead of a 500."""
    page = api.get("/api/projects/", params=params)
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["count"] == 1 and len(body["results"]) == (0 if "offset" in params else 1) and body["next"] is None


def test_limited_key_sees_only_its_projects(api) -> None:
    other = api.services.projects.create(api.organization_id, "Other")
    key = api.key(["project:read"], teams=[other.id])
    assert api.get(f"/api/projects/{other.id}/", key=key).status_code == 200
    assert api.get("/api/projects/@current/", key=key).json()["id"] == other.id
    denied = api.get(f"/api/projects/{api.project_id}/", key=key)
    assert denied.json()["detail"] == f"API key does not have access to the requested project: ID {api.project_id}."


def test_organization_limits(api) -> None:
    key = api.key(["*"], orgs=[api.organization_id])
    assert api.get("/api/organizations/@current/", key=key).status_code == 200
    assert api.get(f"/api/projects/{api.project_id}/", key=key).status_code == 200


def test_organization_and_me(api) -> None:
    org = api.get("/api/organizations/@current/").json()
    assert org["id"] == api.organization_id and org["membership_level"] == 15
    assert [t["id"] for t in org["teams"]] == [api.project_id]
    me = api.get("/api/users/@me/").json()
    assert me["email"] == "admin@hedgerow.local" and me["team"]["id"] == api.project_id
    assert me["organization"]["id"] == api.organization_id


def test_me_shows_the_callers_membership_level(api) -> None:
    from hedgerow.store.meta import tenancy

    assert api.get("/api/users/@me/").json()["organization"]["membership_level"] == 15  # owner
    with api.services.meta.write() as conn:
        member = tenancy.create_user(conn, "member@example.com", "Member")
        tenancy.add_membership(conn, api.organization_id, member.id, tenancy.MEMBER)
    _, key = api.services.keys.create(member.id, "member-key", ["user:read"])
    me = api.get("/api/users/@me/", key=key).json()
    assert me["email"] == "member@example.com"
    assert me["organization"]["id"] == api.organization_id
    assert me["organization"]["membership_level"] == 1
    assert me["organizations"][0]["membership_level"] == 1


def test_project_and_names_refuse_control_characters(api) -> None:
    for name in ("Shop\n2026-01-01T00:00:00Z  200  forged", "\x1b[2Jwiped", "tab\there", "del\x7f", "nel\x85"):
        before = [p.name for p in api.services.projects.list_all()]
        created = api.post("/api/projects/", {"name": name})
        assert created.status_code == 400, created.text
        assert created.json() == {
            "type": "validation_error", "code": "invalid",
            "detail": "This field may not contain control characters.", "attr": "name",
        }
        renamed = api.patch(f"/api/projects/{api.project_id}/", {"name": name})
        assert renamed.status_code == 400 and renamed.json()["attr"] == "name"
        assert [p.name for p in api.services.projects.list_all()] == before
    assert api.post("/api/projects/", {"name": "Café [beta] — ünïcode"}).status_code == 201


def test_me_ignores_key_limits(api) -> None:
    other = api.services.projects.create(api.organization_id, "Other")
    key = api.key(["user:read"], teams=[other.id])
    assert api.get("/api/users/@me/", key=key).status_code == 200


def test_openapi_lists_every_keyed_route(api) -> None:
    from hedgerow.api.openapi import DOCUMENTED_PUBLIC
    from hedgerow.api.routes import all_routes

    doc = api.client.get("/api/schema/").json()
    assert doc["openapi"].startswith("3.")
    operations = {op["operationId"] for path in doc["paths"].values() for op in path.values()}
    documented = {r.name for r in all_routes() if r.operation is not None or r.path in DOCUMENTED_PUBLIC}
    assert operations == documented and "feature_flags_create" in operations and "capture_e_create" not in operations


def test_the_document_is_built_once_per_process_when_first_asked_for(settings) -> None:
    """Starting an app (every server start, every in-process test) does not build the document;
    the first GET builds the same document the route table gives, and later apps reuse it."""
    from hedgerow.api import openapi
    from hedgerow.api.app import create_app
    from hedgerow.api.routes import all_routes

    openapi.document.cache_clear()
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        assert openapi.document.cache_info().currsize == 0
        assert client.get("/api/schema/").json() == openapi.build(all_routes())
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        assert client.get("/api/schema/").status_code == 200
    assert openapi.document.cache_info().misses == 1


def test_public_endpoints_answer_cors_and_private_ones_do_not(api) -> None:
    preflight = api.client.options("/_health/", headers={
        "Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://shop.example"
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    simple = api.client.get("/_health", headers={"Origin": "https://shop.example"})
    assert simple.headers["access-control-allow-origin"] == "https://shop.example"
    private = api.get("/api/projects/", headers={"Origin": "https://shop.example"})
    assert "access-control-allow-origin" not in private.headers
