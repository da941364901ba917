"""Organizations: ``GET /api/organizations/`` and ``/api/organizations/:id/`` (``@current``)."""

from __future__ import annotations

from typing import Any

from hedgerow import clock
from hedgerow.api.call import Call
from hedgerow.api.pagination import envelope, page_from
from hedgerow.api.routes.projects import project_basic
from hedgerow.api.routing import RouteTable
from hedgerow.errors import NotFound
from hedgerow.services.records import Organization, Project

routes = RouteTable()


def organization_basic(org: Organization, projects: list[Project]) -> dict[str, Any]:
    projects = [p for p in projects if p.organization_id == org.id]
    return {
        "id": org.id,
        "name": org.name,
        "slug": org.name.lower().replace(" ", "-"),
        "logo_media_id": None,
        "created_at": clock.iso(org.created_at),
        "updated_at": clock.iso(org.updated_at),
        "membership_level": None,
        "plugins_access_level": 9,
        "teams": [project_basic(p) for p in projects],
        "projects": [{"id": p.id, "name": p.name, "organization_id": p.organization_id} for p in projects],
        "available_product_features": [],
        "is_member_join_email_enabled": True,
        "metadata": {},
        "customer_id": None,
        "enforce_2fa": None,
        "member_count": 1,
    }


def _organization(call: Call, org: Organization) -> dict[str, Any]:
    assert call.principal is not None
    visible, _ = call.services.projects.visible_to(call.principal)
    body = organization_basic(org, visible)
    body["membership_level"] = call.principal.memberships.get(org.id)
    return body


@routes.get("/api/organizations/", name="organizations_list", scope="organization:read")
def list_organizations(call: Call) -> dict[str, Any]:
    """The organizations the key may reach."""
    assert call.principal is not None
    orgs = [call.services.projects.organization(o) for o in call.principal.organization_ids]
    found = [_organization(call, o) for o in orgs if o is not None]
    page = page_from(call.query)
    return envelope(call.url, page, found[page.offset : page.offset + page.limit], len(found))


@routes.get(
    "/api/organizations/{organization_id}/", name="organizations_retrieve", scope="organization:read"
)
def retrieve_organization(call: Call) -> dict[str, Any]:
    """One organization; ``@current`` is the organization of the key's current project."""
    assert call.principal is not None
    raw = call.path_params["organization_id"]
    org = (
        call.services.projects.home_organization(call.principal)
        if raw == "@current"
        else call.services.projects.organization(raw)
    )
    if org is None or org.id not in call.principal.organization_ids:
        raise NotFound("Organization not found.")
    return _organization(call, org)
