"""Hog functions of type ``destination`` built on the HTTP webhook template: validation in
PostHog's words, storage, soft deletion, logs and metrics.

Only what the server can run is accepted: ``type: "destination"`` from ``template-webhook``
(its Hog source, which the server runs natively), inputs templated with paths
(:mod:`hedgerow.destinations.templating`), and filters that compile to HogQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Mapping

import orjson

from hedgerow import clock
from hedgerow.destinations import templating
from hedgerow.destinations.filters import trigger_condition
from hedgerow.destinations.send import url_problem
from hedgerow.destinations.template import METHODS, TEMPLATES, WEBHOOK_ID
from hedgerow.errors import NotFound, ValidationError
from hedgerow.hogql.errors import HogQLError
from hedgerow.store.meta import hog_functions as store
from hedgerow.store.meta.db import MetaDB
from hedgerow.store.meta.hog_functions import HogFunctionRecord, LogQuery
from hedgerow.store.meta.tenancy import Project

__all__ = ["HogFunctionService", "HogFunctionRecord", "LogQuery"]

TYPES = ("destination",)
MAX_NAME = 400
MAX_TEXT = 10_000
MAX_JSON_BYTES = 256 * 1024
WRITABLE = ("type", "name", "description", "enabled", "deleted", "hog", "inputs_schema", "inputs", "filters",
            "masking", "mappings", "icon_url", "template_id", "execution_order")  # fmt: skip


def _invalid(detail: str, attr: str, code: str = "invalid") -> ValidationError:
    return ValidationError(detail, code=code, attr=attr)


def _text(raw: Any, attr: str, limit: int, *, null: bool = False) -> str | None:
    if raw is None and null:
        return None
    if not isinstance(raw, str):
        raise _invalid("Not a valid string.", attr)
    if "\x00" in raw:
        raise _invalid("Null characters are not allowed.", attr, "null_characters_not_allowed")
    if len(raw) > limit:
        raise _invalid(f"Ensure this field has no more than {limit} characters.", attr, "max_length")
    return raw


def _bool(raw: Any, attr: str) -> bool:
    if isinstance(raw, bool):
        return raw
    if raw in ("true", "True", 1, "1"):
        return True
    if raw in ("false", "False", 0, "0"):
        return False
    raise _invalid("Must be a valid boolean.", attr)


def _json_size(raw: Any, attr: str) -> None:
    try:
        size = len(orjson.dumps(raw))
    except (TypeError, orjson.JSONEncodeError):
        raise _invalid("Value must be valid JSON.", attr) from None
    if size > MAX_JSON_BYTES:
        raise _invalid(f"Ensure this value is at most {MAX_JSON_BYTES} bytes of JSON.", attr, "max_length")


def _inputs(raw: Any, schema: list[dict[str, Any]], *, defaults: bool) -> dict[str, Any]:
    """``{"key": {"value": ...}}`` checked against the template's inputs schema; with
    ``defaults`` (creation), inputs not given take the schema's default, as PostHog's form does."""
    if not isinstance(raw, Mapping):
        raise _invalid("Expected a dictionary of items.", "inputs", "not_a_dict")
    _json_size(raw, "inputs")
    known = {item["key"]: item for item in schema}
    out: dict[str, Any] = {}
    for key, item in raw.items():
        if key not in known:
            continue  # PostHog keeps only the inputs its schema declares
        if not isinstance(item, Mapping):
            raise _invalid("Expected a dictionary of items.", f"inputs__{key}", "not_a_dict")
        out[key] = {"value": item.get("value")}
    if defaults:
        for key, spec in known.items():
            if key not in out and spec.get("default") is not None:
                out[key] = {"value": spec["default"]}
    for key, spec in known.items():
        value = out.get(key, {}).get("value")
        attr = f"inputs__{key}"
        if value is None:
            if spec.get("required"):
                raise _invalid("This field is required.", attr, "required")
            continue
        kind = spec.get("type")
        if kind == "string" and not isinstance(value, str):
            raise _invalid("Value must be a string.", attr)
        if kind == "choice" and value not in [c["value"] for c in spec.get("choices", [])]:
            raise _invalid(f"Value must be one of {', '.join(METHODS)}.", attr)
        if kind == "dictionary" and (not isinstance(value, Mapping)
                                     or not all(isinstance(v, str) for v in value.values())):  # fmt: skip
            raise _invalid("Value must be a dictionary of strings.", attr)
        if kind == "boolean" and not isinstance(value, bool):
            raise _invalid("Value must be a boolean.", attr)
        try:
            templating.check(value)
        except templating.TemplateError as exc:
            raise _invalid(str(exc), attr) from None
        if key == "url" and "{" not in value:
            problem = url_problem(value)
            if problem:
                raise _invalid(f"Invalid URL: {problem}", attr)
    return out


def _filters(raw: Any, test_account_filters: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise _invalid("Expected a dictionary of items.", "filters", "not_a_dict")
    _json_size(raw, "filters")
    try:
        trigger_condition(raw, test_account_filters=test_account_filters)
    except HogQLError as exc:
        raise _invalid(str(exc.detail if hasattr(exc, "detail") else exc), "filters") from None
    return dict(raw)


class HogFunctionService:
    """Use cases over a project's destinations; ``on_change`` is told when any changes."""

    def __init__(self, db: MetaDB, on_change: Callable[[], None] | None = None) -> None:
        self._db = db
        self.on_change = on_change

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def list(self, project: Project, *, types: list[str], enabled: bool | None,
             search: str | None) -> list[HogFunctionRecord]:  # fmt: skip
        with self._db.read() as conn:
            return store.search(conn, project.id, types=types, enabled=enabled, search=search)

    def get(self, project: Project, function_id: str, *, deleted_too: bool = False) -> HogFunctionRecord:
        try:
            uuid.UUID(function_id)
        except ValueError:
            raise NotFound() from None
        with self._db.read() as conn:
            found = store.get(conn, project.id, function_id, deleted_too=deleted_too)
        if found is None:
            raise NotFound()
        return found

    def create(self, project: Project, user_id: int | None, given: Mapping[str, Any]) -> HogFunctionRecord:
        fields = self._clean(project, given, None)
        template = TEMPLATES[fields["template_id"]]
        now = clock.now()
        record = HogFunctionRecord(
            id=str(uuid.uuid4()), project_id=project.id, type=fields["type"],
            name=fields.get("name") or template["name"],
            description=fields.get("description") or template["description"],
            enabled=fields.get("enabled", False), deleted=fields.get("deleted", False),
            hog=template["code"], inputs_schema=template["inputs_schema"], inputs=fields.get("inputs", {}),
            filters=fields.get("filters", {}), masking=fields.get("masking"), mappings=None,
            icon_url=fields.get("icon_url") or template["icon_url"], template_id=fields["template_id"],
            execution_order=fields.get("execution_order"), created_by_id=user_id, created_at=now, updated_at=now,
        )  # fmt: skip
        with self._db.write() as conn:
            store.insert(conn, record)
        self._changed()
        return record

    def update(self, project: Project, function_id: str, given: Mapping[str, Any]) -> HogFunctionRecord:
        undeleting = given.get("deleted") is False
        found = self.get(project, function_id, deleted_too=undeleting)
        fields = self._clean(project, given, found)
        fields.pop("template_id", None)
        changed = replace(found, **fields, updated_at=clock.now())
        with self._db.write() as conn:
            store.save(conn, changed)
            if changed.deleted or not changed.enabled:
                store.drop_owed(conn, changed.id)
        self._changed()
        return changed

    def _clean(self, project: Project, given: Mapping[str, Any], instance: HogFunctionRecord | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        kind = given.get("type", instance.type if instance else None)
        if kind is None:
            raise _invalid("This field is required.", "type", "required")
        if kind not in TYPES:
            raise _invalid(f'"{str(kind)[:100]}" is not a supported type: only "destination" functions run here.',
                           "type", "invalid_choice")  # fmt: skip
        if instance is not None and kind != instance.type:
            raise _invalid("Cannot modify the type of an existing function", "type")
        out["type"] = kind
        template_id = instance.template_id if instance else given.get("template_id")
        if template_id is None:
            raise _invalid(f"A destination must be created from a template: use '{WEBHOOK_ID}'.", "template_id",
                           "required")  # fmt: skip
        if not isinstance(template_id, str) or template_id not in TEMPLATES:
            raise _invalid(f"No template found for id '{str(template_id)[:100]}'", "template_id")
        out["template_id"] = template_id
        template = TEMPLATES[template_id]
        if "hog" in given and given["hog"] not in (None, "", template["code"]):
            raise _invalid("Custom Hog code is not supported: the template's code runs as it is.", "hog")
        for name, limit in (("name", MAX_NAME), ("description", MAX_TEXT), ("icon_url", 2048)):
            if name in given:
                value = _text(given[name], name, limit, null=name != "description")
                out[name] = value if value is not None or name != "description" else ""
        for name in ("enabled", "deleted"):
            if name in given:
                out[name] = _bool(given[name], name)
        if "execution_order" in given and given["execution_order"] is not None:
            order = given["execution_order"]
            if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order < 2**15:
                raise _invalid("A valid integer is required.", "execution_order")
            out["execution_order"] = order
        if given.get("mappings"):
            raise _invalid("Mappings are not supported here: set the inputs and filters of the destination.",
                           "mappings")  # fmt: skip
        if "masking" in given and given["masking"] is not None:
            raise _invalid("Masking is not supported here.", "masking")
        if "inputs" in given or instance is None:
            out["inputs"] = _inputs(given.get("inputs") or {}, template["inputs_schema"], defaults=instance is None)
        if "filters" in given:
            out["filters"] = _filters(given["filters"], project.settings.get("test_account_filters"))
        return out

    # -- logs and metrics --------------------------------------------------------------------

    def logs(self, project: Project, function_id: str, query: LogQuery) -> list[tuple[str, datetime, str, str]]:
        found = self.get(project, function_id)
        with self._db.read() as conn:
            return store.logs(conn, found.id, query)

    def metrics(
        self, project: Project, function_id: str, *, breakdown: str, after: datetime | None,
        before: datetime | None, names: list[str], kinds: list[str],
    ) -> list[tuple[datetime, str, int]]:
        found = self.get(project, function_id)
        with self._db.read() as conn:
            return store.metrics(conn, found.id, breakdown=breakdown, after=after, before=before, names=names,
                                 kinds=kinds)  # fmt: skip


def relative_date(raw: str, now: datetime, attr: str) -> datetime:
    """``-7d``/``-24h``/``-30m``/``-2w`` before ``now``, or an ISO 8601 time."""
    text = raw.strip()
    units = {"h": "hours", "d": "days", "w": "weeks", "m": "minutes"}
    if text.startswith("-") and text[-1:] in units and text[1:-1].isdigit() and len(text) <= 12:
        try:
            return now - timedelta(**{units[text[-1]]: int(text[1:-1])})
        except OverflowError:
            raise _invalid("Invalid date: it is out of range.", attr) from None
    if len(text) <= 64:
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return clock.as_utc(value) if value.tzinfo else value.replace(tzinfo=now.tzinfo)
    raise _invalid("Invalid date: use an ISO 8601 time or a relative one such as -7d.", attr)
