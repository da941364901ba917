"""Every key-authenticated route × every kind of caller gives the exact status and body.

Generated from the route table itself: a new route fails here until its expected answer to a
key holding exactly the scopes it requires is declared in ``RIGHT_KEY`` (each call sends an
empty JSON object to write routes and names ``@current`` or ``1`` for path parameters, so
most item routes answer 404 and most create routes 400: the point is that they answer that,
and not a refusal or a 500).
"""

from __future__ import annotations

import re

import pytest

from hedgerow.api.routes import all_routes
from hedgerow.api.routing import Route

KEYED = [r for r in all_routes() if r.auth == "key"]

# What a key with exactly the route's scopes gets, by route name.
RIGHT_KEY: dict[str, int] = {
    "projects_list": 200,
    "projects_create": 400,
    "projects_retrieve": 200,
    "projects_partial_update": 200,
    "projects_update": 200,
    "organizations_list": 200,
    "organizations_retrieve": 200,
    "users_retrieve": 200,
    "personal_api_keys_list": 403,
    "personal_api_keys_create": 403,
    "personal_api_keys_retrieve": 200,
    "personal_api_keys_partial_update": 403,
    "personal_api_keys_update": 403,
    "personal_api_keys_destroy": 403,
    "personal_api_keys_roll_create": 403,
    "flags_definitions": 200,
    "feature_flag_local_evaluation": 200,
    "feature_flags_local_evaluation_retrieve": 200,
    "feature_flags_remote_config_retrieve": 404,
    "annotations_list": 200,
    "annotations_create": 201,  # every field is optional, as in PostHog's serializer
    "annotations_retrieve": 404,
    "annotations_partial_update": 404,
    "annotations_update": 404,
    "annotations_destroy": 405,
    "insights_list": 200,
    "insights_create": 201,  # every field is optional, as in PostHog's serializer
    "insights_retrieve": 404,
    "insights_partial_update": 404,
    "insights_update": 404,
    "insights_destroy": 405,
    "dashboards_list": 200,
    "dashboards_create": 201,
    "dashboards_retrieve": 404,
    "dashboards_partial_update": 404,
    "dashboards_update": 404,
    "dashboards_destroy": 405,
    "feature_flags_list": 200,
    "feature_flags_create": 400,
    "feature_flags_retrieve": 404,
    "feature_flags_partial_update": 404,
    "feature_flags_update": 404,
    "feature_flags_destroy": 405,
    "cohorts_list": 200,
    "cohorts_create": 201,  # a dynamic cohort with no filters, as PostHog creates it
    "cohorts_retrieve": 404,
    "cohorts_partial_update": 404,
    "cohorts_update": 404,
    "cohorts_persons_retrieve": 404,
    "cohorts_add_persons_to_static_cohort_partial_update": 404,
    "cohorts_remove_person_from_static_cohort_partial_update": 404,
    "cohorts_destroy": 405,
    "persons_list": 200,
    "persons_retrieve": 400,
    "persons_partial_update": 400,
    "persons_update": 400,
    "persons_update_property_create": 400,
    "persons_delete_property_create": 400,
    "persons_destroy": 400,
    "persons_bulk_delete_create": 400,
    "persons_create": 405,
    "event_definitions_list": 200,
    "event_definitions_retrieve": 404,
    "property_definitions_list": 200,
    "property_definitions_retrieve": 404,
    "query_create": 400,
    "query_retrieve": 404,
    "query_destroy": 200,
    "agents_list": 200,
    "agents_create": 400,
    "agents_retrieve": 404,
    "agents_partial_update": 404,
    "agents_update": 404,
    "agents_destroy": 404,
    "audit_log_list": 200,
}

SELF_SERVICE_REFUSED = {
    "type": "authentication_error",
    "code": "permission_denied",
    "detail": "This action does not support Personal API Key access",
    "attr": None,
}


def _path(route: Route, project_id: int) -> str:
    path = route.path.replace("{project_id}", str(project_id))
    path = re.sub(r"{[a-z_]+:int}", "1", path)
    return re.sub(r"{[a-z_]+}", "@current", path)


def _call(api, route: Route, path: str, key: str | None):
    headers = api.auth(key) if key else {}
    return api.client.request(route.method, path, headers=headers, json={} if route.method in ("POST", "PUT", "PATCH") else None)


def _other_scope(route: Route) -> str:
    return "annotation:read" if route.scope is None or route.scope.object != "annotation" else "insight:read"


def _assert_right(response, route: Route) -> None:
    expected = RIGHT_KEY[route.name]
    assert response.status_code == expected, (route.name, response.text)
    if expected == 405 and route.method == "DELETE":
        assert response.content == b""  # PostHog's documented quirk: soft delete via PATCH
    elif expected >= 400:
        assert set(response.json()) == {"type", "code", "detail", "attr"}, response.text


def test_every_keyed_route_has_a_declared_answer() -> None:
    assert sorted(r.name for r in KEYED) == sorted(RIGHT_KEY)


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

    required = [str(route.scope), *map(str, route.extra_scopes)]
    other = api.services.projects.create(api.organization_id, "Elsewhere")
    if route.self_service:
        # a key reads itself whatever its scopes and limits, and does nothing else with keys
        for key in (api.admin_key, api.key([_other_scope(route)]), api.key(["*"], teams=[other.id])):
            response = _call(api, route, path, key)
            if RIGHT_KEY[route.name] == 403:
                assert (response.status_code, response.json()) == (403, SELF_SERVICE_REFUSED)
            else:
                _assert_right(response, route)
        return

    wrong_scope = _call(api, route, path, api.key([_other_scope(route)]))
    assert wrong_scope.status_code == 403, wrong_scope.text
    assert wrong_scope.json() == {
        "type": "authentication_error",
        "code": "permission_denied",
        "detail": f"API key missing required scope '{route.scope}'",
        "attr": None,
    }

    limited = _call(api, route, path, api.key(required, teams=[other.id]))
    if route.exempt_from_limits:
        _assert_right(limited, route)
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

    for extra in route.extra_scopes:  # every scope a route needs is checked, not just the first
        partial = _call(api, route, path, api.key([s for s in required if s != str(extra)]))
        assert partial.status_code == 403
        assert partial.json()["detail"] == f"API key missing required scope '{extra}'"

    _assert_right(_call(api, route, path, api.key(required)), route)

    if route.scope.action == "read":
        write_implies_read = _call(api, route, path, api.key([f"{route.scope.object}:write", *required[1:]]))
        _assert_right(write_implies_read, route)
