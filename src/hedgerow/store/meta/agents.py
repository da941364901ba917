"""Agent records: a personal API key's agent identity, owner, projects, expiry and access."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hedgerow import clock
from hedgerow.store.meta.tables import agents


@dataclass(frozen=True)
class AgentRecord:
    key_id: str
    organization_id: str
    name: str
    owner_id: int
    created_by_key_id: str | None
    access: dict[str, str]
    projects: list[int] | None
    expires_at: datetime | None
    created_at: datetime
    revoked_at: datetime | None = None


def record(row: Any) -> AgentRecord:
    return AgentRecord(
        key_id=row.key_id,
        organization_id=row.organization_id,
        name=row.name,
        owner_id=row.owner_id,
        created_by_key_id=row.created_by_key_id,
        access=dict(row.access or {}),
        projects=list(row.projects) if row.projects else None,
        expires_at=clock.as_utc(row.expires_at) if row.expires_at else None,
        created_at=clock.as_utc(row.created_at),
        revoked_at=clock.as_utc(row.revoked_at) if row.revoked_at else None,
    )


def insert(conn: Connection, agent: AgentRecord) -> None:
    conn.execute(agents.insert().values(**asdict(agent)))


def get(conn: Connection, key_id: str) -> AgentRecord | None:
    row = conn.execute(sa.select(agents).where(agents.c.key_id == key_id)).first()
    return record(row) if row else None


def in_organization(conn: Connection, organization_id: str, *, revoked: bool = False) -> list[AgentRecord]:
    query = sa.select(agents).where(agents.c.organization_id == organization_id)
    if not revoked:
        query = query.where(agents.c.revoked_at.is_(None))
    return [record(row) for row in conn.execute(query.order_by(agents.c.created_at.desc()))]


def by_name(conn: Connection, organization_id: str, name: str) -> AgentRecord | None:
    row = conn.execute(
        sa.select(agents).where(
            agents.c.organization_id == organization_id, agents.c.name == name, agents.c.revoked_at.is_(None)
        )
    ).first()
    return record(row) if row else None


def update(conn: Connection, key_id: str, **changes: Any) -> None:
    if changes:
        conn.execute(agents.update().where(agents.c.key_id == key_id).values(**changes))
