"""The change feed keeps one row per key: an index to find a key's older rows, and those
already there removed (each key's newest row kept, so every reader still sees every key that
changed after its position).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_identity_changes_key", "identity_changes", ["team_id", "kind", "key"])
    op.execute(sa.text(
        "DELETE FROM identity_changes WHERE seq NOT IN"
        " (SELECT max(seq) FROM identity_changes GROUP BY team_id, kind, key)"
    ))  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_identity_changes_key", table_name="identity_changes")
