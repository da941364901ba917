"""Actions: validation in DRF's words (PostHog's serializer), storage, soft deletion, and the
definitions the HogQL compiler matches events with."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from types import MappingProxyType
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping

from hedgerow import clock
from hedgerow.errors import NotFound, ValidationError
from hedgerow.hogql.actions import ActionDefinition
from hedgerow.services.annotations import parse_datetime
from hedgerow.services.fields import boolean_field, char_field
from hedgerow.store.meta import actions as store
from hedgerow.store.meta.actions import ActionRecord
from hedgerow.store.meta.db import MetaDB
from hedgerow.store.meta.tenancy import Project

__all__ = ["ActionRecord", "ActionService", "ActionSnapshot", "STEP_FIELDS"]

MATCHING = ("contains", "regex", "exact")
STEP_FIELDS = ("event", "properties", "selector", "tag_name", "text", "text_matching", "href",
               "href_matching", "url", "url_matching")  # fmt: skip
"""A stored step's keys (PostHog's ``ActionStepJSON``); ``selector_regex`` is derived."""
MAX_STEPS = 100
MAX_TAGS = 100
MAX_SELECTOR = 1000
"""A selector is parsed with backtracking patterns (PostHog's): bounded, so it stays cheap."""
MAX_STEP_TEXT = 65_535
MAX_SNAPSHOTS = 1024
"""Projects whose actions are kept in memory (the least recently read are dropped first)."""
_UNTRIMMED = frozenset({"event", "tag_name", "text", "href"})  # trim_whitespace=False in PostHog


def _choice(value: Any, attr: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in MATCHING:
        shown = value if isinstance(value, str) and len(value) <= 100 else "value"
        raise ValidationError(f'"{shown}" is not a valid choice.', code="invalid_choice", attr=attr)
    return value


def _properties(value: Any) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise ValidationError(f'Expected a list of items but got type "{type(value).__name__}".',
                              code="not_a_list", attr="steps")  # fmt: skip
    for item in value:
        if not isinstance(item, dict):
            raise ValidationError(f'Expected a dictionary of items but got type "{type(item).__name__}".',
                                  code="not_a_dict", attr="steps")  # fmt: skip
    return value


def _step(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValidationError("Invalid data. Expected a dictionary, but got %s." % type(raw).__name__,
                              code="invalid", attr="steps")  # fmt: skip
    step: dict[str, Any] = {name: None for name in STEP_FIELDS}
    step["url_matching"] = "contains"
    for name in ("event", "selector", "tag_name", "text", "href", "url"):
        if name in raw:
            limit = MAX_SELECTOR if name == "selector" else MAX_STEP_TEXT
            step[name] = char_field(raw[name], "steps", max_length=limit, allow_null=True, trim=name not in _UNTRIMMED)
    for name in ("text_matching", "href_matching", "url_matching"):
        if name in raw:
            step[name] = _choice(raw[name], "steps")
    if "properties" in raw:
        step["properties"] = _properties(raw["properties"])
    for name in ("text", "href", "url"):
        if step[name] is not None and step[f"{name}_matching"] == "regex":
            try:
                re.compile(step[name])
            except (re.error, RecursionError, OverflowError):
                raise ValidationError(f"Invalid regular expression for {name}.", code="invalid", attr="steps")
    return step


def _steps(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ValidationError(f'Expected a list of items but got type "{type(value).__name__}".',
                              code="not_a_list", attr="steps")  # fmt: skip
    if len(value) > MAX_STEPS:
        raise ValidationError(f"Ensure this field has no more than {MAX_STEPS} elements.", code="max_length", attr="steps")
    return [_step(raw) for raw in value]


def _tags(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise ValidationError(f'Expected a list of items but got type "{type(value).__name__}".',
                              code="not_a_list", attr="tags")  # fmt: skip
    if len(value) > MAX_TAGS:
        raise ValidationError(f"Ensure this field has no more than {MAX_TAGS} elements.", code="max_length", attr="tags")
    tags = {char_field(tag, "tags", max_length=255).lower() for tag in value}  # type: ignore[union-attr]
    return sorted(tags)


def _clean(given: Mapping[str, Any]) -> dict[str, Any]:
    """The writable fields given, checked in the serializer's field order."""
    out: dict[str, Any] = {}
    if "name" in given:
        out["name"] = char_field(given["name"], "name", max_length=400, allow_null=True)
    if "description" in given:
        out["description"] = char_field(given["description"], "description", allow_blank=True)
    if "tags" in given:
        out["tags"] = _tags(given["tags"])
    if "post_to_slack" in given:
        out["post_to_slack"] = boolean_field(given["post_to_slack"], "post_to_slack")
    if "slack_message_format" in given:
        out["slack_message_format"] = char_field(given["slack_message_format"], "slack_message_format",
                                                 max_length=1200, allow_blank=True)  # fmt: skip
    if "steps" in given:
        out["steps"] = _steps(given["steps"])
    if "deleted" in given:
        out["deleted"] = boolean_field(given["deleted"], "deleted")
    if "pinned_at" in given:
        raw = given["pinned_at"]
        out["pinned_at"] = None if raw in (None, "") else parse_datetime(raw, "pinned_at")
    return out


def definition(action: ActionRecord) -> ActionDefinition:
    """What the compiler matches events with."""
    assert action.id is not None
    return ActionDefinition(id=action.id, name=action.name, steps=tuple(action.steps))


@dataclass(frozen=True)
class ActionSnapshot:
    """A project's actions as read at one version (deleted ones too, as ``matchesAction`` sees
    them): what the compiler, the query cache key, the audit and delivery read."""

    version: store.Version
    definitions: Mapping[int, ActionDefinition]
    """By id."""
    state: tuple[tuple[Any, ...], ...]
    """``(id, name, steps)`` by id: what a query's results depend on (its cache key)."""

    @classmethod
    def of(cls, version: store.Version, rows: list[ActionRecord]) -> "ActionSnapshot":
        found = {row.id: definition(row) for row in rows if row.id is not None}
        state = tuple((a.id, a.name, list(a.steps)) for _, a in sorted(found.items()))
        return cls(version, MappingProxyType(found), state)


class ActionService:
    """Use cases over a project's actions, and a cached snapshot of each project's actions
    for the hot paths (:meth:`snapshot`)."""

    def __init__(self, db: MetaDB) -> None:
        self._db = db
        self.on_change: Callable[[], None] | None = None
        """Called after an action is created or changed (its legacy webhook may start or stop)."""
        self._snapshots: OrderedDict[int, ActionSnapshot] = OrderedDict()
        self._lock = threading.Lock()

    def _changed(self, project_id: int) -> None:
        with self._lock:
            self._snapshots.pop(project_id, None)
        if self.on_change is not None:
            self.on_change()

    def snapshot(self, project_id: int) -> ActionSnapshot:
        """The project's actions, read again only when their version changed: one aggregate
        query per call, so a change made by another process on the same database is seen by
        the next call (the version is read before the rows, so a snapshot is never older
        than its version)."""
        with self._db.read() as conn:
            version = store.version(conn, project_id)
            with self._lock:
                cached = self._snapshots.get(project_id)
                if cached is not None and cached.version == version:
                    self._snapshots.move_to_end(project_id)
                    return cached
            rows = store.search(conn, project_id, include_deleted=True)
        snapshot = ActionSnapshot.of(version, rows)
        with self._lock:
            self._snapshots[project_id] = snapshot
            self._snapshots.move_to_end(project_id)
            while len(self._snapshots) > MAX_SNAPSHOTS:
                self._snapshots.popitem(last=False)
        return snapshot

    def name(self, project_id: int, action_id: int) -> str | None:
        """An action's name (a deleted one's too), from the snapshot; NotFound when it is not
        one of the project's."""
        found = self.snapshot(project_id).definitions.get(action_id)
        if found is None:
            raise NotFound()
        return found.name

    def search(self, project: Project, search: str | None = None) -> list[ActionRecord]:
        with self._db.read() as conn:
            return store.search(conn, project.id, search=search)

    def get(self, project: Project, action_id: int) -> ActionRecord:
        with self._db.read() as conn:
            found = store.get(conn, project.id, action_id)
        if found is None:
            raise NotFound()
        return found

    def definitions(self, project_id: int) -> Mapping[int, ActionDefinition]:
        """Every action of the project (deleted ones too, as PostHog's ``matchesAction``), by id."""
        return self.snapshot(project_id).definitions

    def create(self, project: Project, user_id: int | None, given: Mapping[str, Any]) -> ActionRecord:
        fields = _clean(given)
        now = clock.now()
        pinned = now if fields.get("pinned_at") else None
        action = ActionRecord(
            id=None, project_id=project.id, name=fields.get("name"), description=fields.get("description", ""),
            tags=fields.get("tags", []), post_to_slack=fields.get("post_to_slack", False),
            slack_message_format=fields.get("slack_message_format", ""), steps=fields.get("steps", []),
            created_by_id=user_id, created_at=now, updated_at=now, last_calculated_at=now,
            pinned_at=pinned, deleted=fields.get("deleted", False),
        )  # fmt: skip
        with self._db.write() as conn:
            self._unique_name(conn, project.id, action.name, None)
            created = store.insert(conn, replace(action, updated_at=store.stamp(conn, project.id, now)))
        self._changed(project.id)
        return created

    def update(self, project: Project, action_id: int, given: Mapping[str, Any]) -> ActionRecord:
        fields = _clean(given)
        with self._db.write() as conn:
            found = store.get(conn, project.id, action_id)
            if found is None:
                raise NotFound()
            if "pinned_at" in fields:  # any value pins (the server stamps the time), null unpins
                fields["pinned_at"] = (found.pinned_at or clock.now()) if fields["pinned_at"] else None
            if "name" in fields:
                self._unique_name(conn, project.id, fields["name"], action_id)
            changed = replace(found, **fields, updated_at=store.stamp(conn, project.id, clock.now()))
            store.save(conn, changed)
        self._changed(project.id)
        return changed

    @staticmethod
    def _unique_name(conn: Any, project_id: int, name: str | None, action_id: int | None) -> None:
        if name is None:
            return
        colliding = store.named(conn, project_id, name, other_than=action_id)
        if colliding is not None:
            raise ValidationError(f"This project already has an action with this name, ID {colliding}",
                                  code="unique", attr="name")  # fmt: skip
