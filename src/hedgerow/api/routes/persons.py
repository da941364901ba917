"""The Persons API: ``/api/projects/:id/persons/`` (list, retrieve, update, delete).

Writes go through ingestion (a ``$set`` or ``$delete_person_property`` event, or a delete in
the single writer), so they are durable and consistent with capture when the answer comes back.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import anyio.from_thread

from hedgerow import clock
from hedgerow.api.call import Call
from hedgerow.api.responses import JSONResponse, empty
from hedgerow.api.routing import RouteTable
from hedgerow.errors import MethodNotAllowed, ValidationError
from hedgerow.services.persons import PersonFilter, PersonsService

routes = RouteTable()

BASE = "/api/projects/{project_id}/persons/"
ONE = BASE + "{person_id}/"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
NAME_PROPERTIES = ("email", "name", "username")
MAX_BULK = 1000


def _service(call: Call) -> PersonsService:
    assert call.services.persons is not None, "the Persons API runs in the server process"
    return call.services.persons


def _iso(value: Any) -> str | None:
    return clock.iso(value) if isinstance(value, datetime) else value


def ordered_distinct_ids(distinct_ids: list[str]) -> list[str]:
    """PostHog lists non-UUID distinct ids (the ones people chose) first."""
    return sorted(distinct_ids, key=lambda d: bool(_UUID.match(d)))


def display_name(person: dict[str, Any]) -> str:
    for key in NAME_PROPERTIES:
        value = person["properties"].get(key)
        if value:
            return str(value)
    ids = ordered_distinct_ids(person["distinct_ids"])
    return ids[0] if ids else person["uuid"]


def listed(person: dict[str, Any]) -> dict[str, Any]:
    """A person in the list: ``id`` is the UUID string."""
    return {
        "type": "person",
        "id": person["uuid"],
        "uuid": person["uuid"],
        "created_at": _iso(person["created_at"]),
        "last_seen_at": None,
        "properties": person["properties"],
        "is_identified": person["is_identified"],
        "name": display_name(person),
        "distinct_ids": ordered_distinct_ids(person["distinct_ids"]),
        "matched_recordings": [],
        "value_at_data_point": None,
    }


def detail(person: dict[str, Any]) -> dict[str, Any]:
    """A retrieved person: ``id`` is the integer primary key."""
    return {
        "id": person["int_id"],
        "name": display_name(person),
        "distinct_ids": ordered_distinct_ids(person["distinct_ids"]),
        "properties": person["properties"],
        "created_at": _iso(person["created_at"]),
        "uuid": person["uuid"],
        "is_identified": person["is_identified"],
    }


def _swapped(attr: str) -> JSONResponse:
    """PostHog answers these 400s with ``code`` and ``detail`` swapped; we do too."""
    return JSONResponse(
        {"attr": attr, "code": "This field is required.", "detail": "required", "type": "validation_error"},
        status_code=400,
    )


def _int(raw: str | None, default: int) -> int:
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        return default
    return value if value >= 0 else default


@routes.get(BASE, name="persons_list", scope="person:read", rate="analytics")
def list_persons(call: Call) -> dict[str, Any]:
    """Persons, newest first; ``count`` only with ``include_total``."""
    q = call.query
    raw_properties = q.get("properties")
    properties: list[dict[str, Any]] = []
    if raw_properties:
        try:
            parsed = json.loads(raw_properties)
        except ValueError:
            raise ValidationError("Properties are unparsable!", attr="properties") from None
        if isinstance(parsed, dict):
            parsed = parsed.get("values") or []
        if not isinstance(parsed, list) or not all(isinstance(p, dict) for p in parsed):
            raise ValidationError("Properties are unparsable!", attr="properties")
        properties = [p for p in parsed if p.get("type", "person") == "person"]
    limit = _int(q.get("limit"), 100) or 100
    offset = _int(q.get("offset"), 0)
    filters = PersonFilter(
        distinct_id=q.get("distinct_id"), email=q.get("email"), search=q.get("search"),
        properties=properties, limit=limit, offset=offset,
    )
    people, total = _service(call).list(call.project_id, filters)
    url = call.url
    body: dict[str, Any] = {
        "results": [listed(p) for p in people],
        "next": str(url.include_query_params(limit=limit, offset=offset + limit)) if len(people) == limit else None,
        "previous": str(url.include_query_params(limit=limit, offset=max(0, offset - limit))) if offset > 0 else None,
    }
    if "include_total" in q:
        body["count"] = total
    return body


@routes.get(ONE, name="persons_retrieve", scope="person:read", rate="analytics")
def retrieve_person(call: Call) -> dict[str, Any]:
    """One person by integer id or UUID."""
    return detail(_service(call).retrieve(call.project_id, call.path_params["person_id"]))


@routes.update(ONE, name="persons", scope="person:write")
def update_person(call: Call) -> Any:
    """Merge properties into the person (a ``$set``): 202."""
    data = call.data if isinstance(call.data, dict) else {}
    properties = data.get("properties")
    if properties is None:
        return _swapped("properties")
    if not isinstance(properties, dict):
        raise ValidationError('Expected a dictionary of items but got type "%s".' % type(properties).__name__,
                              code="not_a_dict", attr="properties")
    anyio.from_thread.run(_service(call).update_properties, call.project_id, call.path_params["person_id"], properties)
    return empty(202)


@routes.post(ONE + "update_property/", name="persons_update_property_create", scope="person:write")
def update_property(call: Call) -> Any:
    """Set one property: ``{"key", "value"}`` → 202."""
    data = call.data if isinstance(call.data, dict) else {}
    for field in ("key", "value"):
        if field not in data:
            return _swapped(field)
    if not isinstance(data["key"], str):
        raise ValidationError("Not a valid string.", attr="key")
    anyio.from_thread.run(
        _service(call).update_properties, call.project_id, call.path_params["person_id"], {data["key"]: data["value"]}
    )
    return empty(202)


@routes.post(ONE + "delete_property/", name="persons_delete_property_create", scope="person:write", status=201)
def delete_property(call: Call) -> dict[str, Any]:
    """Remove one property: ``{"$unset": "key"}`` → 201 ``{"success": true}``."""
    data = call.data if isinstance(call.data, dict) else {}
    key = data.get("$unset")
    if not isinstance(key, str) or not key:
        raise ValidationError("This field is required.", code="required", attr="$unset")
    anyio.from_thread.run(_service(call).delete_property, call.project_id, call.path_params["person_id"], key)
    return {"success": True}


@routes.delete(ONE, name="persons_destroy", scope="person:write")
def delete_person(call: Call) -> Any:
    """Delete the person (and its events with ``delete_events``): 202."""
    anyio.from_thread.run(
        lambda: _service(call).delete(
            call.project_id, call.path_params["person_id"], delete_events="delete_events" in call.query
        )
    )
    return empty(202)


@routes.post(BASE + "bulk_delete/", name="persons_bulk_delete_create", scope="person:write")
def bulk_delete(call: Call) -> Any:
    """Delete up to 1,000 persons by ``distinct_ids`` or ``ids`` (UUIDs): 202."""
    data = call.data if isinstance(call.data, dict) else {}
    ids, distinct_ids = data.get("ids"), data.get("distinct_ids")
    chosen = ids if ids is not None else distinct_ids
    if not isinstance(chosen, list) or not chosen:
        raise ValidationError("You must provide either ids or distinct_ids", attr=None)
    if len(chosen) > MAX_BULK:
        raise ValidationError(f"You can only pass {MAX_BULK} ids at a time", attr=None)
    service = _service(call)
    delete_events = bool(data.get("delete_events")) or "delete_events" in call.query
    for value in chosen:
        if ids is not None:
            person = service.store.get_person(call.project_id, uuid=str(value)) if _UUID.match(str(value)) else None
        else:
            found, _ = service.list(call.project_id, PersonFilter(distinct_id=str(value), limit=1))
            person = found[0] if found else None
        if person is not None:
            anyio.from_thread.run(
                lambda p=person: service.delete(call.project_id, p["uuid"], delete_events=delete_events)
            )
    return empty(202)


@routes.post(BASE, name="persons_create", scope="person:write")
def create_person(call: Call) -> Any:
    """Persons are made by events, not by this API."""
    raise MethodNotAllowed(
        "POST",
        "Creating persons via this API is not allowed. Please create persons by sending an $identify "
        "event. See https://posthog.com/docs/product-analytics/identify for details.",
    )
