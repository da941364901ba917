"""Event and property definitions, as ingestion recorded them (Data management)."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hedgerow import clock
from hedgerow.errors import NotFound, ValidationError
from hedgerow.ids import parse_id
from hedgerow.services.catalogue import Catalogue, Context, Listed, NoInput, Output, Tool
from hedgerow.services.catalogue.paging import Paged, sliced
from hedgerow.services.catalogue.validation import TEXT_LIST, json_text
from hedgerow.services.definitions import KINDS, PropertyQuery
from hedgerow.services.records import EventDefinitionRow, PropertyDefinitionRow

operations = Catalogue()

TABLES = ("events", "persons", "person_distinct_ids", "sessions", "groups", "cohort_people")


class EventDefinition(Output):
    """An event name as ingestion recorded it."""

    id: str
    name: str
    owner: None = None
    description: None = None
    tags: list[str] = []
    created_at: str | None
    last_seen_at: str | None
    last_updated_at: str | None
    updated_at: str | None
    updated_by: None = None
    verified: bool = False
    verified_at: None = None
    verified_by: None = None
    hidden: bool = False
    is_action: bool = False
    post_to_slack: bool = False
    default_columns: list[str] = []
    volume_30_day: None = None
    query_usage_30_day: None = None

    @classmethod
    def of(cls, row: EventDefinitionRow) -> "EventDefinition":
        return cls(id=row.id, name=row.name, created_at=clock.iso(row.created_at),
                   last_seen_at=clock.iso(row.last_seen_at), last_updated_at=clock.iso(row.last_seen_at),
                   updated_at=clock.iso(row.created_at))  # fmt: skip


class PropertyDefinition(Output):
    """A property name with its detected type."""

    id: str
    name: str
    is_numerical: bool
    property_type: str | None
    type: int
    group_type_index: int | None
    tags: list[str] = []
    description: None = None
    updated_at: str | None
    updated_by: None = None
    verified: bool = False
    verified_at: None = None
    verified_by: None = None
    hidden: bool = False
    is_seen_on_filtered_events: bool | None

    @classmethod
    def of(cls, row: PropertyDefinitionRow, seen_on: set[str] | None = None) -> "PropertyDefinition":
        return cls(
            id=row.id,
            name=row.name,
            is_numerical=row.is_numerical,
            property_type=row.property_type,
            type=row.type,
            group_type_index=row.group_type_index,
            updated_at=clock.iso(row.last_seen_at or row.created_at),
            is_seen_on_filtered_events=(row.name in seen_on) if seen_on is not None else None,
        )


class PropertyRef(Output):
    name: str
    property_type: str | None


class DataSchema(Output):
    """What a query can read in a project: events, their and persons' properties, tables."""

    events: list[str]
    event_properties: list[PropertyRef]
    person_properties: list[PropertyRef]
    tables: list[str]


def _json_list(raw: str | None, name: str) -> tuple[str, ...]:
    if not raw:
        return ()
    try:
        value = json.loads(raw)
    except ValueError:
        raise ValidationError(f"{name} must be a JSON list.", attr=name) from None
    if not isinstance(value, list):
        raise ValidationError(f"{name} must be a JSON list.", attr=name)
    return tuple(str(v) for v in value)


class EventDefinitionList(Paged):
    search: str | None = None


class DefinitionId(BaseModel):
    model_config = ConfigDict(extra="ignore")
    definition_id: str


class PropertyDefinitionList(Paged):
    type: Literal["event", "person", "group", "session"] = "event"
    group_type_index: str | None = None
    search: str | None = None
    event_names: str | None = json_text(TEXT_LIST)
    properties: str | None = Field(default=None, description="Property names, comma-separated")
    excluded_properties: str | None = json_text(TEXT_LIST)
    is_numerical: str | None = None
    filter_by_event_names: str | None = None


@operations.operation("event_definition.list", "event_definition:read", output=EventDefinition,
                      input=EventDefinitionList,
                      tool=Tool("event-definitions-list", "List event definitions", read_only=True))  # fmt: skip
def list_event_definitions(ctx: Context, args: EventDefinitionList) -> Listed:
    """Event names seen in the project, alphabetically, with first and last seen."""
    rows = ctx.services.definitions.events(ctx.project_id, args.search)
    return sliced(args, [EventDefinition.of(r) for r in rows])


@operations.operation("event_definition.retrieve", "event_definition:read", output=EventDefinition, input=DefinitionId)
def retrieve_event_definition(ctx: Context, args: DefinitionId) -> EventDefinition:
    """One event definition by id."""
    for row in ctx.services.definitions.events(ctx.project_id):
        if row.id == args.definition_id:
            return EventDefinition.of(row)
    raise NotFound()


@operations.operation("property_definition.list", "property_definition:read", output=PropertyDefinition,
                      input=PropertyDefinitionList,
                      tool=Tool("properties-list", "List property definitions", read_only=True))  # fmt: skip
def list_property_definitions(ctx: Context, args: PropertyDefinitionList) -> Listed:
    """Property names with their detected types (event, person or group properties)."""
    if args.type not in KINDS:  # session properties are not recorded here: there are none to list
        return sliced(args, [])
    group_index = parse_id(args.group_type_index) if args.group_type_index is not None else None
    if args.type == "group" and group_index is None:
        raise ValidationError("group_type_index must be provided when type is group", attr="group_type_index")
    event_names = _json_list(args.event_names, "event_names")
    query = PropertyQuery(
        type=args.type,
        group_type_index=group_index,
        search=args.search,
        event_names=event_names,
        properties=tuple(p for p in (args.properties or "").split(",") if p),
        excluded=_json_list(args.excluded_properties, "excluded_properties"),
        is_numerical=None if args.is_numerical is None else args.is_numerical.lower() == "true",
        filter_by_event_names=(args.filter_by_event_names or "").lower() == "true",
    )
    rows = ctx.services.definitions.properties(ctx.project_id, query)
    seen_on = ctx.services.definitions.seen_on(ctx.project_id, event_names) if event_names else None
    if seen_on is not None:  # properties seen on the chosen events come first
        rows = sorted(rows, key=lambda r: r.name not in seen_on)
    return sliced(args, [PropertyDefinition.of(r, seen_on) for r in rows])


@operations.operation("property_definition.retrieve", "property_definition:read", output=PropertyDefinition,
                      input=DefinitionId)
def retrieve_property_definition(ctx: Context, args: DefinitionId) -> PropertyDefinition:
    """One property definition by id."""
    for kind in KINDS:
        for row in ctx.services.definitions.properties(ctx.project_id, PropertyQuery(type=kind)):
            if row.id == args.definition_id:
                return PropertyDefinition.of(row)
    raise NotFound()


@operations.operation("event_definition.schema", "event_definition:read", output=DataSchema, input=NoInput,
                      also=("property_definition:read",),
                      tool=Tool("read-data-schema", "Read the data schema", read_only=True))  # fmt: skip
def read_data_schema(ctx: Context, args: NoInput) -> DataSchema:
    """The events, properties and tables a query can read in this project."""
    definitions = ctx.services.definitions
    properties = {
        kind: [PropertyRef(name=r.name, property_type=r.property_type)
               for r in definitions.properties(ctx.project_id, PropertyQuery(type=kind))]
        for kind in ("event", "person")
    }  # fmt: skip
    return DataSchema(
        events=[r.name for r in definitions.events(ctx.project_id)],
        event_properties=properties["event"],
        person_properties=properties["person"],
        tables=list(TABLES),
    )
