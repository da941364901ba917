"""Walking a cohort's property tree (``filters.properties``: nested AND/OR groups of leaves)."""

from __future__ import annotations

from typing import Any

from hedgerow.ids import parse_id
from hedgerow.store.meta.cohorts import CohortRecord


def filter_leaves(filters: Any) -> list[dict[str, Any]]:
    """Every leaf filter (person, cohort, behavioral...) under ``filters['properties']``."""
    leaves: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("AND", "OR"):
                for child in node.get("values") or []:
                    walk(child)
            else:
                leaves.append(node)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk((filters or {}).get("properties") if isinstance(filters, dict) else None)
    return leaves


def cohort_properties(cohort: CohortRecord) -> list[dict[str, Any]]:
    """The leaves of a cohort's filters, plus those of its legacy ``groups``."""
    leaves = filter_leaves(cohort.filters)
    for group in cohort.groups or []:
        if not isinstance(group, dict):
            continue
        leaves.extend(p for p in group.get("properties") or [] if isinstance(p, dict))
        if group.get("action_id") or group.get("event_id"):
            leaves.append({"type": "behavioral"})
    return leaves


def referenced_cohort_ids(filters: Any) -> list[int]:
    """Ids of the cohorts nested in ``filters``."""
    return [
        int(leaf["value"])
        for leaf in filter_leaves(filters)
        if leaf.get("type") == "cohort" and parse_id(str(leaf.get("value"))) is not None
    ]
