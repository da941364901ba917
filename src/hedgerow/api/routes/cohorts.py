"""Cohorts: ``/api/projects/:id/cohorts/``."""

from __future__ import annotations

import json
from typing import Any

from hedgerow import clock
from hedgerow.api.call import Call
from hedgerow.api.pagination import envelope, page_from, paginate
from hedgerow.api.routes.persons import listed
from hedgerow.api.responses import empty
from hedgerow.api.routes.users import user_basic
from hedgerow.api.routing import RouteTable
from hedgerow.errors import ValidationError
from hedgerow.services.cohort_membership import read_csv_ids
from hedgerow.services.cohorts import CohortQuery
from hedgerow.services.records import CohortRecord

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


def _form_to_fields(data: Any) -> Any:
    """Multipart bodies (CSV uploads) carry every field as text."""
    if not isinstance(data, dict) or not isinstance(data.get("csv"), bytes):
        return data
    fields = dict(data)
    if isinstance(fields.get("is_static"), str):
        fields["is_static"] = fields["is_static"].lower() in ("true", "1", "on")
    for name in ("filters", "groups", "query"):
        if isinstance(fields.get(name), str):
            try:
                fields[name] = json.loads(fields[name])
            except ValueError:
                raise ValidationError("Not valid JSON.", attr=name) from None
    return fields


def _fill_static(call: Call, cohort: CohortRecord, data: dict[str, Any]) -> CohortRecord:
    """Members of a static cohort from ``_create_static_person_ids`` or an uploaded CSV."""
    membership = call.services.membership
    assert membership is not None
    uuids: list[str] = []
    if isinstance(data.get("csv"), bytes):
        kind, ids = read_csv_ids(data["csv"])
        uuids = membership.person_uuids(call.project_id, kind, ids)
    person_ids = data.get("_create_static_person_ids")
    if person_ids is not None:
        if not isinstance(person_ids, list):
            raise ValidationError("Expected a list of items.", code="not_a_list", attr="_create_static_person_ids")
        uuids += membership.person_uuids(call.project_id, "person_id", [str(p) for p in person_ids])
    if not uuids and not isinstance(data.get("csv"), bytes) and person_ids is None:
        return cohort
    count = membership.add_static(call.project_id, cohort.id, uuids)
    call.services.cohorts.record_calculation(call.project_id, cohort.id, count, None)
    return call.services.cohorts.get(call.project_id, cohort.id)


@routes.post(BASE, name="cohorts_create", scope="cohort:write", status=201)
def create_cohort(call: Call) -> dict[str, Any]:
    """A new cohort; dynamic ones are calculated in the background, static ones filled from
    ``_create_static_person_ids`` or a ``csv`` upload."""
    assert call.principal is not None
    data = _form_to_fields(call.data)
    if isinstance(data, dict) and isinstance(data.get("csv"), bytes):
        read_csv_ids(data["csv"])  # a bad file is refused before anything is stored
    cohort = call.services.cohorts.create(call.project_id, call.principal.user_id, data)
    if cohort.is_static:
        cohort = _fill_static(call, cohort, data)
    else:
        _calculate(call, cohort)
    return cohort_json(call, cohort)


def _calculate(call: Call, cohort: CohortRecord) -> None:
    if call.services.cohort_calculator is not None and not cohort.deleted:
        call.services.cohort_calculator.schedule(call.project_id, cohort.id)


@routes.get(ONE, name="cohorts_retrieve", scope="cohort:read")
def retrieve_cohort(call: Call) -> dict[str, Any]:
    """One cohort by id."""
    return cohort_json(call, call.services.cohorts.get(call.project_id, call.path_params["cohort_id"]))


@routes.update(ONE, name="cohorts", scope="cohort:write")
def update_cohort(call: Call) -> dict[str, Any]:
    """Change a cohort (soft-delete with ``deleted: true``)."""
    data = _form_to_fields(call.data or {})
    if isinstance(data, dict) and isinstance(data.get("csv"), bytes):
        read_csv_ids(data["csv"])
    cohort = call.services.cohorts.update(call.project_id, call.path_params["cohort_id"], data)
    if cohort.is_static and isinstance(data, dict) and isinstance(data.get("csv"), bytes):
        cohort = _fill_static(call, cohort, data)
    elif not cohort.is_static and cohort.is_calculating:
        _calculate(call, cohort)
    return cohort_json(call, cohort)


@routes.get(ONE + "persons/", name="cohorts_persons_retrieve", scope="cohort:read", also_requires=("person:read",))
def cohort_persons(call: Call) -> dict[str, Any]:
    """The cohort's members, as persons."""
    cohort = call.services.cohorts.get(call.project_id, call.path_params["cohort_id"])
    assert call.services.membership is not None and call.services.persons is not None
    members = call.services.membership.members(call.project_id, cohort.id, static=cohort.is_static)
    page = page_from(call.query)
    chosen = members[page.offset : page.offset + page.limit]
    people = [call.services.persons.store.get_person(call.project_id, uuid=u) for u in chosen]
    body = envelope(call.url, page, [listed(p) for p in people if p is not None], len(members))
    return body


@routes.patch(ONE + "add_persons_to_static_cohort/", name="cohorts_add_persons_to_static_cohort_partial_update",
              scope="cohort:write")
def add_persons(call: Call) -> dict[str, Any]:
    """Add persons (UUIDs in ``person_ids``) to a static cohort."""
    cohort = call.services.cohorts.get(call.project_id, call.path_params["cohort_id"])
    if not cohort.is_static:
        raise ValidationError("Can only add users to static cohorts")
    data = call.data if isinstance(call.data, dict) else {}
    person_ids = data.get("person_ids")
    if not isinstance(person_ids, list) or not person_ids:
        raise ValidationError("This field is required.", code="required", attr="person_ids")
    assert call.services.membership is not None
    uuids = call.services.membership.person_uuids(call.project_id, "person_id", [str(p) for p in person_ids])
    count = call.services.membership.add_static(call.project_id, cohort.id, uuids)
    call.services.cohorts.record_calculation(call.project_id, cohort.id, count, None)
    return {"success": True}


@routes.patch(ONE + "remove_person_from_static_cohort/",
              name="cohorts_remove_person_from_static_cohort_partial_update", scope="cohort:write")
def remove_person(call: Call) -> dict[str, Any]:
    """Remove one person (``person_id``, a UUID) from a static cohort."""
    cohort = call.services.cohorts.get(call.project_id, call.path_params["cohort_id"])
    if not cohort.is_static:
        raise ValidationError("Can only remove users from static cohorts")
    data = call.data if isinstance(call.data, dict) else {}
    person_id = data.get("person_id")
    if not isinstance(person_id, str):
        raise ValidationError("This field is required.", code="required", attr="person_id")
    assert call.services.membership is not None
    count = call.services.membership.remove_static(call.project_id, cohort.id, person_id)
    call.services.cohorts.record_calculation(call.project_id, cohort.id, count, None)
    return {"success": True}


@routes.delete(ONE, name="cohorts_destroy", scope="cohort:write")
def delete_cohort(call: Call) -> Any:
    """Hard deletion is not allowed: 405 with no body."""
    return empty(405)
