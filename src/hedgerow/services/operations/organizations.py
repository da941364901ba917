"""Organizations (``@current`` is the organization of the key's current project) and the
calling user."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from hedgerow import clock
from hedgerow.errors import NotFound
from hedgerow.services.catalogue import Catalogue, Context, Listed, NoInput, Output, Tool
from hedgerow.services.catalogue.paging import Paged, sliced
from hedgerow.services.operations.projects import ProjectBasic
from hedgerow.services.records import Organization, Project, User

operations = Catalogue()


class UserBasic(Output):
    """PostHog's ``UserBasic``: how a user appears inside other objects (``created_by``...)."""

    id: int
    uuid: str
    distinct_id: str
    first_name: str
    last_name: str
    email: str
    is_email_verified: bool = True
    hedgehog_config: None = None
    role_at_organization: None = None

    @classmethod
    def of(cls, user: User | None) -> "UserBasic | None":
        if user is None:
            return None
        return cls(id=user.id, uuid=user.uuid, distinct_id=user.distinct_id, first_name=user.first_name,
                   last_name=user.last_name, email=user.email)  # fmt: skip


def user_lookup(ctx: Context) -> Callable[[int | None], Any]:
    """Users by id, each looked up once (a list names the same creators again and again)."""

    @lru_cache(maxsize=None)
    def lookup(user_id: int | None) -> Any:
        return ctx.services.projects.user(user_id) if user_id is not None else None

    return lookup


class ProjectRef(Output):
    id: int
    name: str
    organization_id: str


class OrganizationBasic(Output):
    """An organization, with the projects the caller may see in it."""

    id: str
    name: str
    slug: str
    logo_media_id: None = None
    created_at: str | None
    updated_at: str | None
    membership_level: int | None
    plugins_access_level: int = 9
    teams: list[ProjectBasic]
    projects: list[ProjectRef]
    available_product_features: list[Any] = []
    is_member_join_email_enabled: bool = True
    metadata: dict[str, Any] = {}
    customer_id: None = None
    enforce_2fa: None = None
    member_count: int = 1

    @classmethod
    def of(cls, org: Organization, projects: list[Project], level: int | None) -> "OrganizationBasic":
        projects = [p for p in projects if p.organization_id == org.id]
        return cls(
            id=org.id,
            name=org.name,
            slug=org.name.lower().replace(" ", "-"),
            created_at=clock.iso(org.created_at),
            updated_at=clock.iso(org.updated_at),
            membership_level=level,
            teams=[ProjectBasic.of(p) for p in projects],
            projects=[ProjectRef(id=p.id, name=p.name, organization_id=p.organization_id) for p in projects],
        )


class Membership(Output):
    id: str
    name: str
    slug: str
    membership_level: int | None


class Me(UserBasic):
    """The user a key belongs to, with their organization and current project."""

    date_joined: str | None
    is_staff: bool = False
    is_impersonated: bool = False
    has_password: bool = False
    organization: OrganizationBasic
    organizations: list[Membership]
    team: ProjectBasic | None
    scopes: list[str]


def _organization(ctx: Context, org: Organization) -> OrganizationBasic:
    visible, _ = ctx.services.projects.visible_to(ctx.principal)
    return OrganizationBasic.of(org, visible, ctx.principal.memberships.get(org.id))


@operations.operation("organization.list", "organization:read", input=Paged, place="global", output=OrganizationBasic,
                      tool=Tool("organizations-get", "List organizations", read_only=True))  # fmt: skip
def list_organizations(ctx: Context, args: Paged) -> Listed:
    """The organizations the key may reach."""
    orgs = [ctx.services.projects.organization(o) for o in ctx.principal.organization_ids]
    return sliced(args, [_organization(ctx, o) for o in orgs if o is not None])


@operations.operation("organization.retrieve", "organization:read", input=NoInput, place="organization",
                      output=OrganizationBasic)  # fmt: skip
def retrieve_organization(ctx: Context, args: NoInput) -> OrganizationBasic:
    """One organization."""
    org = ctx.services.projects.organization(ctx.organization_id) if ctx.organization_id else None
    if org is None or org.id not in ctx.principal.organization_ids:
        raise NotFound("Organization not found.")
    return _organization(ctx, org)


@operations.operation("user.me", "user:read", input=NoInput, place="caller", output=Me)
def me(ctx: Context, args: NoInput) -> Me:
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
    basic = UserBasic.of(user)
    assert basic is not None
    return Me(
        **dict(basic),
        date_joined=clock.iso(user.created_at),
        organization=OrganizationBasic.of(org, visible, level),
        organizations=[Membership(id=org.id, name=org.name, slug=org.name.lower(), membership_level=level)],
        team=ProjectBasic.of(project) if project else None,
        scopes=list(ctx.principal.scopes),
    )
