"""Agents' access matrix: one level per resource, ``off`` by default.

``read`` is the resource's ``:read`` scope, ``full`` its ``:read`` and ``:write``. Agents
also read the projects they are limited to (to find and switch between them); they never
manage keys or agents.
"""

from __future__ import annotations

from collections.abc import Mapping

RESOURCES: tuple[str, ...] = (
    "insight", "dashboard", "feature_flag", "experiment", "cohort", "person", "annotation",
    "action", "query", "event_definition", "property_definition", "activity_log",
)  # fmt: skip
LEVELS: tuple[str, ...] = ("off", "read", "full")
ALWAYS: tuple[str, ...] = ("project:read",)

_NAMES = {
    "feature_flag": "feature flags",
    "event_definition": "event definitions",
    "property_definition": "property definitions",
    "activity_log": "the activity log",
    "query": "queries",
    "person": "persons",
}


def noun(resource: str) -> str:
    """How a resource reads in a sentence: ``feature_flag`` → "feature flags"."""
    return _NAMES.get(resource, resource.replace("_", " ") + "s")


def full_matrix(access: Mapping[str, str]) -> dict[str, str]:
    """Every resource's level, ``off`` where none is given."""
    return {resource: access.get(resource, "off") for resource in RESOURCES}


def scopes_for(access: Mapping[str, str]) -> tuple[str, ...]:
    """The scopes an access matrix grants."""
    scopes = list(ALWAYS)
    for resource, level in access.items():
        if level in ("read", "full"):
            scopes.append(f"{resource}:read")
        if level == "full":
            scopes.append(f"{resource}:write")
    return tuple(scopes)


def level(access: Mapping[str, str], resource: str) -> str:
    return access.get(resource, "off")
