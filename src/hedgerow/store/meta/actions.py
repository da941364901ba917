"""Action records: a project's actions (deleted ones kept, as PostHog soft-deletes them)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hedgerow import clock
from hedgerow.store.meta.tables import actions, projects

Version = tuple[int, Any]
"""What changes whenever one of a project's actions does: (how many, the latest change)."""


@dataclass(frozen=True)
class ActionRecord:
    id: int | None
    project_id: int
    name: str | None
    description: str
    tags: list[str]
    post_to_slack: bool
    slack_message_format: str
    steps: list[dict[str, Any]]
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime
    last_calculated_at: datetime
    pinned_at: datetime | None
    deleted: bool


def _record(row: Any) -> ActionRecord:
    values = dict(row._mapping)
    for name in ("created_at", "updated_at", "last_calculated_at", "pinned_at"):
        values[name] = clock.as_utc(values[name]) if values[name] else None
    return ActionRecord(**values)


def insert(conn: Connection, action: ActionRecord) -> ActionRecord:
    values = asdict(action)
    values.pop("id")
    new_id = conn.execute(actions.insert().values(**values)).inserted_primary_key[0]
    return replace(action, id=new_id)


def get(conn: Connection, project_id: int, action_id: int) -> ActionRecord | None:
    """One action of the project, deleted or not (PostHog retrieves deleted ones too)."""
    query = sa.select(actions).where(actions.c.id == action_id, actions.c.project_id == project_id)
    row = conn.execute(query).first()
    return _record(row) if row else None


def search(conn: Connection, project_id: int, *, search: str | None = None,
           include_deleted: bool = False) -> list[ActionRecord]:  # fmt: skip
    """The project's actions, newest calculation first, then by name (PostHog's order)."""
    query = sa.select(actions).where(actions.c.project_id == project_id)
    if not include_deleted:
        query = query.where(actions.c.deleted.is_(False))
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(actions.c.name.ilike(f"%{escaped}%", escape="\\"))
    query = query.order_by(actions.c.last_calculated_at.desc(), actions.c.name, actions.c.id)
    return [_record(row) for row in conn.execute(query)]


def posting_to_slack(conn: Connection) -> list[ActionRecord]:
    """Every project's live actions with ``post_to_slack`` on (the legacy webhook's triggers)."""
    query = sa.select(actions).where(actions.c.deleted.is_(False), actions.c.post_to_slack.is_(True))
    return [_record(row) for row in conn.execute(query.order_by(actions.c.id))]


def named(conn: Connection, project_id: int, name: str, *, other_than: int | None = None) -> int | None:
    """The id of a live action of the project with exactly this name (another than ``other_than``)."""
    query = sa.select(actions.c.id).where(
        actions.c.project_id == project_id, actions.c.name == name, actions.c.deleted.is_(False)
    )
    if other_than is not None:
        query = query.where(actions.c.id != other_than)
    return conn.execute(query.order_by(actions.c.id).limit(1)).scalar()


def save(conn: Connection, action: ActionRecord) -> None:
    values = asdict(action)
    conn.execute(actions.update().where(actions.c.id == values.pop("id")).values(**values))


def version(conn: Connection, project_id: int) -> Version:
    """The project's actions' version: one aggregate over the project's index. :func:`stamp`
    makes the latest change grow with every committed change, so an equal version means the
    same actions."""
    query = sa.select(sa.func.count(), sa.func.max(actions.c.updated_at)).where(actions.c.project_id == project_id)
    count, latest = conn.execute(query).one()
    return int(count), latest


def stamp(conn: Connection, project_id: int, now: datetime) -> datetime:
    """The change time for a write to one of the project's actions, in the writing transaction:
    later than every stored one (whatever the writers' clocks), with the project's row locked
    (PostgreSQL; SQLite has one writer) so that concurrent writers stamp one after the other."""
    conn.execute(sa.select(projects.c.id).where(projects.c.id == project_id).with_for_update())
    query = sa.select(sa.func.max(actions.c.updated_at)).where(actions.c.project_id == project_id)
    latest = conn.execute(query).scalar()
    if latest is not None and clock.as_utc(latest) >= now:
        return clock.as_utc(latest) + timedelta(microseconds=1)
    return now
