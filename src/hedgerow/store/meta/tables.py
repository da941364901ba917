"""Metadata tables (SQLAlchemy Core), shared by SQLite and PostgreSQL.

The schema itself is created and evolved by the Alembic migrations next to this module;
these declarations are what the repositories query with. Keep the two in step: a test
compares them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

organizations = Table(
    "organizations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("distinct_id", String(200), nullable=False, unique=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("first_name", String(150), nullable=False, default=""),
    Column("last_name", String(150), nullable=False, default=""),
    Column("current_project_id", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

organization_memberships = Table(
    "organization_memberships",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("organization_id", String(36), ForeignKey("organizations.id"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("level", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("organization_id", "user_id", name="uq_membership_org_user"),
)

projects = Table(
    "projects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("organization_id", String(36), ForeignKey("organizations.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("api_token", String(64), nullable=False, unique=True),
    Column("secret_api_token", String(128), nullable=True),
    Column("timezone", String(240), nullable=False, default="UTC"),
    Column("week_start_day", Integer, nullable=True),
    Column("settings", JSON, nullable=False, default=dict),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

personal_api_keys = Table(
    "personal_api_keys",
    metadata,
    Column("id", String(50), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("label", String(40), nullable=False),
    Column("secure_value", String(300), nullable=False, unique=True),
    Column("mask_value", String(11), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("scoped_teams", JSON, nullable=True),
    Column("scoped_organizations", JSON, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    Column("last_rolled_at", DateTime(timezone=True), nullable=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("via", String(16), nullable=False),
    Column("key_id", String(50), nullable=True),
    Column("key_label", String(40), nullable=True),
    Column("user_id", Integer, nullable=True),
    Column("method", String(10), nullable=False),
    Column("path", String(2000), nullable=False),
    Column("object", String(64), nullable=True),
    Column("action", String(16), nullable=True),
    Column("project_id", Integer, nullable=True),
    Column("organization_id", String(36), nullable=True),
    Column("decision", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", Integer, nullable=True),
    Column("sentence", Text, nullable=False),
    Column("agent_id", String(50), nullable=True),
    Column("args_digest", String(64), nullable=True),
    Column("prev_hash", String(64), nullable=True),
    Column("row_hash", String(64), nullable=True),
    Index("ix_audit_log_created_at", "created_at"),
    Index("ix_audit_log_key_id", "key_id"),
    Index("ix_audit_log_agent_id", "agent_id"),
    Index("ix_audit_log_organization_id", "organization_id"),
)

agents = Table(
    "agents",
    metadata,
    Column("key_id", String(50), primary_key=True),
    Column("organization_id", String(36), nullable=False),
    Column("name", String(40), nullable=False),
    Column("owner_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_by_key_id", String(50), nullable=True),
    Column("access", JSON, nullable=False),
    Column("projects", JSON, nullable=True),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Index("ix_agents_organization_id", "organization_id"),
)

annotations = Table(
    "annotations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("organization_id", String(36), nullable=False),
    Column("project_id", Integer, nullable=True),
    Column("content", String(400), nullable=True),
    Column("date_marker", DateTime(timezone=True), nullable=True),
    Column("creation_type", String(3), nullable=False),
    Column("scope", String(24), nullable=False),
    Column("dashboard_item", Integer, nullable=True),
    Column("dashboard_id", Integer, nullable=True),
    Column("created_by_id", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("deleted", Boolean, nullable=False),
    Index("ix_annotations_organization_id", "organization_id"),
    Index("ix_annotations_project_id", "project_id"),
)

actions = Table(
    "actions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", Integer, nullable=False),
    Column("name", String(400), nullable=True),
    Column("description", Text, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("post_to_slack", Boolean, nullable=False),
    Column("slack_message_format", String(1200), nullable=False),
    Column("steps", JSON, nullable=False),
    Column("created_by_id", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("last_calculated_at", DateTime(timezone=True), nullable=False),
    Column("pinned_at", DateTime(timezone=True), nullable=True),
    Column("deleted", Boolean, nullable=False),
    Index("ix_actions_project_id", "project_id"),
)

insights = Table(
    "insights",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("short_id", String(12), nullable=False),
    Column("name", String(400), nullable=True),
    Column("derived_name", String(400), nullable=True),
    Column("description", String(400), nullable=True),
    Column("query", JSON, nullable=True),
    Column("filters", JSON, nullable=False),
    Column("order", Integer, nullable=True),
    Column("deleted", Boolean, nullable=False),
    Column("saved", Boolean, nullable=False),
    Column("favorited", Boolean, nullable=False),
    Column("is_sample", Boolean, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("created_by_id", Integer, nullable=True),
    Column("last_modified_by_id", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("last_modified_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("project_id", "short_id", name="uq_insights_project_short_id"),
    sqlite_autoincrement=True,
)

dashboards = Table(
    "dashboards",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("name", String(400), nullable=True),
    Column("description", Text, nullable=False),
    Column("pinned", Boolean, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("creation_mode", String(16), nullable=False),
    Column("restriction_level", Integer, nullable=False),
    Column("filters", JSON, nullable=False),
    Column("variables", JSON, nullable=True),
    Column("breakdown_colors", JSON, nullable=True),
    Column("data_color_theme_id", Integer, nullable=True),
    Column("tags", JSON, nullable=False),
    Column("created_by_id", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_accessed_at", DateTime(timezone=True), nullable=True),
    Index("ix_dashboards_project_id", "project_id"),
    sqlite_autoincrement=True,
)

dashboard_texts = Table(
    "dashboard_texts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("body", String(4000), nullable=True),
    Column("created_by_id", Integer, nullable=True),
    Column("last_modified_by_id", Integer, nullable=True),
    Column("last_modified_at", DateTime(timezone=True), nullable=False),
    sqlite_autoincrement=True,
)

dashboard_tiles = Table(
    "dashboard_tiles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dashboard_id", Integer, ForeignKey("dashboards.id"), nullable=False),
    Column("insight_id", Integer, ForeignKey("insights.id"), nullable=True),
    Column("text_id", Integer, ForeignKey("dashboard_texts.id"), nullable=True),
    Column("layouts", JSON, nullable=False),
    Column("color", String(400), nullable=True),
    Column("filters_overrides", JSON, nullable=True),
    Column("show_description", Boolean, nullable=True),
    Column("transparent_background", Boolean, nullable=True),
    Column("deleted", Boolean, nullable=False),
    Index("ix_dashboard_tiles_dashboard_id", "dashboard_id"),
    Index("ix_dashboard_tiles_insight_id", "insight_id"),
    sqlite_autoincrement=True,
)

experiments = Table(
    "experiments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("name", String(400), nullable=False),
    Column("description", Text, nullable=True),
    Column("feature_flag_id", Integer, ForeignKey("feature_flags.id"), nullable=False),
    Column("type", String(40), nullable=False),
    Column("start_date", DateTime(timezone=True), nullable=True),
    Column("end_date", DateTime(timezone=True), nullable=True),
    Column("parameters", JSON, nullable=True),
    Column("filters", JSON, nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("metrics_secondary", JSON, nullable=False),
    Column("secondary_metrics", JSON, nullable=False),
    Column("stats_config", JSON, nullable=True),
    Column("exposure_criteria", JSON, nullable=True),
    Column("scheduling_config", JSON, nullable=True),
    Column("primary_metrics_ordered_uuids", JSON, nullable=True),
    Column("secondary_metrics_ordered_uuids", JSON, nullable=True),
    Column("archived", Boolean, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("conclusion", String(30), nullable=True),
    Column("conclusion_comment", Text, nullable=True),
    Column("created_by_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_experiments_project_id", "project_id"),
    Index("ix_experiments_feature_flag_id", "feature_flag_id"),
    sqlite_autoincrement=True,
)

event_definitions = Table(
    "event_definitions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("name", String(400), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("project_id", "name", name="uq_event_definition_project_name"),
)

property_definitions = Table(
    "property_definitions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("name", String(400), nullable=False),
    # 1 = event, 2 = person, 3 = group (PostHog's PropertyDefinition.Type)
    Column("type", Integer, nullable=False),
    # -1 for event and person properties, so the unique key below holds without NULLs
    Column("group_type_index", Integer, nullable=False, default=-1),
    Column("property_type", String(50), nullable=True),
    Column("is_numerical", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint(
        "project_id", "type", "group_type_index", "name", name="uq_property_definition_key"
    ),
)

feature_flags = Table(
    "feature_flags",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("key", String(400), nullable=False),
    Column("name", Text, nullable=False, default=""),
    Column("filters", JSON, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("version", Integer, nullable=False, default=1),
    Column("ensure_experience_continuity", Boolean, nullable=False, default=False),
    Column("rollback_conditions", JSON, nullable=True),
    Column("performed_rollback", Boolean, nullable=True),
    Column("tags", JSON, nullable=False),
    Column("evaluation_runtime", String(10), nullable=False, default="all"),
    Column("bucketing_identifier", String(20), nullable=True),
    Column("is_remote_configuration", Boolean, nullable=False, default=False),
    Column("has_encrypted_payloads", Boolean, nullable=False, default=False),
    Column("has_enriched_analytics", Boolean, nullable=False, default=False),
    Column("creation_context", String(40), nullable=False, default="feature_flags"),
    Column("created_by_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("last_modified_by_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("last_called_at", DateTime(timezone=True), nullable=True),
    Column("usage_dashboard_id", Integer, nullable=True),
    Index("ix_feature_flags_project_key", "project_id", "key"),
    sqlite_autoincrement=True,  # ids are never reused: dependencies and clients refer to them
)

cohorts = Table(
    "cohorts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("name", String(400), nullable=True),
    Column("description", String(1000), nullable=False, default=""),
    Column("groups", JSON, nullable=False),
    Column("filters", JSON, nullable=True),
    Column("query", JSON, nullable=True),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("is_static", Boolean, nullable=False, default=False),
    Column("cohort_type", String(20), nullable=True),
    Column("is_calculating", Boolean, nullable=False, default=False),
    Column("last_calculation", DateTime(timezone=True), nullable=True),
    Column("errors_calculating", Integer, nullable=False, default=0),
    Column("last_error_at", DateTime(timezone=True), nullable=True),
    Column("count", Integer, nullable=True),
    Column("version", Integer, nullable=True),
    Column("pending_version", Integer, nullable=True),
    Column("created_by_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_cohorts_project", "project_id"),
    sqlite_autoincrement=True,
)

# Which properties were seen on which events (PostHog's EventProperty), for
# ``property_definitions?event_names=[...]``.
event_properties = Table(
    "event_properties",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("event", String(400), nullable=False),
    Column("property", String(400), nullable=False),
    UniqueConstraint("project_id", "event", "property", name="uq_event_property"),
)

# Experience continuity: the hash key a person's flag was first evaluated with (their
# anonymous id), so logging in does not move them to another variant.
flag_hash_key_overrides = Table(
    "flag_hash_key_overrides",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("person_uuid", String(36), nullable=False),
    Column("feature_flag_key", String(400), nullable=False),
    Column("hash_key", String(400), nullable=False),
    UniqueConstraint("project_id", "person_uuid", "feature_flag_key", name="uq_flag_hash_key_override"),
)

hog_functions = Table(
    "hog_functions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("project_id", Integer, nullable=False),
    Column("type", String(40), nullable=False),
    Column("name", String(400), nullable=True),
    Column("description", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("hog", Text, nullable=False),
    Column("inputs_schema", JSON, nullable=False),
    Column("inputs", JSON, nullable=False),
    Column("filters", JSON, nullable=False),
    Column("masking", JSON, nullable=True),
    Column("mappings", JSON, nullable=True),
    Column("icon_url", Text, nullable=True),
    Column("template_id", String(400), nullable=True),
    Column("execution_order", Integer, nullable=True),
    Column("created_by_id", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_hog_functions_project_id", "project_id"),
)

hog_function_deliveries = Table(
    "hog_function_deliveries",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("hog_function_id", String(36), nullable=False),
    Column("project_id", Integer, nullable=False),
    Column("event_uuid", String(36), nullable=False),
    Column("request", JSON, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("claimed_by", String(36), nullable=True),
    Index("ix_hog_function_deliveries_due", "hog_function_id", "next_attempt_at"),
)
"""Deliveries owed: a matching event's rendered request, until it succeeds or fails for good."""

delivery_cursors = Table(
    "delivery_cursors",
    metadata,
    Column("store_id", String(36), primary_key=True),
    Column("outbox_id", BigInteger, nullable=False),
)
"""How far each events store's own outbox has been matched against the destinations."""

delivery_outbox = Table(
    "delivery_outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("store_id", String(36), nullable=False),
    Column("team_id", Integer, nullable=False),
    Column("uuid", String(36), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("queued_at", DateTime(timezone=True), nullable=False),
    Column("check_after", DateTime(timezone=True), nullable=False),
    Column("claimed_by", String(36), nullable=True),
    UniqueConstraint("store_id", "team_id", "uuid", name="uq_delivery_outbox_event"),
    Index("ix_delivery_outbox_store", "store_id", "check_after"),
)
"""Events still to be matched, for events stores with no transaction to hold an outbox
(ClickHouse): written before the event, keyed by event so a retried batch is queued once."""

delivery_workers = Table(
    "delivery_workers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)
"""Processes delivering, and when each was last alive: the claims of one not seen for a
while are free for the others."""

hog_function_logs = Table(
    "hog_function_logs",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("hog_function_id", String(36), nullable=False),
    Column("project_id", Integer, nullable=False),
    Column("instance_id", String(36), nullable=False),
    Column("timestamp", DateTime(timezone=True), nullable=False),
    Column("level", String(10), nullable=False),
    Column("message", Text, nullable=False),
    Index("ix_hog_function_logs_function", "hog_function_id", "id"),
)

hog_function_metrics = Table(
    "hog_function_metrics",
    metadata,
    Column("hog_function_id", String(36), primary_key=True),
    Column("hour", DateTime(timezone=True), primary_key=True),
    Column("metric_name", String(40), primary_key=True),
    Column("metric_kind", String(20), nullable=False),
    Column("project_id", Integer, nullable=False),
    Column("count", BigInteger, nullable=False),
)

# The person identity state shared by several processes (``--persons shared``, PostgreSQL):
# what the embedded mode keeps in one process's memory. Rows are the in-memory index's.
identity_persons = Table(
    "identity_persons",
    metadata,
    Column("team_id", Integer, primary_key=True),
    Column("uuid", String(36), primary_key=True),
    Column("int_id", BigInteger, nullable=False),
    Column("created_at_us", BigInteger, nullable=False),
    Column("properties", Text, nullable=False),
    Column("is_identified", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
)

identity_distinct_ids = Table(
    "identity_distinct_ids",
    metadata,
    Column("team_id", Integer, primary_key=True),
    Column("distinct_id", Text, primary_key=True),
    Column("person_uuid", String(36), nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_identity_distinct_ids_person", "team_id", "person_uuid"),
)

identity_overrides = Table(
    "identity_overrides",
    metadata,
    Column("team_id", Integer, primary_key=True),
    Column("distinct_id", Text, primary_key=True),
    Column("person_uuid", String(36), nullable=False),
    Column("version", Integer, nullable=False),
)

identity_group_types = Table(
    "identity_group_types",
    metadata,
    Column("team_id", Integer, primary_key=True),
    Column("group_type", Text, primary_key=True),
    Column("group_type_index", Integer, nullable=False),
    UniqueConstraint("team_id", "group_type_index", name="uq_identity_group_types_index"),
)

identity_groups = Table(
    "identity_groups",
    metadata,
    Column("team_id", Integer, primary_key=True),
    Column("group_type_index", Integer, primary_key=True),
    Column("group_key", Text, primary_key=True),
    Column("properties", Text, nullable=False),
    Column("created_at_us", BigInteger, nullable=False),
    Column("updated_at_us", BigInteger, nullable=False),
)

identity_changes = Table(
    "identity_changes",
    metadata,
    # ``seq`` follows commit order: a writer takes one lock before it numbers its rows.
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("team_id", Integer, nullable=False),
    Column("kind", SmallInteger, nullable=False),
    Column("key", Text, nullable=False),
    # A key keeps only its newest row (a writer deletes the older ones): found by this index.
    Index("ix_identity_changes_key", "team_id", "kind", "key"),
)
