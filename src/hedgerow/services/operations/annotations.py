"""Annotations: list, create, retrieve, update, soft delete (``/api/projects/:id/annotations/``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from hedgerow import clock
from hedgerow.errors import ValidationError
from hedgerow.services.annotations import SCOPES, AnnotationQuery, AnnotationRecord, parse_datetime
from hedgerow.services.catalogue import Catalogue, Context, Listed, Output, Tool
from hedgerow.services.catalogue.paging import Paged, shown
from hedgerow.services.operations.organizations import UserBasic, user_lookup

operations = Catalogue()


class Annotation(Output):
    """An annotation as PostHog's serializer shows it (no dashboards or insights here yet)."""

    id: int | None
    content: str | None
    date_marker: str | None
    creation_type: str
    dashboard_item: int | None
    dashboard_id: int | None
    dashboard_name: None = None
    insight_short_id: None = None
    insight_name: None = None
    insight_derived_name: None = None
    created_by: UserBasic | None
    created_at: str | None
    updated_at: str | None
    deleted: bool
    scope: str

    @classmethod
    def of(cls, ctx: Context, annotation: AnnotationRecord, users: Any = None) -> "Annotation":
        users = users or user_lookup(ctx)
        return cls(
            id=annotation.id,
            content=annotation.content,
            date_marker=clock.iso(annotation.date_marker),
            creation_type=annotation.creation_type,
            dashboard_item=annotation.dashboard_item,
            dashboard_id=annotation.dashboard_id,
            created_by=UserBasic.of(users(annotation.created_by_id)),
            created_at=clock.iso(annotation.created_at),
            updated_at=clock.iso(annotation.updated_at),
            deleted=annotation.deleted,
            scope=annotation.scope,
        )


DATE_OR_NOTHING = {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "enum": [""]}]}


class AnnotationList(Paged):
    DEFAULT_LIMIT: ClassVar[int] = 1000
    MAX_LIMIT: ClassVar[int | None] = 1000
    # Empty text filters nothing, as in PostHog.
    scope: str | None = Field(default=None, json_schema_extra={"enum": ["", "insight", *SCOPES]})
    date_from: str | None = Field(default=None, json_schema_extra=DATE_OR_NOTHING)
    date_to: str | None = Field(default=None, json_schema_extra=DATE_OR_NOTHING)
    search: str | None = None


class AnnotationFields(BaseModel):
    """The writable fields; checked by the annotation service in DRF's words."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [
        {"content": "Checkout v2 launched", "date_marker": "2026-03-01T10:00:00Z", "scope": "project"},
    ]})  # fmt: skip
    content: Any = None
    date_marker: Any = None
    creation_type: Any = None
    dashboard_item: Any = None
    dashboard_id: Any = None
    deleted: Any = None
    scope: Any = None

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class AnnotationId(BaseModel):
    model_config = ConfigDict(extra="ignore")
    annotation_id: int = Field(validation_alias=AliasChoices("annotation_id", "id"))


class AnnotationUpdate(AnnotationFields, AnnotationId):
    pass


def _scope_filter(raw: str | None) -> str | None:
    """PostHog reads ``insight`` as ``dashboard_item`` and refuses unknown scopes."""
    if not raw:
        return None
    scope = "dashboard_item" if raw == "insight" else raw
    if scope not in SCOPES:
        raise ValidationError(f"Invalid scope: {scope[:100]}")
    return scope


def _date_filter(raw: str | None, name: str) -> datetime | None:
    if not raw:
        return None
    try:
        return parse_datetime(raw, name)
    except ValidationError:
        raise ValidationError(f"Invalid date range: {name} must be a valid ISO 8601 date") from None


@operations.operation("annotation.list", "annotation:read", output=Annotation, input=AnnotationList,
                      tool=Tool("annotations-list", "List annotations", read_only=True))  # fmt: skip
def list_annotations(ctx: Context, args: AnnotationList) -> Listed:
    """The project's annotations and its organization's, newest ``date_marker`` first."""
    query = AnnotationQuery(
        scope=_scope_filter(args.scope),
        date_from=_date_filter(args.date_from, "date_from"),
        date_to=_date_filter(args.date_to, "date_to"),
        search=args.search[:400] if args.search else None,
    )
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise ValidationError("Invalid date range: date_from must be before date_to")
    assert ctx.project is not None
    rows = ctx.services.annotations.search(ctx.project, query)
    users = user_lookup(ctx)
    return shown(args, rows, lambda a: Annotation.of(ctx, a, users))


@operations.operation("annotation.create", "annotation:write", output=Annotation, input=AnnotationFields,
                      tool=Tool("annotation-create", "Create an annotation", read_only=False))  # fmt: skip
def create_annotation(ctx: Context, args: AnnotationFields) -> Annotation:
    """A new annotation, created by the caller."""
    assert ctx.project is not None
    return Annotation.of(ctx, ctx.services.annotations.create(ctx.project, ctx.user_id, args.given()))


@operations.operation("annotation.retrieve", "annotation:read", output=Annotation, input=AnnotationId)
def retrieve_annotation(ctx: Context, args: AnnotationId) -> Annotation:
    """One annotation (a deleted one answers 404)."""
    assert ctx.project is not None
    return Annotation.of(ctx, ctx.services.annotations.get(ctx.project, args.annotation_id))


@operations.operation("annotation.update", "annotation:write", output=Annotation, input=AnnotationUpdate)
def update_annotation(ctx: Context, args: AnnotationUpdate) -> Annotation:
    """Change an annotation; ``deleted: true`` soft-deletes it."""
    assert ctx.project is not None
    changes = {k: v for k, v in args.given().items() if k != "annotation_id"}
    return Annotation.of(ctx, ctx.services.annotations.update(ctx.project, args.annotation_id, changes))


operations.soft_delete_only("annotation.destroy", "annotation:write", input=AnnotationId)
