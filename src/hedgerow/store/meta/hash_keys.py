"""Experience-continuity hash key overrides (person × flag key → hash key)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from hedgerow.store.meta.tables import flag_hash_key_overrides as table


def for_project(conn: Connection, project_id: int) -> dict[str, dict[str, str]]:
    """{person uuid: {flag key: hash key}} of a project."""
    found: dict[str, dict[str, str]] = {}
    rows = conn.execute(
        sa.select(table.c.person_uuid, table.c.feature_flag_key, table.c.hash_key).where(table.c.project_id == project_id)
    )
    for row in rows:
        found.setdefault(row.person_uuid, {})[row.feature_flag_key] = row.hash_key
    return found


def add(conn: Connection, project_id: int, rows: Sequence[tuple[str, str, str]]) -> None:
    """Store (person uuid, flag key, hash key) rows; an existing override is never replaced."""
    if not rows:
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).on_conflict_do_nothing(
        index_elements=["project_id", "person_uuid", "feature_flag_key"]
    )
    conn.execute(
        statement,
        [{"project_id": project_id, "person_uuid": p, "feature_flag_key": k, "hash_key": h} for p, k, h in rows],
    )
