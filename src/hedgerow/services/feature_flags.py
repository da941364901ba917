"""Feature flags: validation with PostHog's rules, versioned updates, soft deletion, listing."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from hedgerow import clock
from hedgerow.errors import Conflict, NotFound, ValidationError
from hedgerow.ids import parse_id
from hedgerow.services import usage_dashboard
from hedgerow.services.fields import boolean
from hedgerow.services.flag_filters import validate_filters
from hedgerow.store.meta import cohorts as cohort_store
from hedgerow.store.meta import flags as flag_store
from hedgerow.store.meta.db import MetaDB
from hedgerow.store.meta.flags import FlagRecord

KEY_PATTERN = re.compile(r"^[a-zA-Z0-9_-]+$")
EVALUATION_RUNTIMES = ("all", "both", "server", "client")
CREATION_CONTEXTS = (
    "feature_flags",
    "experiments",
    "surveys",
    "early_access_features",
    "web_experiments",
    "product_tours",
)
STALE_AFTER = timedelta(days=30)

# Fields a client may write, in the order PostHog's serializer validates them (first error wins).
WRITABLE = (
    "name",
    "key",
    "filters",
    "deleted",
    "active",
    "ensure_experience_continuity",
    "rollback_conditions",
    "performed_rollback",
    "tags",
    "has_enriched_analytics",
    "creation_context",
    "is_remote_configuration",
    "has_encrypted_payloads",
    "evaluation_runtime",
    "bucketing_identifier",
)


@dataclass(frozen=True)
class FlagQuery:
    """List filters (``GET feature_flags/``)."""

    active: str | None = None
    created_by_id: str | None = None
    search: str | None = None
    type: str | None = None
    evaluation_runtime: str | None = None
    excluded_keys: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    order: str | None = None


class FlagService:
    """Use cases over a project's feature flags."""

    def __init__(self, db: MetaDB, on_change: Callable[[int], None] | None = None) -> None:
        self._db = db
        self._on_change = on_change or (lambda project_id: None)

    # -- reads -----------------------------------------------------------------------------

    def get(self, project_id: int, flag_id: str | int) -> FlagRecord:
        number = parse_id(flag_id)
        if number is None:
            raise NotFound()
        with self._db.read() as conn:
            record = flag_store.get(conn, project_id, number)
        if record is None:
            raise NotFound()
        return record

    def by_key(self, project_id: int, key: str) -> FlagRecord:
        with self._db.read() as conn:
            record = flag_store.live_by_key(conn, project_id, key)
        if record is None:
            raise NotFound()
        return record

    def live(self, project_id: int) -> list[FlagRecord]:
        with self._db.read() as conn:
            return flag_store.live(conn, project_id)

    def search(self, project_id: int, query: FlagQuery) -> list[FlagRecord]:
        flags = [f for f in self.live(project_id) if _matches(f, query)]
        return _ordered(flags, query.order)

    def cohort_names(self, project_id: int) -> dict[int, str | None]:
        with self._db.read() as conn:
            return {c.id: c.name for c in cohort_store.in_project(conn, project_id)}

    # -- writes ----------------------------------------------------------------------------

    def create(self, project_id: int, user_id: int | None, data: dict[str, Any]) -> FlagRecord:
        fields = _check_types(data, creating=True)
        with_dashboard = _wants_usage_dashboard(data)
        with self._db.write() as conn:
            key = self._validate_key(conn, project_id, fields.get("key"), None)
            filters = validate_filters(
                conn, project_id, fields.get("filters"), flag_key=key, current=None
            )
            if fields.get("is_remote_configuration"):
                filters = _rolled_out(filters if "filters" in fields else {})
            now = clock.now()
            flag_store.purge_deleted_key(conn, project_id, key)
            created = flag_store.insert(
                conn,
                {
                    "project_id": project_id,
                    "key": key,
                    "name": fields.get("name") or "",
                    "filters": filters,
                    "deleted": bool(fields.get("deleted", False)),
                    "active": bool(fields.get("active", True)),
                    "version": 1,
                    "ensure_experience_continuity": bool(fields.get("ensure_experience_continuity") or False),
                    "rollback_conditions": fields.get("rollback_conditions"),
                    "performed_rollback": fields.get("performed_rollback"),
                    "tags": list(dict.fromkeys(fields.get("tags") or [])),
                    "evaluation_runtime": fields.get("evaluation_runtime") or "all",
                    "bucketing_identifier": fields.get("bucketing_identifier"),
                    "is_remote_configuration": bool(fields.get("is_remote_configuration") or False),
                    "has_encrypted_payloads": bool(fields.get("has_encrypted_payloads") or False),
                    "has_enriched_analytics": bool(fields.get("has_enriched_analytics") or False),
                    "creation_context": fields.get("creation_context") or "feature_flags",
                    "created_by_id": user_id,
                    "last_modified_by_id": user_id,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            if with_dashboard:
                dashboard_id = usage_dashboard.create(conn, project_id, user_id, key)
                flag_store.update(conn, created.id, {"usage_dashboard_id": dashboard_id})
                created = replace(created, usage_dashboard_id=dashboard_id)
        self._on_change(project_id)
        return created

    def update(
        self, project_id: int, flag_id: str | int, user_id: int | None, data: dict[str, Any]
    ) -> FlagRecord:
        fields = _check_types(data, creating=False)
        current = self.get(project_id, flag_id)
        with self._db.write() as conn:
            locked = flag_store.get(conn, project_id, current.id, for_update=True)
            if locked is None:
                raise NotFound()
            values: dict[str, Any] = {}
            if "key" in fields:
                values["key"] = self._validate_key(conn, project_id, fields["key"], locked.id)
            if "filters" in fields:
                values["filters"] = validate_filters(
                    conn,
                    project_id,
                    fields["filters"],
                    flag_key=values.get("key", locked.key),
                    current=locked,
                )
            for name in WRITABLE:
                if name in fields and name not in ("key", "filters"):
                    values[name] = fields[name]
            if values.get("active"):
                values["performed_rollback"] = False
            if values.get("deleted") is True and not locked.deleted:
                _refuse_if_depended_on(conn, project_id, locked, "delete")
            if values.get("active") is False and locked.active:
                _refuse_if_depended_on(conn, project_id, locked, "disable")
            if values.get("active") is True and not locked.active:
                _refuse_if_depends_on_disabled(conn, project_id, values.get("filters", locked.filters))
            _check_conflict(locked, values, data.get("version"), data.get("original_flag"))
            values["version"] = (locked.version or 0) + 1
            values["last_modified_by_id"] = user_id
            values["updated_at"] = clock.now()
            flag_store.update(conn, locked.id, values)
            if locked.usage_dashboard_id is not None and values.get("key", locked.key) != locked.key:
                usage_dashboard.rename(conn, project_id, locked.usage_dashboard_id, locked.key, values["key"])
            updated = flag_store.get(conn, project_id, locked.id)
        assert updated is not None
        self._on_change(project_id)
        return updated

    def _validate_key(self, conn: Any, project_id: int, key: Any, own_id: int | None) -> str:
        if key is None:
            raise ValidationError("This field is required.", code="required", attr="key")
        if not isinstance(key, str):
            raise ValidationError("Not a valid string.", attr="key")
        if not key:
            raise ValidationError("This field may not be blank.", code="blank", attr="key")
        existing = flag_store.live_by_key(conn, project_id, key)
        if existing is not None and existing.id != own_id:
            raise ValidationError("There is already a feature flag with this key.", code="unique", attr="key")
        if not KEY_PATTERN.match(key):
            raise ValidationError(
                "Only letters, numbers, hyphens (-) & underscores (_) are allowed.",
                code="invalid_key",
                attr="key",
            )
        if len(key) > 400:
            raise ValidationError(
                "Ensure this field has no more than 400 characters.", code="max_length", attr="key"
            )
        return key


def _rolled_out(filters: dict[str, Any]) -> dict[str, Any]:
    """A remote-configuration flag is served to everyone: condition sets at no rollout get 100%."""
    groups = [
        {**group, "rollout_percentage": 100} if group.get("rollout_percentage") in (0, None) else group
        for group in filters.get("groups") or []
    ]
    return {**filters, "groups": groups or [{"properties": [], "rollout_percentage": 100, "variant": None}]}


# -- field checks ---------------------------------------------------------------------------

_BOOLEANS = (
    "deleted",
    "active",
    "ensure_experience_continuity",
    "has_enriched_analytics",
    "is_remote_configuration",
    "has_encrypted_payloads",
)


def _wants_usage_dashboard(data: dict[str, Any]) -> bool:
    """PostHog's write-only ``_should_create_usage_dashboard`` (default true)."""
    raw = data.get("_should_create_usage_dashboard", True)
    return raw is None or boolean(raw, "_should_create_usage_dashboard")


def _check_types(data: Any, *, creating: bool) -> dict[str, Any]:
    """The writable fields of ``data``, type-checked in serializer order (first error wins)."""
    if not isinstance(data, dict):
        raise ValidationError(
            "Invalid data. Expected a dictionary, but got "
            f"{type(data).__name__ if data is not None else 'NoneType'}.",
            attr="non_field_errors",
        )
    fields = {name: data[name] for name in WRITABLE if name in data}
    if "name" in fields and fields["name"] is not None and not isinstance(fields["name"], str):
        raise ValidationError("Not a valid string.", attr="name")
    if creating and "key" not in fields:
        raise ValidationError("This field is required.", code="required", attr="key")
    if "filters" in fields and not isinstance(fields["filters"], dict):
        got = "list" if isinstance(fields["filters"], list) else type(fields["filters"]).__name__
        raise ValidationError(
            f'Expected a dictionary of items but got type "{got}".', code="not_a_dict", attr="filters"
        )
    for name in _BOOLEANS:
        if name in fields and not isinstance(fields[name], bool):
            if fields[name] is None and name in ("ensure_experience_continuity", "has_enriched_analytics"):
                fields[name] = False
                continue
            raise ValidationError("Must be a valid boolean.", attr=name)
    if "tags" in fields and fields["tags"] is not None:
        if not isinstance(fields["tags"], list) or not all(isinstance(t, str) for t in fields["tags"]):
            raise ValidationError("Expected a list of items.", code="not_a_list", attr="tags")
    if "evaluation_runtime" in fields and fields["evaluation_runtime"] not in EVALUATION_RUNTIMES:
        raise ValidationError(
            f'"{fields["evaluation_runtime"]}" is not a valid choice.',
            code="invalid_choice",
            attr="evaluation_runtime",
        )
    if "creation_context" in fields and fields["creation_context"] not in CREATION_CONTEXTS:
        raise ValidationError(
            f'"{fields["creation_context"]}" is not a valid choice.',
            code="invalid_choice",
            attr="creation_context",
        )
    bucketing = fields.get("bucketing_identifier")
    if bucketing is not None and bucketing not in ("distinct_id", "device_id"):
        raise ValidationError(
            f'"{bucketing}" is not a valid choice.', code="invalid_choice", attr="bucketing_identifier"
        )
    return fields


def _dependents(conn: Any, project_id: int, flag: FlagRecord) -> list[FlagRecord]:
    """Active flags whose conditions reference ``flag`` (by id)."""
    found = []
    for other in flag_store.live(conn, project_id):
        if other.id == flag.id or not other.active:
            continue
        if flag.id in set(flag_dependency_ids(other.filters)):
            found.append(other)
    return sorted(found, key=lambda f: f.key)


def flag_dependency_ids(filters: dict[str, Any]) -> Iterable[int]:
    for group in filters.get("groups") or []:
        for prop in (group or {}).get("properties") or []:
            if isinstance(prop, dict) and prop.get("type") == "flag":
                number = parse_id(str(prop.get("key", "")))
                if number is not None:
                    yield number


def _named(flags: list[FlagRecord]) -> str:
    """PostHog's list of flags in a refusal: the first five, then how many more."""
    names = [f"{f.key} (ID: {f.id})" for f in flags[:5]]
    if len(flags) > 5:
        names.append(f"and {len(flags) - 5} more")
    return ", ".join(names)


def _refuse_if_depended_on(conn: Any, project_id: int, flag: FlagRecord, verb: str) -> None:
    dependents = _dependents(conn, project_id, flag)
    if dependents:
        raise ValidationError(
            f"Cannot {verb} this feature flag because other flags depend on it: {_named(dependents)}. "
            f"Please update or {verb} the dependent flags first."
        )


def _refuse_if_depends_on_disabled(conn: Any, project_id: int, filters: dict[str, Any]) -> None:
    disabled = []
    for dep_id in dict.fromkeys(flag_dependency_ids(filters)):
        dep = flag_store.get(conn, project_id, dep_id)
        if dep is not None and not dep.deleted and not dep.active:
            disabled.append(dep)
    if disabled:
        disabled.sort(key=lambda f: f.key)
        raise ValidationError(
            f"Cannot enable this feature flag because it depends on disabled flags: {_named(disabled)}. "
            "Please enable the dependency flags first."
        )


def _check_conflict(current: FlagRecord, values: dict[str, Any], version: Any, original: Any) -> None:
    """409 when the client edited an old version and its changes collide with newer ones."""
    if version is None or version == -1 or version == current.version:
        return
    if not isinstance(original, dict) or not original:
        return
    conflicts = [
        name
        for name, new in values.items()
        if name in original
        and new != original[name]
        and original[name] != getattr(current, name, None)
        and new != getattr(current, name, None)
    ]
    if conflicts:
        raise Conflict(
            "The feature flag was updated by another user since you started editing it. "
            "Please refresh and try again."
        )


# -- listing --------------------------------------------------------------------------------


def is_simple(flag: FlagRecord) -> bool:
    groups = flag.filters.get("groups") or []
    return (
        len(groups) == 1
        and not (groups[0] or {}).get("properties")
        and flag.filters.get("aggregation_group_type_index") is None
    )


def variants(flag: FlagRecord) -> list[dict[str, Any]]:
    return list(((flag.filters.get("multivariate") or {}).get("variants")) or [])


def status(flag: FlagRecord) -> str:
    """PostHog's flag status: DELETED, STALE (fully rolled out for 30 days and more), ACTIVE."""
    if flag.deleted:
        return "DELETED"
    if not flag.active or clock.now() - flag.created_at < STALE_AFTER:
        return "ACTIVE"
    everyone = [
        g for g in flag.filters.get("groups") or []
        if not (g or {}).get("properties") and (g or {}).get("rollout_percentage") in (100, None)
    ]
    if not everyone:
        return "ACTIVE"
    flag_variants = variants(flag)
    if not flag_variants:
        return "STALE"
    if any(v.get("rollout_percentage") == 100 for v in flag_variants) or any(g.get("variant") for g in everyone):
        return "STALE"
    return "ACTIVE"


def _matches(flag: FlagRecord, query: FlagQuery) -> bool:
    if query.active is not None:
        if query.active == "STALE":
            if not flag.active or status(flag) != "STALE":
                return False
        elif flag.active != (query.active == "true"):
            return False
    if query.created_by_id is not None and str(flag.created_by_id) != query.created_by_id:
        return False
    if query.search:
        needle = query.search.lower()
        if needle not in flag.key.lower() and needle not in (flag.name or "").lower():
            return False
    if query.type == "boolean" and variants(flag):
        return False
    if query.type == "multivariant" and not variants(flag):
        return False
    if query.type == "experiment" and flag.creation_context != "experiments":
        return False
    if query.type == "remote_config" and not flag.is_remote_configuration:
        return False
    if query.evaluation_runtime and flag.evaluation_runtime != query.evaluation_runtime:
        return False
    if flag.key in query.excluded_keys:
        return False
    if query.tags and not set(query.tags) & set(flag.tags):
        return False
    return True


_ORDERABLE = {"key", "name", "created_at", "updated_at", "id", "active", "version"}


def _ordered(flags: list[FlagRecord], order: str | None) -> list[FlagRecord]:
    field = (order or "-created_at").strip()
    descending = field.startswith("-")
    name = field.lstrip("-")
    if name not in _ORDERABLE:
        name, descending = "created_at", True
    # created_at ties (same instant) fall back to id so the order is stable
    return sorted(flags, key=lambda f: (getattr(f, name), f.id), reverse=descending)
