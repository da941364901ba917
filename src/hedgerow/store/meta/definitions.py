"""Event and property definitions (Data Management): what types properties were given."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hedgerow.store.meta.tables import property_definitions

# PostHog's PropertyDefinition.Type -> HogQL property scope
SCOPE_BY_TYPE = {1: "event", 2: "person", 3: "group"}


def property_types(conn: Connection, project_id: int) -> dict[tuple[str, str], str]:
    """``(scope, property name) -> property_type`` (``Numeric``, ``Boolean``, ``DateTime``,
    ``String``) for the project's typed properties."""
    rows = conn.execute(
        sa.select(
            property_definitions.c.type, property_definitions.c.name, property_definitions.c.property_type
        ).where(
            property_definitions.c.project_id == project_id,
            property_definitions.c.property_type.is_not(None),
        )
    )
    return {
        (SCOPE_BY_TYPE[row.type], row.name): row.property_type
        for row in rows
        if row.type in SCOPE_BY_TYPE
    }
