"""Every key-authenticated route × every kind of caller gives the exact status and body.

Generated from the route table itself, so a new route is covered the moment it is declared.
"""

from __future__ import annotations

import re

import pytest

from hedgerow.api.routes import all_routes
from hedgerow.api.routing import Route

KEYED = [r for r in all_routes() if r.auth == "key"]


def _path(route: Route, project_id: int) -> str:
    path = route.path.replace("{project_id}", str(project_id))
    path = re.sub(r"{[a-z_]+:int}", "1", path)
    return re.sub(r"{[a-z_]+}", "@current", path)


def _call(api, route: Route, path: str, key: str | None):
    headers = api.auth(key) if key else {}
    return api.client.request(route.method, path, headers=headers, json={} if route.method in ("POST", "PUT", "PATCH") else None)


def _other_scope(route: Route) -> str:
    return "annotation:read" if route.scope is None or route.scope.object != "annotation" else "insight:read"


@pytest.mark.parametrize("route", KEYED, ids=lambda r: f"{r.method} {r.path}")
def test_scope_matrix(api, route: Route) -> None:
    path = _path(route, api.project_id)
    if route.project_from_token:
        path += f"?token={api.project_token}"

    no_key = _call(api, route, path, None)
    assert no_key.status_code == 401
    assert no_key.json() == {
        "type": "authentication_error",
        "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
        "attr": None,
    }

    bad_key = _call(api, route, path, "phx_this_is_not_a_key")
    assert bad_key.status_code == 401
    assert bad_key.json() == {
        "type": "authentication_error",
        "code": "authentication_failed",
        "detail": "Personal API key found in request Authorization header is invalid.",
        "attr": None,
    }

    if route.scope is None:
        refused = _call(api, route, path, api.admin_key)
        assert refused.status_code == 403
        assert refused.json()["detail"] == "This action does not support personal API key access"
        return

    wrong_scope = _call(api, route, path, api.key([_other_scope(route)]))
    assert wrong_scope.status_code == 403, wrong_scope.text
    assert wrong_scope.json() == {
        "type": "authentication_error",
        "code": "permission_denied",
        "detail": f"API key missing required scope '{route.scope}'",
        "attr": None,
    }

    other = api.services.projects.create(api.organization_id, "Elsewhere")
    limited = _call(api, route, path, api.key(["*"], teams=[other.id]))
    if route.exempt_from_limits:
        assert limited.status_code not in (401, 403, 500), limited.text
    else:
        assert limited.status_code == 403
        expected = (
            f"API key does not have access to the requested project: ID {api.project_id}."
            if route.project_based
            else "API keys with scoped projects are only supported on project-based endpoints."
        )
        assert limited.json() == {
            "type": "authentication_error",
            "code": "permission_denied",
            "detail": expected,
            "attr": None,
        }

    required = [str(route.scope), *map(str, route.extra_scopes)]
    for extra in route.extra_scopes:  # every scope a route needs is checked, not just the first
        partial = _call(api, route, path, api.key([s for s in required if s != str(extra)]))
        assert partial.status_code == 403
        assert partial.json()["detail"] == f"API key missing required scope '{extra}'"

    right = _call(api, route, path, api.key(required))
    assert right.status_code not in (401, 403, 500), right.text
    if right.status_code == 405 and route.method == "DELETE":
        assert right.content == b""
    elif right.status_code >= 400:
        assert set(right.json()) == {"type", "code", "detail", "attr"}

    if route.scope.action == "read":
        write_implies_read = _call(api, route, path, api.key([f"{route.scope.object}:write", *required[1:]]))
        assert write_implies_read.status_code not in (401, 403, 500)
