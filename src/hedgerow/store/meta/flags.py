"""Feature flag rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hedgerow import clock
from hedgerow.store.meta.tables import feature_flags


@dataclass(frozen=True)
class FlagRecord:
    id: int
    project_id: int
    key: str
    name: str
    filters: dict[str, Any]
    deleted: bool
    active: bool
    version: int
    ensure_experience_continuity: bool
    rollback_conditions: Any
    performed_rollback: bool | None
    tags: list[str]
    evaluation_runtime: str
    bucketing_identifier: str | None
    is_remote_configuration: bool
    has_encrypted_payloads: bool
    has_enriched_analytics: bool
    creation_context: str
    created_by_id: int | None
    last_modified_by_id: int | None
    created_at: datetime
    updated_at: datetime
    last_called_at: datetime | None = None
    usage_dashboard_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_COLUMNS = [c.name for c in feature_flags.columns]


def _record(row: Any) -> FlagRecord:
    data = {name: getattr(row, name) for name in _COLUMNS}
    data["filters"] = dict(data["filters"] or {})
    data["tags"] = list(data["tags"] or [])
    for name in ("created_at", "updated_at", "last_called_at"):
        if data[name] is not None:
            data[name] = clock.as_utc(data[name])
    return FlagRecord(**data)


def insert(conn: Connection, values: dict[str, Any]) -> FlagRecord:
    flag_id = conn.execute(feature_flags.insert().values(**values)).inserted_primary_key[0]
    found = get(conn, values["project_id"], flag_id)
    assert found is not None
    return found


def get(conn: Connection, project_id: int, flag_id: int, *, for_update: bool = False) -> FlagRecord | None:
    query = sa.select(feature_flags).where(
        feature_flags.c.project_id == project_id, feature_flags.c.id == flag_id
    )
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    return _record(row) if row else None


def live_by_key(conn: Connection, project_id: int, key: str) -> FlagRecord | None:
    row = conn.execute(
        sa.select(feature_flags).where(
            feature_flags.c.project_id == project_id,
            feature_flags.c.key == key,
            feature_flags.c.deleted.is_(False),
        )
    ).first()
    return _record(row) if row else None


def live(conn: Connection, project_id: int) -> list[FlagRecord]:
    """Every non-deleted flag of the project, oldest first."""
    rows = conn.execute(
        sa.select(feature_flags)
        .where(feature_flags.c.project_id == project_id, feature_flags.c.deleted.is_(False))
        .order_by(feature_flags.c.id)
    )
    return [_record(row) for row in rows]


def purge_deleted_key(conn: Connection, project_id: int, key: str) -> None:
    """Hard-delete soft-deleted flags holding ``key`` (PostHog does this on create)."""
    conn.execute(
        feature_flags.delete().where(
            feature_flags.c.project_id == project_id,
            feature_flags.c.key == key,
            feature_flags.c.deleted.is_(True),
        )
    )


def update(conn: Connection, flag_id: int, values: dict[str, Any]) -> None:
    conn.execute(feature_flags.update().where(feature_flags.c.id == flag_id).values(**values))


def latest_change(conn: Connection, project_id: int) -> tuple[Any, int]:
    """(newest ``updated_at``, row count) of the project's flags: a cheap change detector."""
    row = conn.execute(
        sa.select(sa.func.max(feature_flags.c.updated_at), sa.func.count()).where(
            feature_flags.c.project_id == project_id
        )
    ).first()
    return (row[0], row[1]) if row else (None, 0)
