"""Annotations: a dated note on a project's (or an organization's) charts.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "annotations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.Integer, nullable=True),
        sa.Column("content", sa.String(400), nullable=True),
        sa.Column("date_marker", sa.DateTime(timezone=True), nullable=True),
        sa.Column("creation_type", sa.String(3), nullable=False),
        sa.Column("scope", sa.String(24), nullable=False),
        sa.Column("dashboard_item", sa.Integer, nullable=True),
        sa.Column("dashboard_id", sa.Integer, nullable=True),
        sa.Column("created_by_id", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
    )
    op.create_index("ix_annotations_organization_id", "annotations", ["organization_id"])
    op.create_index("ix_annotations_project_id", "annotations", ["project_id"])


def downgrade() -> None:
    op.drop_index("ix_annotations_project_id", "annotations")
    op.drop_index("ix_annotations_organization_id", "annotations")
    op.drop_table("annotations")
