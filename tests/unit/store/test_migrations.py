"""The migrations build exactly the schema the repositories query with, and are idempotent."""

from __future__ import annotations

import sqlalchemy as sa

from hedgerow.store.meta.db import MetaDB
from hedgerow.store.meta.tables import metadata


def test_migrations_match_declared_tables(database_url) -> None:
    db = MetaDB(database_url)
    db.migrate()
    db.migrate()  # a second start changes nothing
    inspector = sa.inspect(db.engine)
    for table in metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, table.name
    db.dispose()
