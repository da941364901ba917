"""Persons: list, retrieve, update properties, delete.

Writes go through ingestion (a ``$set`` or ``$delete_person_property`` event, or a delete in
the single writer), so they are durable and consistent with capture when the answer comes back.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import anyio.from_thread
from pydantic import BaseModel, ConfigDict, Field

from hedgerow import clock
from hedgerow.errors import MethodNotAllowed, ValidationError
from hedgerow.services.catalogue import (
    EMPTY,
    Catalogue,
    Context,
    ErrorBody,
    Listed,
    NoInput,
    Output,
    Reply,
    Success,
    Tool,
)
from hedgerow.services.catalogue.paging import Paged
from hedgerow.services.catalogue.validation import json_text
from hedgerow.services.persons import PersonFilter, PersonsService

operations = Catalogue()

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
NAME_PROPERTIES = ("email", "name", "username")
MAX_BULK = 1000


def _service(ctx: Context) -> PersonsService:
    assert ctx.services.persons is not None, "the Persons API runs in the server process"
    return ctx.services.persons


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


class ListedPerson(Output):
    """A person in a list: ``id`` is the UUID string."""

    type: str = "person"
    id: str
    uuid: str
    created_at: str | None
    last_seen_at: None = None
    properties: dict[str, Any]
    is_identified: bool
    name: str
    distinct_ids: list[str]
    matched_recordings: list[Any] = []
    value_at_data_point: None = None

    @classmethod
    def of(cls, person: dict[str, Any]) -> "ListedPerson":
        return cls(
            id=person["uuid"],
            uuid=person["uuid"],
            created_at=_iso(person["created_at"]),
            properties=person["properties"],
            is_identified=person["is_identified"],
            name=display_name(person),
            distinct_ids=ordered_distinct_ids(person["distinct_ids"]),
        )


class Person(Output):
    """A retrieved person: ``id`` is the integer primary key."""

    id: int
    name: str
    distinct_ids: list[str]
    properties: dict[str, Any]
    created_at: str | None
    uuid: str
    is_identified: bool

    @classmethod
    def of(cls, person: dict[str, Any]) -> "Person":
        return cls(
            id=person["int_id"],
            name=display_name(person),
            distinct_ids=ordered_distinct_ids(person["distinct_ids"]),
            properties=person["properties"],
            created_at=_iso(person["created_at"]),
            uuid=person["uuid"],
            is_identified=person["is_identified"],
        )


def _swapped(attr: str) -> Reply:
    """PostHog answers these 400s with ``code`` and ``detail`` swapped; we do too."""
    return Reply(400, {"attr": attr, "code": "This field is required.", "detail": "required",
                       "type": "validation_error"})  # fmt: skip


_NUMERIC = ["gt", "gte", "lt", "lte"]
PROPERTY_FILTER = {
    "type": "object",
    "properties": {
        "key": {"type": "string", "minLength": 1},
        "value": {},
        "operator": {"enum": ["exact", "is_not", "icontains", "not_icontains", "regex", "not_regex", *_NUMERIC,
                              "is_set", "is_not_set", None]},
        "type": {"type": "string"},
    },
    "required": ["key"],
    "if": {"properties": {"operator": {"enum": _NUMERIC}}, "required": ["operator"]},
    "then": {"properties": {"value": {"type": "number"}}, "required": ["value"]},
}  # fmt: skip
PROPERTY_FILTERS = {
    "anyOf": [
        {"type": "array", "items": PROPERTY_FILTER},
        {"type": "object", "properties": {"values": {"type": "array", "items": PROPERTY_FILTER}}},
    ],
}
"""``properties``: JSON text, a list of person property filters (or ``{"values": [...]}``)."""


class PersonList(Paged):
    distinct_id: str | None = None
    email: str | None = None
    search: str | None = None
    properties: str | None = json_text(PROPERTY_FILTERS)
    include_total: str | None = None


PERSON_ID = r"^([0-9]{1,18}|[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12})$"


class PersonId(BaseModel):
    model_config = ConfigDict(extra="ignore")
    # Documented, not enforced here: anything else gets PostHog's own 400 (it names the
    # distinct-id form of the call).
    person_id: str = Field(json_schema_extra={"pattern": PERSON_ID})


class PersonUpdate(PersonId):
    model_config = ConfigDict(extra="allow", json_schema_extra={"required": ["person_id", "properties"]})
    properties: Any = Field(default=None, json_schema_extra={"type": "object"})


class PropertyUpdate(PersonId):
    """``{"key", "value"}`` (both required; the value may be any JSON)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={
        "properties": {"person_id": {"type": "string", "pattern": PERSON_ID}, "key": {"type": "string"}, "value": {}},
        "required": ["person_id", "key", "value"],
    })  # fmt: skip


class PropertyRemoval(PersonId):
    """``{"$unset": "key"}``."""

    model_config = ConfigDict(extra="allow", json_schema_extra={
        "properties": {"person_id": {"type": "string", "pattern": PERSON_ID},
                       "$unset": {"type": "string", "minLength": 1}},
        "required": ["person_id", "$unset"],
    })  # fmt: skip


class PersonDelete(PersonId):
    delete_events: str | None = None


BULK_IDS = {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": MAX_BULK}


class BulkDelete(BaseModel):
    """Persons named by ``ids`` (UUIDs) or ``distinct_ids``: one of the two."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"anyOf": [{"required": ["ids"]},
                                                                           {"required": ["distinct_ids"]}]})  # fmt: skip
    ids: Any = Field(default=None, json_schema_extra=BULK_IDS)
    distinct_ids: Any = Field(default=None, json_schema_extra=BULK_IDS)
    delete_events: Any = Field(default=None, json_schema_extra={"type": "boolean"})


def _properties(raw: str | None) -> list[dict[str, Any]]:
    if not raw:
        return []
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise ValidationError("Properties are unparsable!", attr="properties") from None
    if isinstance(parsed, dict):
        parsed = parsed.get("values") or []
    if not isinstance(parsed, list) or not all(isinstance(p, dict) for p in parsed):
        raise ValidationError("Properties are unparsable!", attr="properties")
    return [p for p in parsed if p.get("type", "person") == "person"]


@operations.operation("person.list", "person:read", output=ListedPerson, input=PersonList, rate="analytics",
                      tool=Tool("persons-list", "List persons", read_only=True))  # fmt: skip
def list_persons(ctx: Context, args: PersonList) -> Listed:
    """Persons, newest first; ``count`` only with ``include_total``."""
    limit = args.page_limit
    filters = PersonFilter(
        distinct_id=args.distinct_id, email=args.email, search=args.search,
        properties=_properties(args.properties), limit=limit, offset=args.offset,
    )  # fmt: skip
    people, total = _service(ctx).list(ctx.project_id, filters)
    return Listed([ListedPerson.of(p) for p in people], total if args.include_total is not None else None,
                  limit, args.offset)  # fmt: skip


@operations.operation("person.retrieve", "person:read", output=Person, input=PersonId, rate="analytics",
                      tool=Tool("person-get", "Get a person", read_only=True))  # fmt: skip
def retrieve_person(ctx: Context, args: PersonId) -> Person:
    """One person by integer id or UUID."""
    return Person.of(_service(ctx).retrieve(ctx.project_id, args.person_id))


@operations.operation("person.update", "person:write", input=PersonUpdate, output=EMPTY)
def update_person(ctx: Context, args: PersonUpdate) -> Reply:
    """Merge properties into the person (a ``$set``): 202."""
    if args.properties is None:
        return _swapped("properties")
    if not isinstance(args.properties, dict):
        raise ValidationError('Expected a dictionary of items but got type "%s".' % type(args.properties).__name__,
                              code="not_a_dict", attr="properties")  # fmt: skip
    anyio.from_thread.run(_service(ctx).update_properties, ctx.project_id, args.person_id, args.properties)
    return Reply(202)


@operations.operation("person.update_property", "person:write", input=PropertyUpdate, output=EMPTY)
def update_property(ctx: Context, args: PropertyUpdate) -> Reply:
    """Set one property: ``{"key", "value"}`` → 202."""
    data = args.model_extra or {}
    for field in ("key", "value"):
        if field not in data:
            return _swapped(field)
    if not isinstance(data["key"], str):
        raise ValidationError("Not a valid string.", attr="key")
    anyio.from_thread.run(_service(ctx).update_properties, ctx.project_id, args.person_id,
                          {data["key"]: data["value"]})  # fmt: skip
    return Reply(202)


@operations.operation("person.delete_property", "person:write", output=Success, input=PropertyRemoval)
def delete_property(ctx: Context, args: PropertyRemoval) -> Success:
    """Remove one property: ``{"$unset": "key"}`` → ``{"success": true}``."""
    key = (args.model_extra or {}).get("$unset")
    if not isinstance(key, str) or not key:
        raise ValidationError("This field is required.", code="required", attr="$unset")
    anyio.from_thread.run(_service(ctx).delete_property, ctx.project_id, args.person_id, key)
    return Success()


@operations.operation("person.delete", "person:write", input=PersonDelete, output=EMPTY)
def delete_person(ctx: Context, args: PersonDelete) -> Reply:
    """Delete the person (and its events with ``delete_events``): 202."""
    service = _service(ctx)
    delete_events = args.delete_events is not None
    anyio.from_thread.run(lambda: service.delete(ctx.project_id, args.person_id, delete_events=delete_events))
    return Reply(202)


@operations.operation("person.bulk_delete", "person:write", input=BulkDelete, output=EMPTY)
def bulk_delete(ctx: Context, args: BulkDelete) -> Reply:
    """Delete up to 1,000 persons by ``distinct_ids`` or ``ids`` (UUIDs): 202."""
    chosen = args.ids if args.ids is not None else args.distinct_ids
    if not isinstance(chosen, list) or not chosen:
        raise ValidationError("You must provide either ids or distinct_ids", attr=None)
    if len(chosen) > MAX_BULK:
        raise ValidationError(f"You can only pass {MAX_BULK} ids at a time", attr=None)
    service = _service(ctx)
    delete_events = bool(args.delete_events)
    for value in chosen:
        if args.ids is not None:
            person = service.store.get_person(ctx.project_id, uuid=str(value)) if _UUID.match(str(value)) else None
        else:
            found, _ = service.list(ctx.project_id, PersonFilter(distinct_id=str(value), limit=1))
            person = found[0] if found else None
        if person is not None:
            anyio.from_thread.run(
                lambda p=person: service.delete(ctx.project_id, p["uuid"], delete_events=delete_events)
            )
    return Reply(202)


@operations.operation("person.create", "person:write", input=NoInput, output=ErrorBody)
def create_person(ctx: Context, args: NoInput) -> Any:
    """Persons are made by events, not by this API."""
    raise MethodNotAllowed(
        "POST",
        "Creating persons via this API is not allowed. Please create persons by sending an $identify "
        "event. See https://posthog.com/docs/product-analytics/identify for details.",
    )
