"""Saved insights, dashboards (tiles, text cards), and a flag's usage dashboard.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "insights",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("short_id", sa.String(12), nullable=False),
        sa.Column("name", sa.String(400), nullable=True),
        sa.Column("derived_name", sa.String(400), nullable=True),
        sa.Column("description", sa.String(400), nullable=True),
        sa.Column("query", sa.JSON, nullable=True),
        sa.Column("filters", sa.JSON, nullable=False),
        sa.Column("order", sa.Integer, nullable=True),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("saved", sa.Boolean, nullable=False),
        sa.Column("favorited", sa.Boolean, nullable=False),
        sa.Column("is_sample", sa.Boolean, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("created_by_id", sa.Integer, nullable=True),
        sa.Column("last_modified_by_id", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("project_id", "short_id", name="uq_insights_project_short_id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "dashboards",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("name", sa.String(400), nullable=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("pinned", sa.Boolean, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("creation_mode", sa.String(16), nullable=False),
        sa.Column("restriction_level", sa.Integer, nullable=False),
        sa.Column("filters", sa.JSON, nullable=False),
        sa.Column("variables", sa.JSON, nullable=True),
        sa.Column("breakdown_colors", sa.JSON, nullable=True),
        sa.Column("data_color_theme_id", sa.Integer, nullable=True),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("created_by_id", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_accessed_at", sa.DateTime(timezone=True), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_dashboards_project_id", "dashboards", ["project_id"])
    op.create_table(
        "dashboard_texts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("body", sa.String(4000), nullable=True),
        sa.Column("created_by_id", sa.Integer, nullable=True),
        sa.Column("last_modified_by_id", sa.Integer, nullable=True),
        sa.Column("last_modified_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "dashboard_tiles",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dashboard_id", sa.Integer, sa.ForeignKey("dashboards.id"), nullable=False),
        sa.Column("insight_id", sa.Integer, sa.ForeignKey("insights.id"), nullable=True),
        sa.Column("text_id", sa.Integer, sa.ForeignKey("dashboard_texts.id"), nullable=True),
        sa.Column("layouts", sa.JSON, nullable=False),
        sa.Column("color", sa.String(400), nullable=True),
        sa.Column("filters_overrides", sa.JSON, nullable=True),
        sa.Column("show_description", sa.Boolean, nullable=True),
        sa.Column("transparent_background", sa.Boolean, nullable=True),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_dashboard_tiles_dashboard_id", "dashboard_tiles", ["dashboard_id"])
    op.create_index("ix_dashboard_tiles_insight_id", "dashboard_tiles", ["insight_id"])
    with op.batch_alter_table("feature_flags") as batch:
        batch.add_column(sa.Column("usage_dashboard_id", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feature_flags") as batch:
        batch.drop_column("usage_dashboard_id")
    op.drop_index("ix_dashboard_tiles_insight_id", "dashboard_tiles")
    op.drop_index("ix_dashboard_tiles_dashboard_id", "dashboard_tiles")
    op.drop_table("dashboard_tiles")
    op.drop_table("dashboard_texts")
    op.drop_index("ix_dashboards_project_id", "dashboards")
    op.drop_table("dashboards")
    op.drop_table("insights")
