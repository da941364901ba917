"""Which properties were seen on which events.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_properties",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("event", sa.String(400), nullable=False),
        sa.Column("property", sa.String(400), nullable=False),
        sa.UniqueConstraint("project_id", "event", "property", name="uq_event_property"),
    )


def downgrade() -> None:
    op.drop_table("event_properties")
