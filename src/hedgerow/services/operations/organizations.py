"""Organizations (``@current`` is the organization of the key's current project) and the
calling user."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from hedgerow import clock
from hedgerow.errors import NotFound
from hedgerow.services.catalogue import Catalogue, Context, Listed, NoInput, Tool
from hedgerow.services.catalogue.paging import Paged, sliced
from hedgerow.services.operations.projects import project_basic
from hedgerow.services.records import Organization, Project, User

operations = Catalogue()


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


def user_lookup(ctx: Context) -> Callable[[int | None], Any]:
    """Users by id, each looked up once (a list names the same creators again and again)."""

    @lru_cache(maxsize=None)
    def lookup(user_id: int | None) -> Any:
        return ctx.services.projects.user(user_id) if user_id is not None else None

    return lookup


def organization_basic(org: Organization, projects: list[Project], level: int | None) -> dict[str, Any]:
    projects = [p for p in projects if p.organization_id == org.id]
    return {
        "id": org.id,
        "name": org.name,
        "slug": org.name.lower().replace(" ", "-"),
        "logo_media_id": None,
        "created_at": clock.iso(org.created_at),
        "updated_at": clock.iso(org.updated_at),
        "membership_level": level,
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


def _organization(ctx: Context, org: Organization) -> dict[str, Any]:
    visible, _ = ctx.services.projects.visible_to(ctx.principal)
    return organization_basic(org, visible, ctx.principal.memberships.get(org.id))


@operations.operation("organization.list", "organization:read", input=Paged, place="global",
                      tool=Tool("organizations-get", "List organizations", read_only=True))  # fmt: skip
def list_organizations(ctx: Context, args: Paged) -> Listed:
    """The organizations the key may reach."""
    orgs = [ctx.services.projects.organization(o) for o in ctx.principal.organization_ids]
    return sliced(args, [_organization(ctx, o) for o in orgs if o is not None])


@operations.operation("organization.retrieve", "organization:read", input=NoInput, place="organization")
def retrieve_organization(ctx: Context, args: NoInput) -> dict[str, Any]:
    """One organization."""
    org = ctx.services.projects.organization(ctx.organization_id) if ctx.organization_id else None
    if org is None or org.id not in ctx.principal.organization_ids:
        raise NotFound("Organization not found.")
    return _organization(ctx, org)


@operations.operation("user.me", "user:read", input=NoInput, place="caller")
def me(ctx: Context, args: NoInput) -> dict[str, Any]:
    """The user the key belongs to, with their organization and current project."""
    projects = ctx.services.projects
    user = projects.user(ctx.principal.user_id)
    if user is None:
        raise NotFound()
    org = projects.home_organization(ctx.principal)
    current_id = projects.current_project_id(ctx.principal)
    project = projects.get(current_id) if current_id is not None else None
    visible, _ = projects.visible_to(ctx.principal)
    level = ctx.principal.memberships.get(org.id)
    return {
        **user_basic(user),
        "date_joined": clock.iso(user.created_at),
        "is_staff": False,
        "is_impersonated": False,
        "has_password": False,
        "organization": organization_basic(org, visible, level),
        "organizations": [{"id": org.id, "name": org.name, "slug": org.name.lower(), "membership_level": level}],
        "team": project_basic(project) if project else None,
        "scopes": list(ctx.principal.scopes),
    }
