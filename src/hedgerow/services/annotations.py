"""Annotations: validation in DRF's words (PostHog's serializer), storage, soft deletion."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from hedgerow import clock
from hedgerow.errors import NotFound, ValidationError
from hedgerow.ids import parse_id
from hedgerow.store.meta import annotations as store
from hedgerow.store.meta.annotations import AnnotationQuery, AnnotationRecord
from hedgerow.store.meta.db import MetaDB
from hedgerow.store.meta.tenancy import Project

__all__ = ["AnnotationQuery", "AnnotationRecord", "AnnotationService", "parse_datetime"]

SCOPES = ("dashboard_item", "dashboard", "project", "organization", "recording")
CREATION_TYPES = ("USR", "GIT")
MAX_CONTENT = 400
WRITABLE = ("content", "date_marker", "creation_type", "dashboard_item", "dashboard_id", "deleted", "scope")


def parse_datetime(raw: Any, attr: str) -> datetime:
    """An ISO 8601 datetime (naive means UTC), else DRF's 400."""
    if isinstance(raw, str) and len(raw) <= 64:
        try:
            value = datetime.fromisoformat(raw.strip())
        except ValueError:
            pass
        else:
            return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    raise ValidationError(
        "Datetime has wrong format. Use one of these formats instead: "
        "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
        code="invalid", attr=attr,
    )  # fmt: skip


def _optional_int(raw: Any, attr: str) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise ValidationError("Incorrect type. Expected pk value, received %s." % type(raw).__name__,
                              code="incorrect_type", attr=attr)  # fmt: skip
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError("Incorrect type. Expected pk value, received str.", code="incorrect_type", attr=attr)
    if not 0 < value < 2**63:
        raise ValidationError(f'Invalid pk "{value}" - object does not exist.', code="does_not_exist", attr=attr)
    return value


def _choice(raw: Any, choices: tuple[str, ...], attr: str) -> str:
    if not isinstance(raw, str) or raw not in choices:
        shown = raw if isinstance(raw, str) and len(raw) <= 100 else "value"
        raise ValidationError(f'"{shown}" is not a valid choice.', code="invalid_choice", attr=attr)
    return raw


def _content(raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
        raise ValidationError("Not a valid string.", code="invalid", attr="content")
    text = str(raw)
    if "\x00" in text:
        raise ValidationError("Null characters are not allowed.", code="null_characters_not_allowed", attr="content")
    if len(text) > MAX_CONTENT:
        raise ValidationError(f"Ensure this field has no more than {MAX_CONTENT} characters.",
                              code="max_length", attr="content")  # fmt: skip
    return text


def _clean(given: dict[str, Any]) -> dict[str, Any]:
    """The writable fields given, checked in the serializer's field order."""
    out: dict[str, Any] = {}
    if "content" in given:
        out["content"] = _content(given["content"])
    if "date_marker" in given:
        raw = given["date_marker"]
        out["date_marker"] = None if raw is None else parse_datetime(raw, "date_marker")
    if "creation_type" in given:
        out["creation_type"] = _choice(given["creation_type"], CREATION_TYPES, "creation_type")
    for name in ("dashboard_item", "dashboard_id"):
        if name in given:
            out[name] = _optional_int(given[name], name)
    if "deleted" in given:
        if not isinstance(given["deleted"], bool):
            raise ValidationError("Must be a valid boolean.", code="invalid", attr="deleted")
        out["deleted"] = given["deleted"]
    if "scope" in given:
        out["scope"] = _choice(given["scope"], SCOPES, "scope")
        if out["scope"] == "recording":
            raise ValidationError("Recording scope is deprecated")
    return out


class AnnotationService:
    """Use cases over a project's annotations (and its organization's)."""

    def __init__(self, db: MetaDB) -> None:
        self._db = db

    def search(self, project: Project, query: AnnotationQuery) -> list[AnnotationRecord]:
        with self._db.read() as conn:
            return store.search(conn, project.organization_id, project.id, query)

    def get(self, project: Project, annotation_id: int) -> AnnotationRecord:
        if parse_id(annotation_id) is None:  # beyond 64 bits: names no annotation
            raise NotFound()
        with self._db.read() as conn:
            found = store.get(conn, project.organization_id, project.id, annotation_id)
        if found is None:
            raise NotFound()
        return found

    def create(self, project: Project, user_id: int | None, given: dict[str, Any]) -> AnnotationRecord:
        fields = _clean(given)
        now = clock.now()
        annotation = AnnotationRecord(
            id=None, organization_id=project.organization_id, project_id=project.id,
            content=fields.get("content"), date_marker=fields.get("date_marker"),
            creation_type=fields.get("creation_type", "USR"), scope=fields.get("scope", "dashboard_item"),
            dashboard_item=fields.get("dashboard_item"), dashboard_id=fields.get("dashboard_id"),
            created_by_id=user_id, created_at=now, updated_at=now, deleted=fields.get("deleted", False),
        )  # fmt: skip
        with self._db.write() as conn:
            return store.insert(conn, annotation)

    def update(self, project: Project, annotation_id: int, given: dict[str, Any]) -> AnnotationRecord:
        fields = _clean(given)
        if parse_id(annotation_id) is None:
            raise NotFound()
        with self._db.write() as conn:
            found = store.get(conn, project.organization_id, project.id, annotation_id)
            if found is None:
                raise NotFound()
            changed = replace(found, **fields, updated_at=clock.now())
            store.save(conn, changed)
        return changed
