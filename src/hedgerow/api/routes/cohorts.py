"""Cohorts: ``/api/projects/:id/cohorts/``."""

from __future__ import annotations

from typing import Any

from hedgerow import clock
from hedgerow.api.call import Call
from hedgerow.api.pagination import paginate
from hedgerow.api.responses import empty
from hedgerow.api.routes.users import user_basic
from hedgerow.api.routing import RouteTable
from hedgerow.services.cohorts import CohortQuery
from hedgerow.store.meta.cohorts import CohortRecord

routes = RouteTable()

BASE = "/api/projects/{project_id}/cohorts/"
ONE = BASE + "{cohort_id:int}/"


def _legacy_properties(cohort: CohortRecord) -> dict[str, Any]:
    """``filters.properties`` derived from legacy ``groups`` (OR of ANDed property lists)."""
    values = []
    for group in cohort.groups or []:
        props = [p for p in (group or {}).get("properties") or [] if isinstance(p, dict)]
        if props:
            values.append({"type": "AND", "values": props})
    return {"type": "OR", "values": values}


def cohort_json(call: Call, cohort: CohortRecord) -> dict[str, Any]:
    creator = call.services.projects.user(cohort.created_by_id) if cohort.created_by_id else None
    return {
        "id": cohort.id,
        "name": cohort.name,
        "description": cohort.description,
        "groups": cohort.groups,
        "deleted": cohort.deleted,
        "filters": cohort.filters if cohort.filters else {"properties": _legacy_properties(cohort)},
        "query": cohort.query,
        "is_calculating": cohort.is_calculating,
        "created_by": user_basic(creator),
        "created_at": clock.iso(cohort.created_at),
        "last_calculation": clock.iso(cohort.last_calculation),
        "errors_calculating": cohort.errors_calculating,
        "count": cohort.count,
        "is_static": cohort.is_static,
        "cohort_type": cohort.cohort_type,
        "experiment_set": [],
    }


@routes.get(BASE, name="cohorts_list", scope="cohort:read")
def list_cohorts(call: Call) -> dict[str, Any]:
    """The project's cohorts (not deleted), newest first."""
    q = call.query
    query = CohortQuery(
        search=q.get("search"),
        type=q.get("type"),
        created_by_id=q.get("created_by_id"),
        hide_behavioral=(q.get("hide_behavioral_cohorts") or "false").lower() == "true",
    )
    cohorts = call.services.cohorts.search(call.project_id, query)

    def fetch(page: Any) -> tuple[list[dict[str, Any]], int]:
        chosen = cohorts[page.offset : page.offset + page.limit]
        return [cohort_json(call, c) for c in chosen], len(cohorts)

    return paginate(call.url, call.query, fetch)


@routes.post(BASE, name="cohorts_create", scope="cohort:write", status=201)
def create_cohort(call: Call) -> dict[str, Any]:
    """A new cohort; dynamic ones are calculated in the background."""
    assert call.principal is not None
    cohort = call.services.cohorts.create(call.project_id, call.principal.user_id, call.data)
    return cohort_json(call, cohort)


@routes.get(ONE, name="cohorts_retrieve", scope="cohort:read")
def retrieve_cohort(call: Call) -> dict[str, Any]:
    """One cohort by id."""
    return cohort_json(call, call.services.cohorts.get(call.project_id, call.path_params["cohort_id"]))


def _update(call: Call) -> dict[str, Any]:
    cohort = call.services.cohorts.update(call.project_id, call.path_params["cohort_id"], call.data or {})
    return cohort_json(call, cohort)


@routes.patch(ONE, name="cohorts_partial_update", scope="cohort:write")
def patch_cohort(call: Call) -> dict[str, Any]:
    """Change a cohort (soft-delete with ``deleted: true``)."""
    return _update(call)


@routes.put(ONE, name="cohorts_update", scope="cohort:write")
def put_cohort(call: Call) -> dict[str, Any]:
    """Change a cohort."""
    return _update(call)


@routes.delete(ONE, name="cohorts_destroy", scope="cohort:write")
def delete_cohort(call: Call) -> Any:
    """Hard deletion is not allowed: 405 with no body."""
    return empty(405)
