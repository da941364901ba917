"""Feature flag management: list, create, retrieve, update, soft delete."""

from __future__ import annotations

import copy
import json
from typing import Any, Callable

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from hedgerow import clock
from hedgerow.errors import ValidationError
from hedgerow.ids import parse_id
from hedgerow.services.catalogue import Catalogue, Context, Listed, Output, Tool
from hedgerow.services.catalogue.paging import Paged, shown
from hedgerow.services.catalogue.validation import TEXT_LIST, json_text
from hedgerow.services.feature_flags import FlagQuery, is_simple, status
from hedgerow.services.operations.organizations import UserBasic, user_lookup
from hedgerow.services.records import FlagRecord

operations = Catalogue()


class FeatureFlag(Output):
    """A flag as PostHog's serializer shows it (cohort conditions carry ``cohort_name``)."""

    id: int
    name: str
    key: str
    filters: dict[str, Any]
    deleted: bool
    active: bool
    created_by: UserBasic | None
    created_at: str | None
    updated_at: str | None
    version: int | None
    last_modified_by: UserBasic | None
    is_simple_flag: bool
    rollout_percentage: int | float | None
    ensure_experience_continuity: bool | None
    experiment_set: list[Any] = []
    surveys: list[Any] = []
    features: list[Any] = []
    rollback_conditions: Any
    performed_rollback: bool | None
    can_edit: bool = True
    tags: list[Any]
    evaluation_tags: list[Any] = []
    usage_dashboard: int | None = None
    analytics_dashboards: list[Any] = []
    has_enriched_analytics: bool | None
    user_access_level: str = "editor"
    is_remote_configuration: bool | None
    has_encrypted_payloads: bool | None
    status: str
    evaluation_runtime: str | None
    bucketing_identifier: str | None
    last_called_at: str | None

    @classmethod
    def of(cls, ctx: Context, flag: FlagRecord, cohort_names: dict[int, str | None] | None = None,
           users: Callable[[int | None], Any] | None = None) -> "FeatureFlag":  # fmt: skip
        users = users or user_lookup(ctx)
        filters = copy.deepcopy(flag.filters)
        if cohort_names is None:
            cohort_names = ctx.services.flags.cohort_names(flag.project_id)
        for group in filters.get("groups") or []:
            for prop in (group or {}).get("properties") or []:
                if isinstance(prop, dict) and prop.get("type") == "cohort":
                    number = parse_id(str(prop.get("value")))
                    prop["cohort_name"] = cohort_names.get(number) if number is not None else None
        simple = is_simple(flag)
        return cls(
            id=flag.id,
            name=flag.name,
            key=flag.key,
            filters=filters,
            deleted=flag.deleted,
            active=flag.active,
            created_by=UserBasic.of(users(flag.created_by_id)),
            created_at=clock.iso(flag.created_at),
            updated_at=clock.iso(flag.updated_at),
            version=flag.version,
            last_modified_by=UserBasic.of(users(flag.last_modified_by_id)),
            is_simple_flag=simple,
            rollout_percentage=(filters.get("groups") or [{}])[0].get("rollout_percentage") if simple else None,
            ensure_experience_continuity=flag.ensure_experience_continuity,
            rollback_conditions=flag.rollback_conditions,
            performed_rollback=flag.performed_rollback,
            tags=flag.tags,
            usage_dashboard=flag.usage_dashboard_id,
            has_enriched_analytics=flag.has_enriched_analytics,
            is_remote_configuration=flag.is_remote_configuration,
            has_encrypted_payloads=flag.has_encrypted_payloads,
            status=status(flag),
            evaluation_runtime=flag.evaluation_runtime,
            bucketing_identifier=flag.bucketing_identifier,
            last_called_at=clock.iso(flag.last_called_at),
        )


def _json_list(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    try:
        value = json.loads(raw)
    except ValueError:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


class FlagList(Paged):
    active: str | None = None
    created_by_id: str | None = None
    search: str | None = None
    type: str | None = None
    evaluation_runtime: str | None = None
    excluded_properties: str | None = json_text(TEXT_LIST)
    tags: str | None = json_text(TEXT_LIST)
    order: str | None = None


class FlagFields(BaseModel):
    """A flag's writable fields; PostHog's rules (key pattern, filters, variants, payloads,
    dependencies) are checked by the flag service, first error first, in DRF's words."""

    model_config = ConfigDict(extra="allow")
    key: Any = None
    name: Any = None
    filters: Any = None
    active: Any = None
    deleted: Any = None
    ensure_experience_continuity: Any = None
    tags: Any = None
    evaluation_runtime: Any = None

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class FlagCreate(FlagFields):
    """A new flag: ``key`` is required (the flag service says so in DRF's words)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"required": ["key"], "examples": [
        {"key": "new-checkout", "name": "New checkout", "filters": {"groups": [
            {"properties": [{"key": "email", "type": "person", "operator": "icontains", "value": "@acme.io"}],
             "rollout_percentage": 50}]}},
    ]})  # fmt: skip
    key: Any = Field(default=None, json_schema_extra={"type": "string", "pattern": "^[a-zA-Z0-9_-]+$",
                                                      "maxLength": 400})  # fmt: skip


class FlagId(BaseModel):
    """A flag named by its id or (for agents' tools) by its key."""

    model_config = ConfigDict(extra="ignore")
    flag_id: int | None = Field(default=None, validation_alias=AliasChoices("flag_id", "id", "flagId"))
    flag_key: str | None = Field(default=None, validation_alias=AliasChoices("flag_key", "flagKey"))


class FlagUpdate(FlagFields, FlagId):
    model_config = ConfigDict(extra="allow")


def _find(ctx: Context, args: FlagId) -> FlagRecord:
    if args.flag_id is not None:
        return ctx.services.flags.get(ctx.project_id, args.flag_id)
    if args.flag_key is not None:
        return ctx.services.flags.by_key(ctx.project_id, args.flag_key)
    raise ValidationError("Name the flag by its id or its key.", code="required", attr="flag_id")


@operations.operation("feature_flag.list", "feature_flag:read", output=FeatureFlag, input=FlagList,
                      tool=Tool("feature-flag-get-all", "List feature flags", read_only=True))  # fmt: skip
def list_flags(ctx: Context, args: FlagList) -> Listed:
    """The project's flags (not deleted), newest first, with PostHog's filters."""
    query = FlagQuery(
        active=args.active,
        created_by_id=args.created_by_id,
        search=args.search,
        type=args.type,
        evaluation_runtime=args.evaluation_runtime,
        excluded_keys=_json_list(args.excluded_properties),
        tags=_json_list(args.tags),
        order=args.order,
    )
    flags = ctx.services.flags.search(ctx.project_id, query)
    names = ctx.services.flags.cohort_names(ctx.project_id)
    users = user_lookup(ctx)
    return shown(args, flags, lambda f: FeatureFlag.of(ctx, f, names, users))


@operations.operation("feature_flag.create", "feature_flag:write", output=FeatureFlag, input=FlagCreate,
                      tool=Tool("create-feature-flag", "Create a feature flag", read_only=False))  # fmt: skip
def create_flag(ctx: Context, args: FlagCreate) -> FeatureFlag:
    """A new flag (version 1); soft-deleted flags with the same key are purged."""
    return FeatureFlag.of(ctx, ctx.services.flags.create(ctx.project_id, ctx.user_id, args.given()))


@operations.operation("feature_flag.retrieve", "feature_flag:read", output=FeatureFlag, input=FlagId,
                      tool=Tool("feature-flag-get-definition", "Get a feature flag", read_only=True))  # fmt: skip
def retrieve_flag(ctx: Context, args: FlagId) -> FeatureFlag:
    """One flag, by id or key."""
    return FeatureFlag.of(ctx, _find(ctx, args))


@operations.operation("feature_flag.update", "feature_flag:write", output=FeatureFlag, input=FlagUpdate,
                      tool=Tool("update-feature-flag", "Update a feature flag", read_only=False,
                                idempotent=True))  # fmt: skip
def update_flag(ctx: Context, args: FlagUpdate) -> FeatureFlag:
    """Change a flag; bumps its version (409 on conflicting concurrent edits)."""
    flag = _find(ctx, args)
    changes = {k: v for k, v in args.given().items() if k not in ("flag_id", "flag_key")}
    return FeatureFlag.of(ctx, ctx.services.flags.update(ctx.project_id, flag.id, ctx.user_id, changes))


@operations.operation("feature_flag.delete", "feature_flag:write", output=FeatureFlag, input=FlagId,
                      tool=Tool("delete-feature-flag", "Delete a feature flag", read_only=False,
                                destructive=True, idempotent=True))  # fmt: skip
def delete_flag(ctx: Context, args: FlagId) -> FeatureFlag:
    """Soft-delete a flag (``deleted: true``), as PostHog's delete tool does."""
    flag = _find(ctx, args)
    return FeatureFlag.of(ctx, ctx.services.flags.update(ctx.project_id, flag.id, ctx.user_id, {"deleted": True}))


operations.soft_delete_only("feature_flag.destroy", "feature_flag:write", input=FlagId)
