"""A project's group types: name ↔ index (0..4), PostHog's ``group_type_mapping``."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hedgerow.store.meta.tables import group_type_mappings

MAX_GROUP_TYPES = 5


def mapping(conn: Connection, project_id: int) -> dict[int, str]:
    rows = conn.execute(
        sa.select(group_type_mappings.c.group_type_index, group_type_mappings.c.group_type)
        .where(group_type_mappings.c.project_id == project_id)
        .order_by(group_type_mappings.c.group_type_index)
    )
    return {row.group_type_index: row.group_type for row in rows}


def ensure(conn: Connection, project_id: int, group_type: str) -> int | None:
    """The index of ``group_type``, assigning the next free one; None when all five are taken."""
    current = mapping(conn, project_id)
    for index, name in current.items():
        if name == group_type:
            return index
    free = [i for i in range(MAX_GROUP_TYPES) if i not in current]
    if not free:
        return None
    conn.execute(
        group_type_mappings.insert().values(
            project_id=project_id, group_type=group_type, group_type_index=free[0]
        )
    )
    return free[0]
