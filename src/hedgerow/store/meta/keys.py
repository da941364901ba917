"""Personal API key records (only hashes are stored)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hedgerow import clock
from hedgerow.store.meta.agents import AgentRecord
from hedgerow.store.meta.agents import record as agent_record
from hedgerow.store.meta.tables import agents, personal_api_keys, users


@dataclass(frozen=True)
class PersonalAPIKeyRecord:
    id: str
    user_id: int
    label: str
    mask_value: str
    scopes: list[str]
    scoped_teams: list[int] | None
    scoped_organizations: list[str] | None
    created_at: datetime
    last_used_at: datetime | None
    last_rolled_at: datetime | None


def _record(row: Any) -> PersonalAPIKeyRecord:
    return PersonalAPIKeyRecord(
        id=row.id,
        user_id=row.user_id,
        label=row.label,
        mask_value=row.mask_value,
        scopes=list(row.scopes or []),
        scoped_teams=list(row.scoped_teams) if row.scoped_teams else None,
        scoped_organizations=list(row.scoped_organizations) if row.scoped_organizations else None,
        created_at=clock.as_utc(row.created_at),
        last_used_at=clock.as_utc(row.last_used_at) if row.last_used_at else None,
        last_rolled_at=clock.as_utc(row.last_rolled_at) if row.last_rolled_at else None,
    )


def insert(conn: Connection, record: PersonalAPIKeyRecord, secure_value: str) -> None:
    conn.execute(
        personal_api_keys.insert().values(
            id=record.id,
            user_id=record.user_id,
            label=record.label,
            secure_value=secure_value,
            mask_value=record.mask_value,
            scopes=record.scopes,
            scoped_teams=record.scoped_teams,
            scoped_organizations=record.scoped_organizations,
            created_at=record.created_at,
            last_used_at=None,
            last_rolled_at=None,
        )
    )


def by_secure_value(conn: Connection, secure_value: str) -> PersonalAPIKeyRecord | None:
    row = conn.execute(
        sa.select(personal_api_keys).where(personal_api_keys.c.secure_value == secure_value)
    ).first()
    return _record(row) if row else None


# Built once: constructing a statement costs ~100 us, more than running it on SQLite.
_WITH_OWNER = (
    sa.select(
        personal_api_keys,
        users.c.current_project_id,
        users.c.email.label("owner_email"),
        *[c.label(f"agent_{c.name}") for c in agents.c],
    )
    .join(users, users.c.id == personal_api_keys.c.user_id)
    .outerjoin(agents, agents.c.key_id == personal_api_keys.c.id)
    .where(personal_api_keys.c.secure_value == sa.bindparam("secure_value"))
)


@dataclass(frozen=True)
class KeyOwner:
    """A key, its owner's current project and e-mail, and its agent record if it is one."""

    key: PersonalAPIKeyRecord
    current_project_id: int | None
    owner_email: str
    agent: AgentRecord | None


def with_owner(conn: Connection, secure_value: str) -> KeyOwner | None:
    """A key with what every keyed call needs about it, in one query."""
    row = conn.execute(_WITH_OWNER, {"secure_value": secure_value}).first()
    if row is None:
        return None
    agent = None
    if row.agent_key_id is not None:
        agent = agent_record(SimpleNamespace(**{c.name: getattr(row, f"agent_{c.name}") for c in agents.c}))
    return KeyOwner(_record(row), row.current_project_id, row.owner_email, agent)


def get(conn: Connection, key_id: str, user_id: int | None = None) -> PersonalAPIKeyRecord | None:
    query = sa.select(personal_api_keys).where(personal_api_keys.c.id == key_id)
    if user_id is not None:
        query = query.where(personal_api_keys.c.user_id == user_id)
    row = conn.execute(query).first()
    return _record(row) if row else None


def list_all(conn: Connection, user_id: int | None = None) -> list[PersonalAPIKeyRecord]:
    query = sa.select(personal_api_keys).order_by(personal_api_keys.c.created_at.desc())
    if user_id is not None:
        query = query.where(personal_api_keys.c.user_id == user_id)
    return [_record(row) for row in conn.execute(query)]


def count_for_user(conn: Connection, user_id: int) -> int:
    return conn.execute(
        sa.select(sa.func.count())
        .select_from(personal_api_keys)
        .where(personal_api_keys.c.user_id == user_id)
    ).scalar_one()


def update(conn: Connection, key_id: str, **changes: Any) -> None:
    if changes:
        conn.execute(
            personal_api_keys.update().where(personal_api_keys.c.id == key_id).values(**changes)
        )


def delete(conn: Connection, key_id: str) -> bool:
    result = conn.execute(personal_api_keys.delete().where(personal_api_keys.c.id == key_id))
    return result.rowcount > 0
