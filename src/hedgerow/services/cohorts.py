"""Cohorts: definitions with PostHog's validation, listing and soft deletion.

Membership (who is in a cohort) is computed into the events store by the cohort calculator;
this module owns the definitions and their calculation bookkeeping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

import pydantic
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hedgerow import clock
from hedgerow.errors import NotFound, ValidationError
from hedgerow.ids import parse_id
from hedgerow.services.cohort_tree import cohort_properties, filter_leaves, referenced_cohort_ids
from hedgerow.store.meta import cohorts as cohort_store
from hedgerow.store.meta import flags as flag_store
from hedgerow.store.meta.cohorts import CohortRecord
from hedgerow.store.meta.db import MetaDB

# -- the strict schema of ``filters`` -------------------------------------------------------


class _EventPropertyFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["event", "element"]
    key: str
    value: Any
    operator: str | None = None


class _HogQLFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["hogql"]
    key: str
    value: Any | None = None


class _BehavioralFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["behavioral"]
    key: Union[str, int]
    value: str
    event_type: str
    time_value: int | None = None
    time_interval: str | None = None
    negation: bool = False
    operator: str | None = None
    operator_value: int | None = None
    seq_time_interval: str | None = None
    seq_time_value: int | None = None
    seq_event: Union[str, int] | None = None
    seq_event_type: str | None = None
    total_periods: int | None = None
    min_periods: int | None = None
    event_filters: list[Union[_EventPropertyFilter, _HogQLFilter]] | None = None
    explicit_datetime: str | None = None


class _CohortFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["cohort"]
    key: Literal["id"]
    value: int
    negation: bool = False


class _PersonFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["person"]
    key: str
    operator: str | None = None
    value: Any | None = None
    negation: bool = False

    @model_validator(mode="after")
    def _required(self) -> "_PersonFilter":
        missing = []
        if self.value is None and self.operator not in ("is_set", "is_not_set"):
            missing.append("value")
        if self.operator is None:
            missing.append("operator")
        if missing:
            raise ValueError(f"Missing required keys for person filter: {', '.join(missing)}")
        return self


_Leaf = Annotated[Union[_BehavioralFilter, _CohortFilter, _PersonFilter], Field(discriminator="type")]
_Node = Annotated[Union[_Leaf, "_Group"], Field(discriminator="type")]


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["AND", "OR"]
    values: list[_Node]


_Group.model_rebuild()


class _CohortFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    properties: _Group


def _filters_error(error: pydantic.ValidationError) -> ValidationError:
    for item in error.errors(include_url=False):
        if item["type"] == "value_error" and "Missing required keys" in item["msg"]:
            message = item["msg"]
            return ValidationError(message[message.index("Missing required keys"):], attr="filters")
        if item["type"] == "missing":
            loc = [str(p) for p in item["loc"]]
            for kind in ("behavioral", "cohort", "person"):
                if kind in loc:
                    return ValidationError(f"Missing required keys for {kind} filter: {loc[-1]}", attr="filters")
    first = error.errors(include_url=False)[0]
    where = ".".join(str(p) for p in first["loc"])
    return ValidationError(f"Invalid cohort filters at {where}: {first['msg']}", attr="filters")


# -- the service ----------------------------------------------------------------------------

WRITABLE = ("name", "description", "groups", "deleted", "filters", "query", "is_static", "cohort_type")


@dataclass(frozen=True)
class CohortQuery:
    search: str | None = None
    type: str | None = None
    created_by_id: str | None = None
    hide_behavioral: bool = False


class CohortService:
    """Use cases over a project's cohort definitions."""

    def __init__(self, db: MetaDB, on_change: Callable[[int], None] | None = None) -> None:
        self._db = db
        self._on_change = on_change or (lambda project_id: None)

    def get(self, project_id: int, cohort_id: int | str) -> CohortRecord:
        number = parse_id(cohort_id)
        if number is None:
            raise NotFound()
        with self._db.read() as conn:
            record = cohort_store.get(conn, project_id, number)
        if record is None:
            raise NotFound()
        return record

    def all(self, project_id: int, include_deleted: bool = False) -> list[CohortRecord]:
        with self._db.read() as conn:
            return cohort_store.in_project(conn, project_id, include_deleted)

    def search(self, project_id: int, query: CohortQuery) -> list[CohortRecord]:
        cohorts = self.all(project_id)
        by_id = {c.id: c for c in cohorts}
        found = []
        for cohort in cohorts:
            if query.type == "static" and not cohort.is_static:
                continue
            if query.type == "dynamic" and cohort.is_static:
                continue
            if query.created_by_id is not None and str(cohort.created_by_id) != query.created_by_id:
                continue
            if query.search and query.search.lower() not in (cohort.name or "").lower():
                continue
            if query.hide_behavioral and _behavioral_somewhere(cohort, by_id):
                continue
            found.append(cohort)
        return found

    def create(self, project_id: int, user_id: int | None, data: Any) -> CohortRecord:
        fields = _check_fields(data)
        is_static = bool(fields.get("is_static", False))
        filters = fields.get("filters")
        query = fields.get("query")
        if filters is not None and not is_static:
            _validate_filters(filters)
        if query is not None:
            _validate_query(query)
        if query and filters:
            raise ValidationError("Cannot set both query and filters at the same time.")
        if query is not None and not is_static:
            raise ValidationError("Cannot create a dynamic cohort with a query. Set is_static to true.")
        now = clock.now()
        with self._db.write() as conn:
            _check_references(conn, project_id, None, filters)
            created = cohort_store.insert(
                conn,
                {
                    "project_id": project_id,
                    "name": fields.get("name"),
                    "description": fields.get("description") or "",
                    "groups": fields.get("groups") or [],
                    "filters": filters,
                    "query": query,
                    "deleted": bool(fields.get("deleted", False)),
                    "is_static": is_static,
                    "cohort_type": fields.get("cohort_type"),
                    "is_calculating": not is_static,
                    "last_calculation": None,
                    "errors_calculating": 0,
                    "last_error_at": None,
                    "count": None,
                    "version": None,
                    "pending_version": None,
                    "created_by_id": user_id,
                    "created_at": now,
                    "updated_at": now,
                },
            )
        self._on_change(project_id)
        return created

    def update(self, project_id: int, cohort_id: int | str, data: Any) -> CohortRecord:
        fields = _check_fields(data)
        cohort = self.get(project_id, cohort_id)
        is_static = bool(fields.get("is_static", cohort.is_static))
        if "filters" in fields and fields["filters"] is not None and not is_static:
            _validate_filters(fields["filters"])
        if fields.get("query") is not None:
            _validate_query(fields["query"])
        values: dict[str, Any] = {k: fields[k] for k in WRITABLE if k in fields}
        with self._db.write() as conn:
            if "filters" in values:
                _check_references(conn, project_id, cohort.id, values["filters"])
                if values["filters"] and not is_static:
                    _refuse_behavioral_if_used_by_flags(conn, project_id, cohort.id, values["filters"])
            deleting = values.get("deleted") is True and not cohort.deleted
            if deleting:
                users = [
                    f for f in flag_store.live(conn, project_id)
                    if f.active and cohort.id in set(flag_cohort_ids(f.filters))
                ]
                if users:
                    raise ValidationError(
                        f"This cohort is used in {len(users)} active feature flag(s): "
                        f"{', '.join(f.name or f.key for f in users)}. "
                        "Please remove the cohort from these feature flags before deleting it."
                    )
            elif "deleted" not in values and not is_static:
                values["is_calculating"] = True
            values["updated_at"] = clock.now()
            cohort_store.update(conn, cohort.id, values)
            updated = cohort_store.get(conn, project_id, cohort.id)
        assert updated is not None
        self._on_change(project_id)
        return updated

    def record_calculation(
        self, project_id: int, cohort_id: int, count: int | None, version: int | None, failed: bool = False
    ) -> None:
        """Store the outcome of a membership calculation."""
        now = clock.now()
        with self._db.write() as conn:
            current = cohort_store.get(conn, project_id, cohort_id)
            if current is None:
                return
            values: dict[str, Any] = {"is_calculating": False, "last_calculation": now}
            if failed:
                values["errors_calculating"] = current.errors_calculating + 1
                values["last_error_at"] = now
            else:
                values.update(count=count, version=version, errors_calculating=0)
            cohort_store.update(conn, cohort_id, values)
        self._on_change(project_id)


def flag_cohort_ids(filters: dict[str, Any]) -> list[int]:
    ids = []
    for group in filters.get("groups") or []:
        for prop in (group or {}).get("properties") or []:
            if isinstance(prop, dict) and prop.get("type") == "cohort":
                number = parse_id(str(prop.get("value")))
                if number is not None:
                    ids.append(number)
    return ids


def _check_fields(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError(
            "Invalid data. Expected a dictionary, but got "
            f"{type(data).__name__ if data is not None else 'NoneType'}.",
            attr="non_field_errors",
        )
    fields = {k: data[k] for k in WRITABLE if k in data}
    for name in ("name", "description"):
        if fields.get(name) is not None and not isinstance(fields[name], str):
            raise ValidationError("Not a valid string.", attr=name)
    if fields.get("name") is not None and len(fields["name"]) > 400:
        raise ValidationError("Ensure this field has no more than 400 characters.", code="max_length", attr="name")
    for name in ("deleted", "is_static"):
        if name in fields and not isinstance(fields[name], bool):
            raise ValidationError("Must be a valid boolean.", attr=name)
    if "groups" in fields and not isinstance(fields["groups"], list):
        raise ValidationError("Expected a list of items.", code="not_a_list", attr="groups")
    if fields.get("filters") is not None and not isinstance(fields["filters"], dict):
        raise ValidationError("Must contain a 'properties' key with type and values", attr="filters")
    if fields.get("cohort_type") not in (None, "static", "person_property", "behavioral", "realtime", "analytical"):
        raise ValidationError(f'"{fields["cohort_type"]}" is not a valid choice.', code="invalid_choice", attr="cohort_type")
    return fields


def _validate_filters(filters: dict[str, Any]) -> None:
    if "properties" not in filters:
        raise ValidationError("Must contain a 'properties' key with type and values", attr="filters")
    try:
        _CohortFilters.model_validate(filters)
    except pydantic.ValidationError as error:
        raise _filters_error(error) from None


def _validate_query(query: Any) -> None:
    if not isinstance(query, dict):
        raise ValidationError("Query must be a dictionary.", attr="query")
    if query.get("kind") not in ("ActorsQuery", "HogQLQuery"):
        raise ValidationError(f"Query must be an ActorsQuery or HogQLQuery. Got: {query.get('kind')}", attr="query")
    if query["kind"] == "HogQLQuery" and not isinstance(query.get("query"), str):
        raise ValidationError("HogQLQuery needs a 'query' string.", attr="query")


def _check_references(conn: Any, project_id: int, own_id: int | None, filters: Any) -> None:
    """Nested cohorts must exist in the project and must not lead back to this cohort."""
    pending = referenced_cohort_ids(filters)
    seen: set[int] = set()
    while pending:
        ref = pending.pop()
        if own_id is not None and ref == own_id:
            raise ValidationError("Cohorts cannot reference other cohorts in a loop.")
        if ref in seen:
            continue
        seen.add(ref)
        nested = cohort_store.get(conn, project_id, ref)
        if nested is None:
            raise ValidationError(f"Cohort with id {ref} does not exist", attr="filters")
        pending.extend(referenced_cohort_ids(nested.filters))


def _refuse_behavioral_if_used_by_flags(conn: Any, project_id: int, cohort_id: int, filters: dict[str, Any]) -> None:
    used = any(
        f.active and cohort_id in set(flag_cohort_ids(f.filters)) for f in flag_store.live(conn, project_id)
    )
    if not used:
        return
    for leaf in filter_leaves(filters):
        if leaf.get("type") == "behavioral":
            raise ValidationError(
                "Behavioral filters cannot be added to cohorts used in feature flags.",
                code="behavioral_cohort_found",
            )


def _behavioral_somewhere(cohort: CohortRecord, by_id: dict[int, CohortRecord], seen: frozenset[int] = frozenset()) -> bool:
    if cohort.id in seen:
        return False
    for leaf in cohort_properties(cohort):
        if leaf.get("type") == "behavioral":
            return True
        if leaf.get("type") == "cohort" and parse_id(str(leaf.get("value"))) is not None:
            nested = by_id.get(int(leaf["value"]))
            if nested and _behavioral_somewhere(nested, by_id, seen | {cohort.id}):
                return True
    return False
