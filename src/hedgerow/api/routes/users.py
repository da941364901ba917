"""The calling user: ``GET /api/users/@me/``."""

from __future__ import annotations

from typing import Any

from hedgerow import clock
from hedgerow.api.call import Call
from hedgerow.api.routes.organizations import organization_basic
from hedgerow.api.routes.projects import project_basic
from hedgerow.api.routing import RouteTable
from hedgerow.errors import NotFound
from hedgerow.services.records import User

routes = RouteTable()


def user_basic(user: User | None) -> dict[str, Any] | None:
    """PostHog's ``UserBasic``: how a user appears inside other objects (``created_by``...)."""
    if user is None:
        return None
    return {
        "id": user.id,
        "uuid": user.uuid,
        "distinct_id": user.distinct_id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_email_verified": True,
        "hedgehog_config": None,
        "role_at_organization": None,
    }


@routes.get("/api/users/@me/", name="users_retrieve", scope="user:read", exempt_from_limits=True)
def me(call: Call) -> dict[str, Any]:
    """The user the key belongs to, with their organization and current project."""
    assert call.principal is not None
    services = call.services
    user = services.projects.user(call.principal.user_id)
    if user is None:
        raise NotFound()
    org = services.projects.home_organization(call.principal)
    current_id = services.projects.current_project_id(call.principal)
    project = services.projects.get(current_id) if current_id is not None else None
    visible, _ = services.projects.visible_to(call.principal)
    level = call.principal.memberships.get(org.id)
    return {
        **user_basic(user),
        "date_joined": clock.iso(user.created_at),
        "is_staff": False,
        "is_impersonated": False,
        "has_password": False,
        "organization": {**organization_basic(org, visible), "membership_level": level},
        "organizations": [{"id": org.id, "name": org.name, "slug": org.name.lower(), "membership_level": level}],
        "team": project_basic(project) if project else None,
        "scopes": list(call.principal.scopes),
    }
