"""Organizations and projects: bootstrap, lookup, creation and settings."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Callable
from zoneinfo import available_timezones

from hedgerow.auth.keys import new_project_secret, new_project_token
from hedgerow.auth.principal import Principal
from hedgerow.errors import NotFound, ValidationError
from hedgerow.hogql.property_filters import PropertyFilterError, check_depth
from hedgerow.services.fields import name_text, shallow_json
from hedgerow.store.meta import tenancy
from hedgerow.store.meta.db import MetaDB
from hedgerow.store.meta.tenancy import OWNER, Organization, Project, User

ADMIN_EMAIL = "admin@hedgerow.local"
TIMEZONES = frozenset(available_timezones())

# Settings a project carries besides its columns, with PostHog's defaults for a new project.
DEFAULT_PROJECT_SETTINGS: dict[str, Any] = {
    "autocapture_opt_out": False,
    "autocapture_exceptions_opt_in": False,
    "session_recording_opt_in": False,
    "capture_console_log_opt_in": True,
    "capture_performance_opt_in": True,
    "heatmaps_opt_in": True,
    "anonymize_ips": False,
    "app_urls": [],
    "recording_domains": [],
    "test_account_filters": [],
    "test_account_filters_default_checked": False,
    "path_cleaning_filters": [],
    "data_attributes": ["data-attr"],
    "person_display_name_properties": None,
    "completed_snippet_onboarding": False,
    "ingested_event": False,
    "is_demo": False,
    "access_control": False,
    "inject_web_apps": False,
    "surveys_opt_in": None,
    "primary_dashboard": None,
    "slack_incoming_webhook": None,
}


@dataclass(frozen=True)
class Tenancy:
    organization: Organization
    project: Project
    user: User


class ProjectService:
    """Use cases over organizations and projects."""

    def __init__(self, db: MetaDB) -> None:
        self._db = db
        self.on_change: Callable[[], None] | None = None
        """Called after a project's settings change (the legacy action webhook reads them)."""

    def bootstrap(self) -> Tenancy:
        """The first organization, its owner and its default project, created if missing."""
        with self._db.write() as conn:
            org = tenancy.first_organization(conn)
            if org is None:
                org = tenancy.create_organization(conn, "Hedgerow")
                user = tenancy.user_by_email(conn, ADMIN_EMAIL) or tenancy.create_user(
                    conn, ADMIN_EMAIL, "Admin"
                )
                tenancy.add_membership(conn, org.id, user.id, OWNER)
                project = self._insert_project(conn, org.id, "Default project", "UTC")
                tenancy.set_current_project(conn, user.id, project.id)
            owner = tenancy.organization_owner(conn, org.id)
            assert owner is not None, "an organization always has an owner"
            projects, _ = tenancy.list_projects(conn, [org.id], limit=1)
            project = projects[0] if projects else self._insert_project(conn, org.id, "Default project", "UTC")
            return Tenancy(org, project, tenancy.get_user(conn, owner.id) or owner)

    def _insert_project(self, conn: Any, org_id: str, name: str, timezone: str) -> Project:
        return tenancy.create_project(
            conn,
            org_id,
            name,
            api_token=new_project_token(),
            secret_api_token=new_project_secret(),
            timezone=timezone,
            settings=dict(DEFAULT_PROJECT_SETTINGS),
        )

    def create(self, organization_id: str, name: str, timezone: str = "UTC") -> Project:
        name = validate_name(name)
        timezone = validate_timezone(timezone)
        with self._db.write() as conn:
            if tenancy.get_organization(conn, organization_id) is None:
                raise NotFound("Organization not found.")
            return self._insert_project(conn, organization_id, name, timezone)

    def get(self, project_id: int) -> Project | None:
        with self._db.read() as conn:
            return tenancy.get_project(conn, project_id)

    def with_organization(self, project_id: int) -> tuple[Project, Organization] | None:
        with self._db.read() as conn:
            return tenancy.project_and_organization(conn, project_id)

    def by_token(self, api_token: str) -> Project | None:
        with self._db.read() as conn:
            return tenancy.project_by_token(conn, api_token)

    def by_secret(self, secret: str) -> Project | None:
        with self._db.read() as conn:
            return tenancy.project_by_secret_token(conn, secret)

    def organization(self, organization_id: str) -> Organization | None:
        """The organization with this id; None for an unknown one or a string that is no UUID."""
        try:
            organization_id = str(uuid.UUID(organization_id))
        except (ValueError, TypeError, AttributeError):
            return None
        with self._db.read() as conn:
            return tenancy.get_organization(conn, organization_id)

    def user(self, user_id: int) -> User | None:
        with self._db.read() as conn:
            return tenancy.get_user(conn, user_id)

    def list_all(self) -> list[Project]:
        with self._db.read() as conn:
            return tenancy.all_projects(conn)

    def visible_to(
        self, principal: Principal, limit: int | None = None, offset: int = 0
    ) -> tuple[list[Project], int]:
        """The projects a key can see: its user's organizations, narrowed by the key's limits."""
        teams = list(principal.scoped_teams) if principal.scoped_teams else None
        with self._db.read() as conn:
            return tenancy.list_projects(
                conn, principal.organization_ids, teams, limit=limit, offset=offset
            )

    def home_organization(self, principal: Principal) -> Organization:
        """The organization a key acts in when a call names none (the current project's)."""
        with self._db.read() as conn:
            if principal.current_project_id is not None:
                project = tenancy.get_project(conn, principal.current_project_id)
                if project and project.organization_id in principal.organization_ids:
                    org = tenancy.get_organization(conn, project.organization_id)
                    if org:
                        return org
            for org_id in principal.organization_ids:
                org = tenancy.get_organization(conn, org_id)
                if org:
                    return org
        raise NotFound("Organization not found.")

    def operator(self) -> Principal:
        """The operator at the command line: may do anything, acts as the organization owner."""
        first = self.bootstrap()
        with self._db.read() as conn:
            memberships = tenancy.memberships(conn, first.user.id)
        return Principal(
            key_id="operator", key_label="operator", user_id=first.user.id, scopes=("*",),
            scoped_teams=None, scoped_organizations=None, memberships=memberships,
            current_project_id=first.project.id, kind="operator",
        )  # fmt: skip

    def current_project_id(self, principal: Principal) -> int | None:
        """What ``@current`` means for this key: the user's current project, unless the key
        is limited to other projects, then the first project it may reach."""
        current = principal.current_project_id
        if principal.scoped_teams and current not in principal.scoped_teams:
            return principal.scoped_teams[0]
        return current

    def mark_ingested(self, project_id: int) -> None:
        """Record that a project has received an event (PostHog's ``ingested_event``)."""
        with self._db.write() as conn:
            tenancy.mark_project_setting(conn, project_id, "ingested_event", True)

    def update(self, project: Project, changes: dict[str, Any]) -> Project:
        columns: dict[str, Any] = {}
        settings = dict(project.settings)
        for key, value in changes.items():
            if key == "name":
                columns["name"] = validate_name(value)
            elif key == "timezone":
                columns["timezone"] = validate_timezone(value)
            elif key == "week_start_day":
                columns["week_start_day"] = value
            elif key == "test_account_filters":
                settings[key] = _test_account_filters(value)
            else:
                settings[key] = shallow_json(value, key)
        if settings != project.settings:
            columns["settings"] = settings
        with self._db.write() as conn:
            tenancy.update_project(conn, project.id, **columns)
            updated = tenancy.get_project(conn, project.id)
        assert updated is not None
        if self.on_change is not None:
            self.on_change()
        return updated


def _test_account_filters(value: Any) -> Any:
    """Filters every query and destination of the project may apply: refused when nested
    deeper than the compiler takes (their meaning is checked where they are applied)."""
    try:
        check_depth(shallow_json(value, "test_account_filters"))
    except PropertyFilterError as exc:
        raise ValidationError(exc.detail, code="invalid", attr="test_account_filters") from None
    return value


def validate_name(name: Any) -> str:
    return name_text(name, "name", 200)


def validate_timezone(timezone: str) -> str:
    if timezone not in TIMEZONES:
        raise ValidationError(f'"{timezone}" is not a valid choice.', code="invalid_choice", attr="timezone")
    return timezone
