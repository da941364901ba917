"""Experience-continuity hash key overrides.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flag_hash_key_overrides",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("person_uuid", sa.String(36), nullable=False),
        sa.Column("feature_flag_key", sa.String(400), nullable=False),
        sa.Column("hash_key", sa.String(400), nullable=False),
        sa.UniqueConstraint("project_id", "person_uuid", "feature_flag_key", name="uq_flag_hash_key_override"),
    )


def downgrade() -> None:
    op.drop_table("flag_hash_key_overrides")
