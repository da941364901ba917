"""Organizations, users, memberships and projects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hedgerow import clock
from hedgerow.store.meta.tables import organization_memberships, organizations, projects, users

# PostHog's OrganizationMembership.Level
MEMBER, ADMIN, OWNER = 1, 8, 15


@dataclass(frozen=True)
class Organization:
    id: str
    name: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class User:
    id: int
    uuid: str
    distinct_id: str
    email: str
    first_name: str
    last_name: str
    current_project_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class Project:
    id: int
    uuid: str
    organization_id: str
    name: str
    api_token: str
    secret_api_token: str | None
    timezone: str
    week_start_day: int | None
    settings: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None


def _organization(row: Any) -> Organization:
    return Organization(
        id=row.id,
        name=row.name,
        created_at=clock.as_utc(row.created_at),
        updated_at=clock.as_utc(row.updated_at),
    )


def _user(row: Any) -> User:
    return User(
        id=row.id,
        uuid=row.uuid,
        distinct_id=row.distinct_id,
        email=row.email,
        first_name=row.first_name,
        last_name=row.last_name,
        current_project_id=row.current_project_id,
        created_at=clock.as_utc(row.created_at),
    )


def _project(row: Any) -> Project:
    return Project(
        id=row.id,
        uuid=row.uuid,
        organization_id=row.organization_id,
        name=row.name,
        api_token=row.api_token,
        secret_api_token=row.secret_api_token,
        timezone=row.timezone,
        week_start_day=row.week_start_day,
        settings=dict(row.settings or {}),
        created_at=clock.as_utc(row.created_at),
        updated_at=clock.as_utc(row.updated_at),
    )


# -- organizations ---------------------------------------------------------------------------


def create_organization(conn: Connection, name: str) -> Organization:
    now = clock.now()
    org_id = str(uuid.uuid4())
    conn.execute(
        organizations.insert().values(id=org_id, name=name, created_at=now, updated_at=now)
    )
    return Organization(id=org_id, name=name, created_at=now, updated_at=now)


def get_organization(conn: Connection, org_id: str) -> Organization | None:
    row = conn.execute(sa.select(organizations).where(organizations.c.id == org_id)).first()
    return _organization(row) if row else None


def first_organization(conn: Connection) -> Organization | None:
    row = conn.execute(
        sa.select(organizations).order_by(organizations.c.created_at, organizations.c.id).limit(1)
    ).first()
    return _organization(row) if row else None


# -- users and memberships -------------------------------------------------------------------


def create_user(conn: Connection, email: str, first_name: str = "") -> User:
    now = clock.now()
    values = {
        "uuid": str(uuid.uuid4()),
        "distinct_id": uuid.uuid4().hex,
        "email": email,
        "first_name": first_name,
        "last_name": "",
        "current_project_id": None,
        "created_at": now,
    }
    user_id = conn.execute(users.insert().values(**values)).inserted_primary_key[0]
    return User(id=user_id, **values)


def get_user(conn: Connection, user_id: int) -> User | None:
    row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
    return _user(row) if row else None


def user_by_email(conn: Connection, email: str) -> User | None:
    row = conn.execute(sa.select(users).where(users.c.email == email)).first()
    return _user(row) if row else None


def set_current_project(conn: Connection, user_id: int, project_id: int) -> None:
    conn.execute(users.update().where(users.c.id == user_id).values(current_project_id=project_id))


def add_membership(conn: Connection, organization_id: str, user_id: int, level: int) -> None:
    conn.execute(
        organization_memberships.insert().values(
            organization_id=organization_id, user_id=user_id, level=level, created_at=clock.now()
        )
    )


# The statements every API call runs are built once (building one costs more than running it).
_MEMBERSHIPS = sa.select(organization_memberships.c.organization_id, organization_memberships.c.level).where(
    organization_memberships.c.user_id == sa.bindparam("user_id")
)
_PROJECT = sa.select(projects).where(projects.c.id == sa.bindparam("project_id"))
_PROJECT_BY_TOKEN = sa.select(projects).where(projects.c.api_token == sa.bindparam("token"))
_PROJECT_AND_ORGANIZATION = (
    sa.select(
        projects,
        organizations.c.name.label("organization_name"),
        organizations.c.created_at.label("organization_created_at"),
        organizations.c.updated_at.label("organization_updated_at"),
    )
    .join(organizations, organizations.c.id == projects.c.organization_id)
    .where(projects.c.id == sa.bindparam("project_id"))
)


def memberships(conn: Connection, user_id: int) -> dict[str, int]:
    """The user's organizations and membership level in each."""
    rows = conn.execute(_MEMBERSHIPS, {"user_id": user_id})
    return {row.organization_id: row.level for row in rows}


def organization_owner(conn: Connection, organization_id: str) -> User | None:
    row = conn.execute(
        sa.select(users)
        .join(organization_memberships, organization_memberships.c.user_id == users.c.id)
        .where(organization_memberships.c.organization_id == organization_id)
        .order_by(organization_memberships.c.level.desc(), users.c.id)
        .limit(1)
    ).first()
    return _user(row) if row else None


# -- projects --------------------------------------------------------------------------------


def create_project(
    conn: Connection,
    organization_id: str,
    name: str,
    api_token: str,
    secret_api_token: str | None,
    timezone: str = "UTC",
    settings: dict[str, Any] | None = None,
) -> Project:
    now = clock.now()
    values = {
        "uuid": str(uuid.uuid4()),
        "organization_id": organization_id,
        "name": name,
        "api_token": api_token,
        "secret_api_token": secret_api_token,
        "timezone": timezone,
        "week_start_day": None,
        "settings": settings or {},
        "created_at": now,
        "updated_at": now,
    }
    project_id = conn.execute(projects.insert().values(**values)).inserted_primary_key[0]
    return Project(id=project_id, **values)


def get_project(conn: Connection, project_id: int) -> Project | None:
    row = conn.execute(_PROJECT, {"project_id": project_id}).first()
    return _project(row) if row else None


def project_and_organization(conn: Connection, project_id: int) -> tuple[Project, Organization] | None:
    """A project with its organization, in one query (every project-based API call needs both)."""
    row = conn.execute(_PROJECT_AND_ORGANIZATION, {"project_id": project_id}).first()
    if row is None:
        return None
    organization = Organization(
        id=row.organization_id,
        name=row.organization_name,
        created_at=clock.as_utc(row.organization_created_at),
        updated_at=clock.as_utc(row.organization_updated_at),
    )
    return _project(row), organization


def project_by_token(conn: Connection, api_token: str) -> Project | None:
    row = conn.execute(_PROJECT_BY_TOKEN, {"token": api_token}).first()
    return _project(row) if row else None


def project_by_secret_token(conn: Connection, secret: str) -> Project | None:
    row = conn.execute(sa.select(projects).where(projects.c.secret_api_token == secret)).first()
    return _project(row) if row else None


def list_projects(
    conn: Connection,
    organization_ids: list[str],
    project_ids: list[int] | None = None,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[Project], int]:
    """Projects of the given organizations (optionally only ``project_ids``), oldest first."""
    where = [projects.c.organization_id.in_(organization_ids)]
    if project_ids is not None:
        where.append(projects.c.id.in_(project_ids))
    total = conn.execute(sa.select(sa.func.count()).select_from(projects).where(*where)).scalar_one()
    query = sa.select(projects).where(*where).order_by(projects.c.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [_project(row) for row in conn.execute(query)], total


def all_projects(conn: Connection) -> list[Project]:
    return [_project(row) for row in conn.execute(sa.select(projects).order_by(projects.c.id))]


def update_project(conn: Connection, project_id: int, **changes: Any) -> None:
    if changes:
        conn.execute(
            projects.update()
            .where(projects.c.id == project_id)
            .values(**changes, updated_at=clock.now())
        )


def mark_project_setting(conn: Connection, project_id: int, key: str, value: Any) -> bool:
    """Set one key of a project's settings unless it already holds ``value`` (the row is
    locked for the read where the database can); True when it changed."""
    query = sa.select(projects.c.settings).where(projects.c.id == project_id).with_for_update()
    row = conn.execute(query).first()
    if row is None:
        return False
    settings = dict(row.settings or {})
    if settings.get(key) == value:
        return False
    settings[key] = value
    update_project(conn, project_id, settings=settings)
    return True
