"""Groups in the shared identity state (group types and their indexes, groups and their
properties), and its change feed: one row per person, distinct id, group or group type a
transaction changed, numbered in commit order, so every process can bring its own copy (the
tables its queries read) up to date (used with ``--persons shared`` on PostgreSQL; created
everywhere so the schema is one).

Revision ID: 0013
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_group_types",
        sa.Column("team_id", sa.Integer, primary_key=True),
        sa.Column("group_type", sa.Text, primary_key=True),
        sa.Column("group_type_index", sa.Integer, nullable=False),
        sa.UniqueConstraint("team_id", "group_type_index", name="uq_identity_group_types_index"),
    )
    op.create_table(
        "identity_groups",
        sa.Column("team_id", sa.Integer, primary_key=True),
        sa.Column("group_type_index", sa.Integer, primary_key=True),
        sa.Column("group_key", sa.Text, primary_key=True),
        sa.Column("properties", sa.Text, nullable=False),
        sa.Column("created_at_us", sa.BigInteger, nullable=False),
        sa.Column("updated_at_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "identity_changes",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("team_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.SmallInteger, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("identity_changes")
    op.drop_table("identity_groups")
    op.drop_table("identity_group_types")
