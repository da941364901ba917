"""Every error, on every route, has PostHog's body: type, code, detail, attr — and never a 500."""

from __future__ import annotations

import re

import pytest

from hedgerow.api.routes import all_routes

SHAPE = {"type", "code", "detail", "attr"}
KEYED = [r for r in all_routes() if r.auth == "key"]
WITH_BODY = [r for r in all_routes() if r.method in ("POST", "PUT", "PATCH", "DELETE")]
BAD_BODIES = [b"{not json", b"[1, 2, 3]", b'"a string"', b"null", b'{"name": null, "label": 12, "scopes": "x", "filters": "x"}', b"\xff\xfe"]
NOT_JSON = (b"{not json", b"\xff\xfe")
# Routes whose every field is optional (PostHog's serializer ignores unknown ones): the object
# body with only foreign fields is a valid, empty creation there.
EVERY_FIELD_OPTIONAL = {"annotations_create", "actions_create"}
FOREIGN_FIELDS = BAD_BODIES[4]
CAPTURE = {"/e/", "/i/v0/e/", "/capture/", "/track/", "/engage/", "/batch/", "/s/"}
FLAGS = {"/flags/", "/decide/"}


def _path(route, project_id):
    path = re.sub(r"{[a-z_]+:int}", "1", route.path.replace("{project_id}", str(project_id)))
    return re.sub(r"{[a-z_]+}", "@current", path)


def _check_public(route, body: bytes, response) -> None:
    """Capture answers PostHog's capture error body; /flags/ its plain-text sentence (as the
    flags service does). Garbage is never accepted."""
    if route.path in CAPTURE:
        assert 400 <= response.status_code < 500, (body, response.text)
        error = response.json()
        assert set(error) == SHAPE and error["attr"] is None, (body, response.text)
        assert (error["type"], response.status_code) in {("validation_error", 400), ("authentication_error", 401)}
        assert error["code"] in {"request_parsing_error", "request_decoding_error", "no_token"}, response.text
    elif route.path in FLAGS:
        assert response.status_code == 400, (body, response.text)
        assert response.headers["content-type"].startswith("text/plain"), response.headers
        assert response.text and "\n" not in response.text
    else:
        pytest.fail(f"no expected error body declared for {route.method} {route.path}")


@pytest.mark.parametrize("route", WITH_BODY, ids=lambda r: f"{r.method} {r.path}")
def test_bad_bodies_get_posthog_errors(api, route) -> None:
    """Every route that takes a body answers garbage with a 4xx in PostHog's shape; a route
    that ignores its body (DELETE) answers garbage JSON exactly as it answers no body."""
    path = _path(route, api.project_id)
    headers = {"Content-Type": "application/json", **(api.auth() if route.auth == "key" else {})}
    without = api.client.request(route.method, path, headers=headers)
    for body in BAD_BODIES:
        response = api.client.request(route.method, path, content=body, headers=headers)
        if route.auth == "public":
            _check_public(route, body, response)
            continue
        if route.self_service:  # refused before the body is read, whatever it holds
            assert (response.status_code, response.json()["code"]) == (403, "permission_denied"), body
        elif body in NOT_JSON:
            assert response.status_code == 400, (body, response.text)
            error = response.json()
            assert (error["type"], error["code"], error["attr"]) == ("invalid_request", "parse_error", None)
            assert error["detail"].startswith("JSON parse error - ")
        elif route.name in EVERY_FIELD_OPTIONAL and body == FOREIGN_FIELDS:
            assert response.status_code == 201, response.text
        elif route.method == "DELETE":
            assert (response.status_code, response.content) == (without.status_code, without.content), body
        else:
            assert 400 <= response.status_code < 500, (body, response.text)
            assert set(response.json()) == SHAPE, (body, response.text)


@pytest.mark.parametrize("route", KEYED, ids=lambda r: f"{r.method} {r.path}")
def test_unknown_project_is_404(shared_api, route) -> None:
    api = shared_api  # every call is refused with a 404: nothing changes
    if "{project_id}" not in route.path:
        pytest.skip("the project is not named in the path")
    for project in ("999999", "not-a-number"):
        path = re.sub(r"{[a-z_]+:int}", "1", route.path.replace("{project_id}", project))
        response = api.client.request(route.method, path, headers=api.auth(), json={})
        assert response.status_code == 404
        assert response.json() == {"type": "invalid_request", "code": "not_found", "detail": "Project not found.", "attr": None}


def test_unknown_route_is_404(api) -> None:
    for path in ("/api/nothing-here/", "/api/projects/1/nothing-here", "/definitely/not"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.json() == {"type": "invalid_request", "code": "not_found", "detail": "Endpoint not found.", "attr": None}


def test_wrong_method_is_405(api) -> None:
    response = api.delete(f"/api/projects/{api.project_id}/")
    assert response.status_code == 405
    assert response.json() == {
        "type": "invalid_request",
        "code": "method_not_allowed",
        "detail": 'Method "DELETE" not allowed.',
        "attr": None,
    }


def test_malformed_json_is_parse_error(api) -> None:
    response = api.client.post("/api/projects/", content=b"{oops", headers={**api.auth(), "Content-Type": "application/json"})
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "invalid_request" and body["code"] == "parse_error" and body["attr"] is None
    assert body["detail"].startswith("JSON parse error")


def test_oversized_body_is_413(api) -> None:
    response = api.client.post("/api/projects/", content=b"x" * (20 * 1024 * 1024 + 1), headers=api.auth())
    assert response.status_code == 413
    assert set(response.json()) == SHAPE


def test_unexpected_failure_is_opaque_500(api, monkeypatch) -> None:
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals at /var/lib/hedgerow")

    monkeypatch.setattr(api.services.projects, "visible_to", explode)
    response = api.get("/api/projects/")
    assert response.status_code == 500
    assert response.json() == {"type": "server_error", "code": "error", "detail": "A server error occurred.", "attr": None}
    assert "secret" not in response.text


def test_trailing_slash_and_environment_alias(api) -> None:
    for path in (f"/api/projects/{api.project_id}", f"/api/environments/{api.project_id}/", f"/api/environments/{api.project_id}"):
        response = api.get(path)
        assert response.status_code == 200, path
        assert response.json()["id"] == api.project_id
