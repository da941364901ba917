"""Scopes: ``<object>:<action>`` strings and ``*``; write implies read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ACTIONS = ("read", "write")

# PostHog's public scope objects (posthog/scopes.py, 2026 snapshot) plus the key object itself.
OBJECTS: frozenset[str] = frozenset(
    """
    action access_control account activity_log alert annotation approvals batch_export
    batch_import billing business_knowledge canvas cohort comment conversation
    customer_analytics customer_task customer_journey customer_profile_config data_catalog
    data_catalog_approval dashboard event_filter dashboard_template dataset
    early_access_feature endpoint engineering_analytics error_tracking evaluation element
    event_definition experiment experiment_holdout experiment_saved_metric export
    external_data_schema external_data_source feature_flag file_system file_system_shortcut
    group health_issue heatmap hog_flow hog_function ingestion_warning insight
    insight_variable integration legal_document link live_debugger llm_analytics
    ai_observability_clusters llm_gateway llm_playground llm_prompt llm_provider_key
    llm_skill logs loop marketing_analytics mcp_analytics metrics notebook organization
    organization_integration organization_member person personal_api_key plugin agent
    product_enablement product_tour project property_definition query query_performance
    replay_scanner review_hog revenue_analytics session_recording
    session_recording_playlist sharing_configuration signal_scout stamphog streamlit_app
    subscription survey tagger ticket task toolbar tracing field_note uploaded_media
    usage_metric user user_interview vision_action vision_alert visual_review
    warehouse_objects warehouse_table warehouse_view web_analytics webhook wizard_session
    """.split()
)


@dataclass(frozen=True)
class Scope:
    """What a route requires: an object and an action."""

    object: str
    action: str

    def __str__(self) -> str:
        return f"{self.object}:{self.action}"

    @classmethod
    def parse(cls, text: str) -> "Scope":
        obj, _, action = text.partition(":")
        if action not in ACTIONS or not obj:
            raise ValueError(f"Invalid scope: {text}")
        return cls(obj, action)


def invalid_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes in ``scopes`` that are not ``*`` or a known ``object:action``."""
    bad = []
    for scope in scopes:
        if scope == "*":
            continue
        obj, _, action = scope.partition(":")
        if obj not in OBJECTS or action not in ACTIONS:
            bad.append(scope)
    return bad


def grants(held: Iterable[str], required: Scope) -> bool:
    """Whether scopes ``held`` satisfy ``required`` (``*`` grants all; write satisfies read)."""
    held = set(held)
    if "*" in held or str(required) in held:
        return True
    return required.action == "read" and f"{required.object}:write" in held
