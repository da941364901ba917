"""Cohorts: list, create (dynamic, static from person ids or a CSV upload), retrieve, update,
members, static membership changes."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hedgerow import clock
from hedgerow.errors import ValidationError
from hedgerow.services.catalogue import Catalogue, Context, Listed, Output, Success, Tool
from hedgerow.services.catalogue.paging import Paged, listing, shown
from hedgerow.services.cohort_membership import read_csv_ids
from hedgerow.services.cohorts import CohortQuery
from hedgerow.services.operations.organizations import UserBasic
from hedgerow.services.operations.persons import ListedPerson
from hedgerow.services.records import CohortRecord

operations = Catalogue()


def _legacy_properties(cohort: CohortRecord) -> dict[str, Any]:
    """``filters.properties`` derived from legacy ``groups`` (OR of ANDed property lists)."""
    values = []
    for group in cohort.groups or []:
        props = [p for p in (group or {}).get("properties") or [] if isinstance(p, dict)]
        if props:
            values.append({"type": "AND", "values": props})
    return {"type": "OR", "values": values}


class Cohort(Output):
    """A cohort as PostHog's serializer shows it (``filters`` derived from legacy ``groups``)."""

    id: int
    name: str | None
    description: str
    groups: list[Any]
    deleted: bool
    filters: dict[str, Any]
    query: dict[str, Any] | None
    is_calculating: bool
    created_by: UserBasic | None
    created_at: str | None
    last_calculation: str | None
    errors_calculating: int
    count: int | None
    is_static: bool
    cohort_type: str | None
    experiment_set: list[Any] = []

    @classmethod
    def of(cls, ctx: Context, cohort: CohortRecord) -> "Cohort":
        creator = ctx.services.projects.user(cohort.created_by_id) if cohort.created_by_id else None
        return cls(
            id=cohort.id,
            name=cohort.name,
            description=cohort.description,
            groups=cohort.groups,
            deleted=cohort.deleted,
            filters=cohort.filters if cohort.filters else {"properties": _legacy_properties(cohort)},
            query=cohort.query,
            is_calculating=cohort.is_calculating,
            created_by=UserBasic.of(creator),
            created_at=clock.iso(cohort.created_at),
            last_calculation=clock.iso(cohort.last_calculation),
            errors_calculating=cohort.errors_calculating,
            count=cohort.count,
            is_static=cohort.is_static,
            cohort_type=cohort.cohort_type,
        )


class CohortList(Paged):
    search: str | None = None
    type: str | None = None
    created_by_id: str | None = None
    hide_behavioral_cohorts: str | None = None


class CohortId(BaseModel):
    model_config = ConfigDict(extra="ignore")
    cohort_id: int


class CohortFields(BaseModel):
    """A cohort's fields (checked against PostHog's strict filter schema by the cohort
    service); ``csv`` is an uploaded file of person ids or distinct ids."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [
        {"name": "Acme people", "filters": {"properties": {"type": "OR", "values": [{"type": "AND", "values": [
            {"key": "email", "type": "person", "operator": "icontains", "value": "@acme.io"}]}]}}},
    ]})  # fmt: skip
    name: Any = None
    description: Any = None
    filters: Any = None
    groups: Any = None
    query: Any = None
    is_static: Any = None
    deleted: Any = None

    def given(self) -> dict[str, Any]:
        return _form_to_fields(self.model_dump(exclude_unset=True, exclude={"cohort_id"}))


class CohortUpdate(CohortFields, CohortId):
    model_config = ConfigDict(extra="allow")


class PersonsToAdd(CohortId):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"required": ["cohort_id", "person_ids"]})
    person_ids: Any = Field(default=None, json_schema_extra={"type": "array", "items": {"type": "string"},
                                                             "minItems": 1})  # fmt: skip


class PersonToRemove(CohortId):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"required": ["cohort_id", "person_id"]})
    person_id: Any = Field(default=None, json_schema_extra={"type": "string"})


class CohortMembers(Paged, CohortId):
    pass


def _form_to_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Multipart bodies (CSV uploads) carry every field as text."""
    if not isinstance(data.get("csv"), bytes):
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


def _fill_static(ctx: Context, cohort: CohortRecord, data: dict[str, Any]) -> CohortRecord:
    """Members of a static cohort from ``_create_static_person_ids`` or an uploaded CSV."""
    membership = ctx.services.membership
    assert membership is not None
    uuids: list[str] = []
    if isinstance(data.get("csv"), bytes):
        kind, ids = read_csv_ids(data["csv"])
        uuids = membership.person_uuids(ctx.project_id, kind, ids)
    person_ids = data.get("_create_static_person_ids")
    if person_ids is not None:
        if not isinstance(person_ids, list):
            raise ValidationError("Expected a list of items.", code="not_a_list", attr="_create_static_person_ids")
        uuids += membership.person_uuids(ctx.project_id, "person_id", [str(p) for p in person_ids])
    if not uuids and not isinstance(data.get("csv"), bytes) and person_ids is None:
        return cohort
    count = membership.add_static(ctx.project_id, cohort.id, uuids)
    ctx.services.cohorts.record_calculation(ctx.project_id, cohort.id, count, None)
    return ctx.services.cohorts.get(ctx.project_id, cohort.id)


def _calculate(ctx: Context, cohort: CohortRecord) -> None:
    if ctx.services.cohort_calculator is not None and not cohort.deleted:
        ctx.services.cohort_calculator.schedule(ctx.project_id, cohort.id)


def _static(ctx: Context, cohort_id: int, verb: str) -> CohortRecord:
    cohort = ctx.services.cohorts.get(ctx.project_id, cohort_id)
    if not cohort.is_static:
        raise ValidationError(f"Can only {verb} users {'to' if verb == 'add' else 'from'} static cohorts")
    assert ctx.services.membership is not None
    return cohort


@operations.operation("cohort.list", "cohort:read", output=Cohort, input=CohortList,
                      tool=Tool("cohorts-list", "List cohorts", read_only=True))  # fmt: skip
def list_cohorts(ctx: Context, args: CohortList) -> Listed:
    """The project's cohorts (not deleted), newest first."""
    query = CohortQuery(
        search=args.search,
        type=args.type,
        created_by_id=args.created_by_id,
        hide_behavioral=(args.hide_behavioral_cohorts or "false").lower() == "true",
    )
    return shown(args, ctx.services.cohorts.search(ctx.project_id, query), lambda c: Cohort.of(ctx, c))


@operations.operation("cohort.create", "cohort:write", output=Cohort, input=CohortFields,
                      tool=Tool("cohorts-create", "Create a cohort", read_only=False))  # fmt: skip
def create_cohort(ctx: Context, args: CohortFields) -> Cohort:
    """A new cohort; dynamic ones are calculated in the background, static ones filled from
    ``_create_static_person_ids`` or a ``csv`` upload."""
    data = args.given()
    if isinstance(data.get("csv"), bytes):
        read_csv_ids(data["csv"])  # a bad file is refused before anything is stored
    cohort = ctx.services.cohorts.create(ctx.project_id, ctx.user_id, data)
    if cohort.is_static:
        cohort = _fill_static(ctx, cohort, data)
    else:
        _calculate(ctx, cohort)
    return Cohort.of(ctx, cohort)


@operations.operation("cohort.retrieve", "cohort:read", output=Cohort, input=CohortId,
                      tool=Tool("cohorts-retrieve", "Get a cohort", read_only=True))  # fmt: skip
def retrieve_cohort(ctx: Context, args: CohortId) -> Cohort:
    """One cohort by id."""
    return Cohort.of(ctx, ctx.services.cohorts.get(ctx.project_id, args.cohort_id))


@operations.operation("cohort.update", "cohort:write", output=Cohort, input=CohortUpdate)
def update_cohort(ctx: Context, args: CohortUpdate) -> Cohort:
    """Change a cohort (soft-delete with ``deleted: true``)."""
    data = args.given()
    if isinstance(data.get("csv"), bytes):
        read_csv_ids(data["csv"])
    cohort = ctx.services.cohorts.update(ctx.project_id, args.cohort_id, data)
    if cohort.is_static and isinstance(data.get("csv"), bytes):
        cohort = _fill_static(ctx, cohort, data)
    elif not cohort.is_static and cohort.is_calculating:
        _calculate(ctx, cohort)
    return Cohort.of(ctx, cohort)


@operations.operation("cohort.persons", "cohort:read", output=ListedPerson, input=CohortMembers, also=("person:read",))
def cohort_persons(ctx: Context, args: CohortMembers) -> Listed:
    """The cohort's members, as persons."""
    cohort = ctx.services.cohorts.get(ctx.project_id, args.cohort_id)
    membership, persons = ctx.services.membership, ctx.services.persons
    assert membership is not None and persons is not None
    members = membership.members(ctx.project_id, cohort.id, static=cohort.is_static)

    def fetch(limit: int, offset: int) -> tuple[list[ListedPerson], int]:
        people = [persons.store.get_person(ctx.project_id, uuid=u) for u in members[offset : offset + limit]]
        return [ListedPerson.of(p) for p in people if p is not None], len(members)

    return listing(args, fetch)


@operations.operation("cohort.add_persons", "cohort:write", output=Success, input=PersonsToAdd)
def add_persons(ctx: Context, args: PersonsToAdd) -> Success:
    """Add persons (UUIDs in ``person_ids``) to a static cohort."""
    cohort = _static(ctx, args.cohort_id, "add")
    if not isinstance(args.person_ids, list) or not args.person_ids:
        raise ValidationError("This field is required.", code="required", attr="person_ids")
    membership = ctx.services.membership
    assert membership is not None
    uuids = membership.person_uuids(ctx.project_id, "person_id", [str(p) for p in args.person_ids])
    count = membership.add_static(ctx.project_id, cohort.id, uuids)
    ctx.services.cohorts.record_calculation(ctx.project_id, cohort.id, count, None)
    return Success()


@operations.operation("cohort.remove_person", "cohort:write", output=Success, input=PersonToRemove)
def remove_person(ctx: Context, args: PersonToRemove) -> Success:
    """Remove one person (``person_id``, a UUID) from a static cohort."""
    cohort = _static(ctx, args.cohort_id, "remove")
    if not isinstance(args.person_id, str):
        raise ValidationError("This field is required.", code="required", attr="person_id")
    membership = ctx.services.membership
    assert membership is not None
    count = membership.remove_static(ctx.project_id, cohort.id, args.person_id)
    ctx.services.cohorts.record_calculation(ctx.project_id, cohort.id, count, None)
    return Success()


operations.soft_delete_only("cohort.destroy", "cohort:write", input=CohortId,
                            summary="Hard deletion is not allowed: 405 with no body.")
