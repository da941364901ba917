"""Projects (each is also its own environment): list, create, retrieve, update."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hedgerow import clock
from hedgerow.control_chars import NAME_PATTERN
from hedgerow.services.catalogue import Catalogue, Context, Listed, NoInput, Output, Tool
from hedgerow.services.catalogue.paging import Paged, listing
from hedgerow.services.tenancy import DEFAULT_PROJECT_SETTINGS, TIMEZONES
from hedgerow.services.records import Project

operations = Catalogue()


class ProjectBasic(Output):
    """How projects appear in lists and inside other objects."""

    id: int
    uuid: str
    organization: str
    project_id: int
    api_token: str
    name: str
    completed_snippet_onboarding: bool | None
    has_completed_onboarding_for: None = None
    ingested_event: bool
    is_demo: bool
    timezone: str
    access_control: bool

    @classmethod
    def of(cls, project: Project) -> "ProjectBasic":
        return cls(**_basic(project, {**DEFAULT_PROJECT_SETTINGS, **project.settings}))


def _basic(project: Project, settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": project.id,
        "uuid": project.uuid,
        "organization": project.organization_id,
        "project_id": project.id,
        "api_token": project.api_token,
        "name": project.name,
        "completed_snippet_onboarding": settings["completed_snippet_onboarding"],
        "ingested_event": settings["ingested_event"],
        "is_demo": settings["is_demo"],
        "timezone": project.timezone,
        "access_control": settings["access_control"],
    }


class ProjectDetail(ProjectBasic):
    """The full project, as retrieve, create and update return it: the basic fields, its
    settings (as they may be set, each may be null), then the rest."""

    autocapture_opt_out: bool | None
    autocapture_exceptions_opt_in: bool | None
    session_recording_opt_in: bool | None
    capture_console_log_opt_in: bool | None
    capture_performance_opt_in: bool | None
    heatmaps_opt_in: bool | None
    anonymize_ips: bool | None
    app_urls: list[str | None] | None
    recording_domains: list[str | None] | None
    test_account_filters: list[dict[str, Any]] | None
    test_account_filters_default_checked: bool | None
    path_cleaning_filters: list[dict[str, Any]] | None
    data_attributes: list[str] | None
    person_display_name_properties: list[str] | None
    inject_web_apps: bool | None
    surveys_opt_in: bool | None
    primary_dashboard: int | None
    slack_incoming_webhook: str | None
    created_at: str | None
    updated_at: str | None
    week_start_day: int | None
    secret_api_token: str | None
    secret_api_token_backup: None = None
    effective_membership_level: int | None
    has_group_types: bool = False
    group_types: list[Any] = []
    live_events_token: None = None
    product_intents: list[Any] = []
    default_modifiers: dict[str, Any] = {}
    person_on_events_querying_enabled: bool = True

    @classmethod
    def of(cls, project: Project, membership_level: int | None = None) -> "ProjectDetail":
        settings = {**DEFAULT_PROJECT_SETTINGS, **project.settings}
        return cls(
            **_basic(project, settings),
            **{name: value for name, value in settings.items() if name in _SETTINGS},
            created_at=clock.iso(project.created_at),
            updated_at=clock.iso(project.updated_at),
            week_start_day=project.week_start_day,
            secret_api_token=project.secret_api_token,
            effective_membership_level=membership_level,
        )


_SETTINGS = frozenset(DEFAULT_PROJECT_SETTINGS) - frozenset(ProjectBasic.model_fields)


ZONE = Field(default="UTC", json_schema_extra={"enum": sorted(TIMEZONES)})


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [{"name": "Shop", "timezone": "UTC"}]})
    name: str = Field(min_length=1, max_length=200, json_schema_extra={"pattern": NAME_PATTERN})
    timezone: str = ZONE


class ProjectUpdate(BaseModel):
    """Fields a project's settings may change; anything else in the body is ignored. Strict:
    a flag is a JSON boolean, as the document says (``0.0`` is not ``false``)."""

    model_config = ConfigDict(extra="ignore", strict=True)
    name: str = Field(default=None, min_length=1, max_length=200, json_schema_extra={"pattern": NAME_PATTERN})
    timezone: str | None = Field(default=None, json_schema_extra={"enum": sorted(TIMEZONES)})
    week_start_day: int | None = Field(default=None, ge=0, le=1)
    autocapture_opt_out: bool | None = None
    autocapture_exceptions_opt_in: bool | None = None
    session_recording_opt_in: bool | None = None
    capture_console_log_opt_in: bool | None = None
    capture_performance_opt_in: bool | None = None
    heatmaps_opt_in: bool | None = None
    anonymize_ips: bool | None = None
    app_urls: list[str | None] | None = None
    recording_domains: list[str | None] | None = None
    test_account_filters: list[dict[str, Any]] | None = None
    test_account_filters_default_checked: bool | None = None
    path_cleaning_filters: list[dict[str, Any]] | None = None
    data_attributes: list[str] | None = None
    person_display_name_properties: list[str] | None = None
    completed_snippet_onboarding: bool | None = None
    surveys_opt_in: bool | None = None
    inject_web_apps: bool | None = None
    primary_dashboard: int | None = None
    slack_incoming_webhook: str | None = Field(default=None, max_length=500)


def _detail(ctx: Context, project: Project) -> ProjectDetail:
    return ProjectDetail.of(project, ctx.principal.memberships.get(project.organization_id))


@operations.operation("project.list", "project:read", input=Paged, place="global", output=ProjectBasic,
                      tool=Tool("projects-get", "List projects", read_only=True))  # fmt: skip
def list_projects(ctx: Context, args: Paged) -> Listed:
    """The projects the key may reach, oldest first."""
    return listing(args, lambda limit, offset: _visible(ctx, limit, offset))


def _visible(ctx: Context, limit: int, offset: int) -> tuple[list[ProjectBasic], int]:
    projects, total = ctx.services.projects.visible_to(ctx.principal, limit, offset)
    return [ProjectBasic.of(p) for p in projects], total


@operations.operation("project.create", "project:write", input=ProjectCreate, place="global", output=ProjectDetail)
def create_project(ctx: Context, args: ProjectCreate) -> ProjectDetail:
    """A new project (with its own environment) in the key's organization."""
    org = ctx.services.projects.home_organization(ctx.principal)
    return _detail(ctx, ctx.services.projects.create(org.id, args.name, args.timezone))


@operations.operation("project.retrieve", "project:read", input=NoInput, output=ProjectDetail,
                      tool=Tool("project-get", "Get the current project", read_only=True))  # fmt: skip
def retrieve_project(ctx: Context, args: NoInput) -> ProjectDetail:
    """One project, with its tokens and settings."""
    assert ctx.project is not None
    return _detail(ctx, ctx.project)


@operations.operation("project.switch", "project:read", input=NoInput, output=ProjectBasic,
                      tool=Tool("switch-project", "Switch the session's project", read_only=False,
                                idempotent=True))  # fmt: skip
def switch_project(ctx: Context, args: NoInput) -> ProjectBasic:
    """Make a project the session's project (the key must reach it)."""
    assert ctx.project is not None
    return ProjectBasic.of(ctx.project)


@operations.operation("project.update", "project:write", input=ProjectUpdate, output=ProjectDetail)
def update_project(ctx: Context, args: ProjectUpdate) -> ProjectDetail:
    """Change a project's settings."""
    assert ctx.project is not None
    return _detail(ctx, ctx.services.projects.update(ctx.project, args.model_dump(exclude_unset=True)))
