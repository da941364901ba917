"""The migrations build exactly the schema the repositories query with, and are idempotent."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from hedgerow.store.meta.db import MIGRATIONS_DIR, MetaDB
from hedgerow.store.meta.tables import metadata


def test_migrations_match_declared_tables(empty_database_url) -> None:
    db = MetaDB(empty_database_url)
    db.migrate()
    db.migrate()  # a second start changes nothing
    inspector = sa.inspect(db.engine)
    for table in metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, table.name
    db.dispose()


def test_the_feed_migration_keeps_each_keys_newest_row(empty_database_url) -> None:
    """0014: a feed written before it (one row per change) keeps one row per key, the newest."""
    db = MetaDB(empty_database_url)
    with db.write() as conn:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = conn
        command.upgrade(config, "0013")
        conn.execute(sa.text("INSERT INTO identity_changes (team_id, kind, key) VALUES "
                             "(1, 0, 'p'), (1, 1, 'd'), (1, 0, 'p'), (2, 0, 'p'), (1, 0, 'p')"))  # fmt: skip
    db.migrate()
    with db.engine.connect() as conn:
        kept = conn.execute(sa.text("SELECT seq, team_id, kind, key FROM identity_changes ORDER BY seq")).all()
    assert [tuple(r) for r in kept] == [(2, 1, 1, "d"), (4, 2, 0, "p"), (5, 1, 0, "p")]
    db.dispose()
