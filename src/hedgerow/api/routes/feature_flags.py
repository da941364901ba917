"""Feature flag management: ``/api/projects/:id/feature_flags/``."""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from typing import Any

from hedgerow import clock
from hedgerow.api.call import Call
from hedgerow.api.pagination import paginate
from hedgerow.api.responses import empty
from hedgerow.api.routes.users import user_basic
from hedgerow.api.routing import RouteTable
from hedgerow.ids import parse_id
from hedgerow.services.feature_flags import FlagQuery, is_simple, status
from hedgerow.services.records import FlagRecord

routes = RouteTable()

BASE = "/api/projects/{project_id}/feature_flags/"
ONE = BASE + "{flag_id:int}/"


def flag_json(call: Call, flag: FlagRecord, cohort_names: dict[int, str | None] | None = None) -> dict[str, Any]:
    """A flag as PostHog's serializer shows it (cohort conditions carry ``cohort_name``)."""
    users = _user_lookup(call)
    filters = copy.deepcopy(flag.filters)
    if cohort_names is None:
        cohort_names = call.services.flags.cohort_names(flag.project_id)
    for group in filters.get("groups") or []:
        for prop in (group or {}).get("properties") or []:
            if isinstance(prop, dict) and prop.get("type") == "cohort":
                value = prop.get("value")
                number = parse_id(str(value))
                prop["cohort_name"] = cohort_names.get(number) if number is not None else None
    simple = is_simple(flag)
    return {
        "id": flag.id,
        "name": flag.name,
        "key": flag.key,
        "filters": filters,
        "deleted": flag.deleted,
        "active": flag.active,
        "created_by": user_basic(users(flag.created_by_id)),
        "created_at": clock.iso(flag.created_at),
        "updated_at": clock.iso(flag.updated_at),
        "version": flag.version,
        "last_modified_by": user_basic(users(flag.last_modified_by_id)),
        "is_simple_flag": simple,
        "rollout_percentage": (filters.get("groups") or [{}])[0].get("rollout_percentage") if simple else None,
        "ensure_experience_continuity": flag.ensure_experience_continuity,
        "experiment_set": [],
        "surveys": [],
        "features": [],
        "rollback_conditions": flag.rollback_conditions,
        "performed_rollback": flag.performed_rollback,
        "can_edit": True,
        "tags": flag.tags,
        "evaluation_tags": [],
        "usage_dashboard": None,
        "analytics_dashboards": [],
        "has_enriched_analytics": flag.has_enriched_analytics,
        "user_access_level": "editor",
        "is_remote_configuration": flag.is_remote_configuration,
        "has_encrypted_payloads": flag.has_encrypted_payloads,
        "status": status(flag),
        "evaluation_runtime": flag.evaluation_runtime,
        "bucketing_identifier": flag.bucketing_identifier,
        "last_called_at": clock.iso(flag.last_called_at),
    }


def _user_lookup(call: Call):
    @lru_cache(maxsize=None)
    def lookup(user_id: int | None):
        return call.services.projects.user(user_id) if user_id is not None else None

    return lookup


def _json_list(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    try:
        value = json.loads(raw)
    except ValueError:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


@routes.get(BASE, name="feature_flags_list", scope="feature_flag:read")
def list_flags(call: Call) -> dict[str, Any]:
    """The project's flags (not deleted), newest first, with PostHog's filters."""
    q = call.query
    query = FlagQuery(
        active=q.get("active"),
        created_by_id=q.get("created_by_id"),
        search=q.get("search"),
        type=q.get("type"),
        evaluation_runtime=q.get("evaluation_runtime"),
        excluded_keys=_json_list(q.get("excluded_properties")),
        tags=_json_list(q.get("tags")),
        order=q.get("order"),
    )
    flags = call.services.flags.search(call.project_id, query)
    names = call.services.flags.cohort_names(call.project_id)

    def fetch(page: Any) -> tuple[list[dict[str, Any]], int]:
        chosen = flags[page.offset : page.offset + page.limit]
        return [flag_json(call, f, names) for f in chosen], len(flags)

    return paginate(call.url, call.query, fetch)


@routes.post(BASE, name="feature_flags_create", scope="feature_flag:write", status=201)
def create_flag(call: Call) -> dict[str, Any]:
    """A new flag (version 1); soft-deleted flags with the same key are purged."""
    assert call.principal is not None
    flag = call.services.flags.create(call.project_id, call.principal.user_id, call.data)
    return flag_json(call, flag)


@routes.get(ONE, name="feature_flags_retrieve", scope="feature_flag:read")
def retrieve_flag(call: Call) -> dict[str, Any]:
    """One flag by id."""
    return flag_json(call, call.services.flags.get(call.project_id, call.path_params["flag_id"]))


@routes.update(ONE, name="feature_flags", scope="feature_flag:write")
def update_flag(call: Call) -> dict[str, Any]:
    """Change a flag; bumps its version (409 on conflicting concurrent edits)."""
    assert call.principal is not None
    flag = call.services.flags.update(
        call.project_id, call.path_params["flag_id"], call.principal.user_id, call.data or {}
    )
    return flag_json(call, flag)


@routes.delete(ONE, name="feature_flags_destroy", scope="feature_flag:write")
def delete_flag(call: Call) -> Any:
    """Hard deletion is not allowed: 405 with no body (soft-delete with ``deleted: true``)."""
    return empty(405)
