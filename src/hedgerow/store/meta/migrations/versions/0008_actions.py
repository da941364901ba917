"""Actions: named sets of steps an event matches (PostHog's ``posthog_action``).

Revision ID: 0008
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "actions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(400), nullable=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("post_to_slack", sa.Boolean, nullable=False),
        sa.Column("slack_message_format", sa.String(1200), nullable=False),
        sa.Column("steps", sa.JSON, nullable=False),
        sa.Column("created_by_id", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_calculated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pinned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted", sa.Boolean, nullable=False),
    )
    op.create_index("ix_actions_project_id", "actions", ["project_id"])


def downgrade() -> None:
    op.drop_index("ix_actions_project_id", "actions")
    op.drop_table("actions")
