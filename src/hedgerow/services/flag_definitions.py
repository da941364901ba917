"""What SDKs download to evaluate flags locally: flags, group types and cohorts, with an ETag."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from hedgerow.ids import parse_id
from hedgerow.services.cohort_tree import cohort_properties, referenced_cohort_ids
from hedgerow.store.meta import cohorts as cohort_store
from hedgerow.store.meta import flags as flag_store
from hedgerow.store.meta.cohorts import CohortRecord
from hedgerow.store.meta.db import MetaDB
from hedgerow.store.meta.flags import FlagRecord


def flag_definition(flag: FlagRecord) -> dict[str, Any]:
    """One flag in the local-evaluation format (PostHog's minimal flag serializer)."""
    return {
        "id": flag.id,
        "team_id": flag.project_id,
        "name": flag.name,
        "key": flag.key,
        "filters": flag.filters,
        "deleted": flag.deleted,
        "active": flag.active,
        "ensure_experience_continuity": flag.ensure_experience_continuity,
        "has_encrypted_payloads": flag.has_encrypted_payloads,
        "version": flag.version,
        "evaluation_runtime": flag.evaluation_runtime,
        "bucketing_identifier": flag.bucketing_identifier,
        "evaluation_tags": [],
    }


def locally_evaluable(cohort: CohortRecord) -> bool:
    """Static and behavioural cohorts need the server; SDKs fall back to /flags/ for them."""
    return not cohort.is_static and not any(p.get("type") == "behavioral" for p in cohort_properties(cohort))


def cohort_tree(cohort: CohortRecord) -> dict[str, Any]:
    if cohort.filters and cohort.filters.get("properties"):
        return cohort.filters["properties"]
    values = [
        {"type": "AND", "values": [p for p in (g or {}).get("properties") or [] if isinstance(p, dict)]}
        for g in cohort.groups or []
    ]
    return {"type": "OR", "values": values}


class FlagDefinitions:
    """Builds the definitions document of a project."""

    def __init__(self, db: MetaDB, people: Any) -> None:
        self._db = db
        self._people = people  # group types live with ingestion's identity state

    def document(self, project_id: int, with_cohorts: bool = True) -> dict[str, Any]:
        with self._db.read() as conn:
            flags = flag_store.live(conn, project_id)
            cohorts = {c.id: c for c in cohort_store.in_project(conn, project_id, include_deleted=True)}
        document: dict[str, Any] = {
            "flags": [flag_definition(f) for f in flags],
            "group_type_mapping": {
                str(index): name for index, name in sorted(self._people.group_types(project_id).items())
            },
        }
        if with_cohorts:
            document["cohorts"] = _used_cohorts(flags, cohorts)
        return document


def _used_cohorts(flags: list[FlagRecord], cohorts: dict[int, CohortRecord]) -> dict[str, Any]:
    """Every locally evaluable cohort the flags use, nested ones included."""
    pending = [
        int(p["value"])
        for f in flags
        for g in f.filters.get("groups") or []
        for p in (g or {}).get("properties") or []
        if isinstance(p, dict) and p.get("type") == "cohort" and parse_id(str(p.get("value"))) is not None
    ]
    found: dict[str, Any] = {}
    while pending:
        cohort = cohorts.get(pending.pop())
        if cohort is None or str(cohort.id) in found or not locally_evaluable(cohort):
            continue
        found[str(cohort.id)] = cohort_tree(cohort)
        pending.extend(referenced_cohort_ids(cohort.filters))
    return found


def etag(document: dict[str, Any]) -> str:
    """A weak validator for the document's exact content."""
    digest = hashlib.sha1(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]
    return f'W/"{digest}"'
