"""Who is in a cohort: static lists (person ids, CSV uploads) and calculated memberships.

Members are stored in the events store (``static_cohort_people`` / ``cohort_people``) so
HogQL can join them; flag evaluation reads static memberships from a per-project cache.
"""

from __future__ import annotations

import csv
import io
import threading
import uuid as uuidlib
from typing import Any

from hedgerow.errors import ValidationError
from hedgerow.store.events.protocol import PersonFilter

PERSON_ID_HEADERS = ("person_id", "person-id", "person .id")
DISTINCT_ID_HEADERS = ("distinct_id", "distinct-id")
EMAIL_HEADERS = ("email", "e-mail")


def _csv_error(message: str) -> ValidationError:
    return ValidationError(message, attr="csv")


def read_csv_ids(raw: bytes) -> tuple[str, list[str]]:
    """(id kind, ids) from an uploaded CSV, with PostHog's rules for which column counts."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _csv_error("CSV file encoding is not supported. Please save your file as UTF-8 and try again.") from None
    try:
        rows = [row for row in csv.reader(io.StringIO(text))]
    except csv.Error:
        raise _csv_error("CSV file format is invalid. Please check your file format and try again.") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise _csv_error("CSV file is empty. Please upload a CSV file with at least one row of data.")
    header = [cell.strip().lower() for cell in rows[0]]
    filled = [cell for cell in header if cell]
    if len(filled) <= 1:
        first = header[0] if header else ""
        if first in PERSON_ID_HEADERS:
            kind, body = "person_id", rows[1:]
        elif first in EMAIL_HEADERS:
            kind, body = "email", rows[1:]
        else:
            kind, body = "distinct_id", rows
        ids = [row[0].strip() for row in body if row and row[0].strip()]
    else:
        column = None
        for kind, names in (("person_id", PERSON_ID_HEADERS), ("distinct_id", DISTINCT_ID_HEADERS),
                            ("email", EMAIL_HEADERS)):  # fmt: skip
            column = next((i for i, name in enumerate(header) if name in names), None)
            if column is not None:
                break
        if column is None:
            raise _csv_error(
                "Multi-column CSV must contain at least one column with a supported ID header: 'person_id', "
                "'Person .id' (PostHog export format), 'distinct_id', 'distinct-id', or 'email'. "
                f"Found columns: {', '.join(c for c in rows[0] if c.strip()) or 'none'}"
            )
        ids = [row[column].strip() for row in rows[1:] if len(row) > column and row[column].strip()]
    if not ids:
        raise _csv_error(
            "CSV file contains no valid person IDs, distinct IDs, or email addresses. Please ensure your file "
            "has data rows with person IDs, distinct IDs, or email addresses."
        )
    return kind, ids


class CohortMembership:
    """Static and calculated cohort members of the server's events store."""

    def __init__(self, store: Any, ingestor: Any, on_change: Any) -> None:
        self._store = store
        self._ingestor = ingestor
        self._on_change = on_change
        self._static: dict[int, dict[str, set[int]]] = {}
        self._lock = threading.Lock()

    # -- resolving people ----------------------------------------------------------------

    def person_uuids(self, project_id: int, kind: str, ids: list[str]) -> list[str]:
        """The persons that ``ids`` (person uuids, distinct ids or emails) name; unknown ids drop."""
        if self._ingestor.shared is not None:
            return self._person_uuids_in_store(project_id, kind, ids)
        team = self._ingestor.index.team(project_id)
        found: list[str] = []
        for value in ids:
            if kind == "person_id":
                try:
                    canonical = str(uuidlib.UUID(value))
                except ValueError:
                    continue
                if canonical in team.by_uuid:
                    found.append(canonical)
            elif kind == "distinct_id":
                person = team.by_distinct_id.get(value)
                if person is not None:
                    found.append(person.uuid)
            else:
                people, _ = self._store.list_persons(project_id, PersonFilter(email=value, limit=1000))
                found.extend(p["uuid"] for p in people)
        return list(dict.fromkeys(found))

    def _person_uuids_in_store(self, project_id: int, kind: str, ids: list[str]) -> list[str]:
        """Scale-out mode: no process holds the persons in memory, the store (caught up with
        the shared persons) is asked instead."""
        found: list[str] = []
        for value in ids:
            if kind == "person_id":
                try:
                    person = self._store.get_person(project_id, uuid=str(uuidlib.UUID(value)))
                except ValueError:
                    continue
                people = [person] if person is not None else []
            else:
                field = "distinct_id" if kind == "distinct_id" else "email"
                people, _ = self._store.list_persons(project_id, PersonFilter(**{field: value}, limit=1000))
            found.extend(p["uuid"] for p in people)
        return list(dict.fromkeys(found))

    # -- static cohorts -----------------------------------------------------------------

    def add_static(self, project_id: int, cohort_id: int, person_uuids: list[str]) -> int:
        self._store.add_static_members(project_id, cohort_id, person_uuids)
        self.changed(project_id)
        return len(self._store.cohort_members(project_id, cohort_id, static=True))

    def remove_static(self, project_id: int, cohort_id: int, person_uuid: str) -> int:
        self._store.remove_static_member(project_id, cohort_id, person_uuid)
        self.changed(project_id)
        return len(self._store.cohort_members(project_id, cohort_id, static=True))

    def members(self, project_id: int, cohort_id: int, static: bool) -> list[str]:
        return self._store.cohort_members(project_id, cohort_id, static=static)

    def replace_calculated(self, project_id: int, cohort_id: int, person_uuids: list[str], version: int) -> None:
        self._store.replace_cohort_members(project_id, cohort_id, person_uuids, static=False, version=version)
        self.changed(project_id)

    # -- for flag evaluation --------------------------------------------------------------

    def static_ids_for(self, project_id: int, person_uuid: str) -> frozenset[int]:
        memberships = self._static.get(project_id)
        if memberships is None:
            memberships = self._static[project_id] = self._store.static_memberships(project_id)
        return frozenset(memberships.get(person_uuid, ()))

    def changed(self, project_id: int) -> None:
        with self._lock:
            self._static.pop(project_id, None)
        self._on_change(project_id)
