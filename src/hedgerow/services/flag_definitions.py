"""What SDKs download to evaluate flags locally: flags, group types and cohorts, with an ETag."""

from __future__ import annotations

import copy
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
            "flags": with_dependency_chains([flag_definition(f) for f in flags]),
            "group_type_mapping": {
                str(index): name for index, name in sorted(self._people.group_types(project_id).items())
            },
        }
        if with_cohorts:
            document["cohorts"] = _used_cohorts(flags, cohorts)
        return document


def _flag_properties(filters: Any) -> list[dict[str, Any]]:
    """The ``type: flag`` conditions of a flag's release conditions (the dicts themselves)."""
    if not isinstance(filters, dict):
        return []
    return [
        prop
        for group in filters.get("groups") or []
        if isinstance(group, dict)
        for prop in group.get("properties") or []
        if isinstance(prop, dict) and prop.get("type") == "flag"
    ]


def with_dependency_chains(flags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flag dependencies the way SDKs evaluate them locally (PostHog's local-evaluation
    rewrite): each ``type: flag`` condition names its flag by key instead of id and carries
    ``dependency_chain``, the flags to evaluate first, dependencies before dependents and the
    named flag last; empty when the chain is cyclic or reaches a flag that is not served.
    Stored filters are left as they are: flags with dependencies get copies."""
    id_to_key = {str(flag["id"]): flag["key"] for flag in flags}
    out = []
    for flag in flags:
        if _flag_properties(flag["filters"]):
            flag = {**flag, "filters": copy.deepcopy(flag["filters"])}
            for prop in _flag_properties(flag["filters"]):
                reference = str(prop.get("key", ""))
                prop["key"] = id_to_key.get(reference, prop.get("key"))
        out.append(flag)
    by_key = {flag["key"]: flag for flag in out}
    chains = _Chains(by_key)
    for flag in out:
        for prop in _flag_properties(flag["filters"]):
            prop["dependency_chain"] = chains.of(prop["key"])
    return out


class _Chains:
    """Dependency chains by depth-first search, memoised per flag key."""

    def __init__(self, by_key: dict[str, dict[str, Any]]) -> None:
        self._by_key = by_key
        self._memo: dict[Any, list[str]] = {}

    def _dependencies(self, key: Any) -> list[Any]:
        return [prop.get("key") for prop in _flag_properties(self._by_key[key]["filters"])]

    def of(self, key: Any) -> list[str]:
        if key not in self._memo:
            chain: list[str] = []
            complete = key in self._by_key and key not in self._dependencies(key)
            self._memo[key] = chain if complete and self._visit(key, set(), set(), chain) else []
        return self._memo[key]

    def _visit(self, key: Any, done: set[Any], path: set[Any], chain: list[str]) -> bool:
        if key in path or key not in self._by_key:
            return False  # a cycle, or a flag that is not served
        if key in done:
            return True
        path.add(key)
        for dependency in self._dependencies(key):
            if dependency != key and not self._visit(dependency, done, path, chain):
                return False
        path.remove(key)
        done.add(key)
        chain.append(key)
        return True


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
