"""Event and property definitions, as ingestion recorded them (Data management)."""

from __future__ import annotations

import json
from typing import Any

from hedgerow import clock
from hedgerow.api.call import Call
from hedgerow.api.pagination import paginate
from hedgerow.api.routing import RouteTable
from hedgerow.errors import NotFound, ValidationError
from hedgerow.ids import parse_id
from hedgerow.services.definitions import KINDS, PropertyQuery
from hedgerow.services.records import EventDefinitionRow, PropertyDefinitionRow

routes = RouteTable()

EVENTS = "/api/projects/{project_id}/event_definitions/"
PROPERTIES = "/api/projects/{project_id}/property_definitions/"


def event_json(row: EventDefinitionRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "owner": None,
        "description": None,
        "tags": [],
        "created_at": clock.iso(row.created_at),
        "last_seen_at": clock.iso(row.last_seen_at),
        "last_updated_at": clock.iso(row.last_seen_at),
        "updated_at": clock.iso(row.created_at),
        "updated_by": None,
        "verified": False,
        "verified_at": None,
        "verified_by": None,
        "hidden": False,
        "is_action": False,
        "post_to_slack": False,
        "default_columns": [],
        "volume_30_day": None,
        "query_usage_30_day": None,
    }


def property_json(row: PropertyDefinitionRow, seen_on: set[str] | None = None) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "is_numerical": row.is_numerical,
        "property_type": row.property_type,
        "type": row.type,
        "group_type_index": row.group_type_index,
        "tags": [],
        "description": None,
        "updated_at": clock.iso(row.last_seen_at or row.created_at),
        "updated_by": None,
        "verified": False,
        "verified_at": None,
        "verified_by": None,
        "hidden": False,
        "is_seen_on_filtered_events": (row.name in seen_on) if seen_on is not None else None,
    }


def _json_list(call: Call, name: str) -> tuple[str, ...]:
    raw = call.query.get(name)
    if not raw:
        return ()
    try:
        value = json.loads(raw)
    except ValueError:
        raise ValidationError(f"{name} must be a JSON list.", attr=name) from None
    if not isinstance(value, list):
        raise ValidationError(f"{name} must be a JSON list.", attr=name)
    return tuple(str(v) for v in value)


@routes.get(EVENTS, name="event_definitions_list", scope="event_definition:read")
def list_event_definitions(call: Call) -> dict[str, Any]:
    """Event names seen in the project, alphabetically, with first and last seen."""
    rows = call.services.definitions.events(call.project_id, call.query.get("search"))

    def fetch(page: Any) -> tuple[list[dict[str, Any]], int]:
        return [event_json(r) for r in rows[page.offset : page.offset + page.limit]], len(rows)

    return paginate(call.url, call.query, fetch)


@routes.get(EVENTS + "{definition_id}/", name="event_definitions_retrieve", scope="event_definition:read")
def retrieve_event_definition(call: Call) -> dict[str, Any]:
    """One event definition by id."""
    for row in call.services.definitions.events(call.project_id):
        if row.id == call.path_params["definition_id"]:
            return event_json(row)
    raise NotFound()


@routes.get(PROPERTIES, name="property_definitions_list", scope="property_definition:read")
def list_property_definitions(call: Call) -> dict[str, Any]:
    """Property names with their detected types (event, person or group properties)."""
    q = call.query
    kind = q.get("type") or "event"
    if kind not in KINDS:
        raise ValidationError(f'"{kind}" is not a valid choice.', code="invalid_choice", attr="type")
    group_index = q.get("group_type_index")
    if kind == "group" and (group_index is None or parse_id(group_index) is None):
        raise ValidationError("group_type_index must be provided when type is group", attr="group_type_index")
    is_numerical = q.get("is_numerical")
    event_names = _json_list(call, "event_names")
    query = PropertyQuery(
        type=kind,
        group_type_index=parse_id(group_index) if group_index else None,
        search=q.get("search"),
        event_names=event_names,
        properties=tuple(p for p in (q.get("properties") or "").split(",") if p),
        excluded=_json_list(call, "excluded_properties"),
        is_numerical=None if is_numerical is None else is_numerical.lower() == "true",
        filter_by_event_names=(q.get("filter_by_event_names") or "").lower() == "true",
    )
    rows = call.services.definitions.properties(call.project_id, query)
    seen_on = call.services.definitions.seen_on(call.project_id, event_names) if event_names else None
    if seen_on is not None:  # properties seen on the chosen events come first
        rows = sorted(rows, key=lambda r: r.name not in seen_on)

    def fetch(page: Any) -> tuple[list[dict[str, Any]], int]:
        chosen = rows[page.offset : page.offset + page.limit]
        return [property_json(r, seen_on) for r in chosen], len(rows)

    return paginate(call.url, call.query, fetch)


@routes.get(PROPERTIES + "{definition_id}/", name="property_definitions_retrieve", scope="property_definition:read")
def retrieve_property_definition(call: Call) -> dict[str, Any]:
    """One property definition by id."""
    for kind in KINDS:
        for row in call.services.definitions.properties(call.project_id, PropertyQuery(type=kind)):
            if row.id == call.path_params["definition_id"]:
                return property_json(row)
    raise NotFound()
