"""Event and property definitions: upserts from ingestion, reads for the API."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from hedgerow import clock
from hedgerow.store.meta.tables import event_definitions, event_properties, property_definitions

NO_GROUP = -1  # group_type_index of event and person properties (the unique key has no NULLs)


@dataclass(frozen=True)
class EventDefinitionRow:
    id: str
    project_id: int
    name: str
    created_at: datetime
    last_seen_at: datetime | None


@dataclass(frozen=True)
class PropertyDefinitionRow:
    id: str
    project_id: int
    name: str
    type: int
    group_type_index: int | None
    property_type: str | None
    is_numerical: bool
    created_at: datetime
    last_seen_at: datetime | None


def _insert(conn: Connection, table: sa.Table):
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def upsert_events(conn: Connection, rows: Sequence[tuple[int, str, datetime]]) -> None:
    """(project, name, seen at): create new names, move ``last_seen_at`` forward."""
    if not rows:
        return
    statement = _insert(conn, event_definitions)
    statement = statement.on_conflict_do_update(
        index_elements=["project_id", "name"],
        set_={"last_seen_at": sa.func.max(event_definitions.c.last_seen_at, statement.excluded.last_seen_at)
              if conn.dialect.name == "sqlite"
              else sa.func.greatest(event_definitions.c.last_seen_at, statement.excluded.last_seen_at)},
    )
    conn.execute(
        statement,
        [
            {"id": str(uuid.uuid4()), "project_id": p, "name": n, "created_at": seen, "last_seen_at": seen}
            for p, n, seen in rows
        ],
    )


def upsert_properties(
    conn: Connection, rows: Sequence[tuple[int, str, int, int | None, str | None]], now: datetime
) -> None:
    """(project, name, kind, group index, type): create new ones; type a still-untyped one."""
    if not rows:
        return
    statement = _insert(conn, property_definitions)
    statement = statement.on_conflict_do_update(
        index_elements=["project_id", "type", "group_type_index", "name"],
        set_={
            "property_type": sa.func.coalesce(property_definitions.c.property_type, statement.excluded.property_type),
            "is_numerical": sa.or_(property_definitions.c.is_numerical, statement.excluded.is_numerical),
            "last_seen_at": statement.excluded.last_seen_at,
        },
    )
    conn.execute(
        statement,
        [
            {
                "id": str(uuid.uuid4()), "project_id": p, "name": n, "type": kind,
                "group_type_index": NO_GROUP if group is None else group, "property_type": ptype,
                "is_numerical": ptype == "Numeric", "created_at": now, "last_seen_at": now,
            }
            for p, n, kind, group, ptype in rows
        ],
    )


def add_event_properties(conn: Connection, rows: Sequence[tuple[int, str, str]]) -> None:
    if not rows:
        return
    statement = _insert(conn, event_properties).on_conflict_do_nothing(
        index_elements=["project_id", "event", "property"]
    )
    conn.execute(statement, [{"project_id": p, "event": e, "property": k} for p, e, k in rows])


def _event_row(row: Any) -> EventDefinitionRow:
    return EventDefinitionRow(
        id=row.id, project_id=row.project_id, name=row.name, created_at=clock.as_utc(row.created_at),
        last_seen_at=clock.as_utc(row.last_seen_at) if row.last_seen_at else None,
    )


def _property_row(row: Any) -> PropertyDefinitionRow:
    return PropertyDefinitionRow(
        id=row.id, project_id=row.project_id, name=row.name, type=row.type,
        group_type_index=None if row.group_type_index == NO_GROUP else row.group_type_index,
        property_type=row.property_type, is_numerical=bool(row.is_numerical),
        created_at=clock.as_utc(row.created_at),
        last_seen_at=clock.as_utc(row.last_seen_at) if row.last_seen_at else None,
    )


def events(conn: Connection, project_id: int | None = None) -> list[EventDefinitionRow]:
    query = sa.select(event_definitions).order_by(event_definitions.c.name)
    if project_id is not None:
        query = query.where(event_definitions.c.project_id == project_id)
    return [_event_row(r) for r in conn.execute(query)]


def properties(conn: Connection, project_id: int | None = None) -> list[PropertyDefinitionRow]:
    query = sa.select(property_definitions).order_by(property_definitions.c.name)
    if project_id is not None:
        query = query.where(property_definitions.c.project_id == project_id)
    return [_property_row(r) for r in conn.execute(query)]


def properties_of_events(conn: Connection, project_id: int, names: Sequence[str]) -> set[str]:
    rows = conn.execute(
        sa.select(event_properties.c.property).where(
            event_properties.c.project_id == project_id, event_properties.c.event.in_(list(names))
        )
    )
    return {r.property for r in rows}


def property_types(conn: Connection, project_id: int) -> dict[tuple[str, str], str]:
    """{(scope, name): type} for typed reads in HogQL (scope: event, person or group)."""
    scopes = {1: "event", 2: "person", 3: "group"}
    rows = conn.execute(
        sa.select(property_definitions.c.type, property_definitions.c.name, property_definitions.c.property_type)
        .where(property_definitions.c.project_id == project_id, property_definitions.c.property_type.is_not(None))
    )
    return {(scopes[row.type], row.name): row.property_type for row in rows if row.type in scopes}
