"""Persons use cases for the Persons API (REST and MCP): list, retrieve, update, delete.

Reads come from the events store (in scale-out mode, one that first catches up with the
persons shared in PostgreSQL, :mod:`hedgerow.ingest.person_replica`). Writes go through ingestion, as in PostHog: an update is a
``$set`` event for the person's first distinct id, a property deletion a
``$delete_person_property`` event with ``$unset``; a delete removes the person and its
distinct ids (and, when asked, its events) through the single writer. So the in-memory
identity state and the store never disagree. Changes are visible once the call returns
(PostHog answers 202 and applies them asynchronously).
"""

from __future__ import annotations

import re
import uuid as uuidlib
from typing import Any

from hedgerow.errors import NotFound, ValidationError
from hedgerow.ids import is_digits, parse_id
from hedgerow.ingest.pipeline import Ingestor
from hedgerow.store.events.person_filters import UnsupportedFilter
from hedgerow.store.events.protocol import EventStore, PersonFilter

__all__ = ["PersonFilter", "PersonsService"]

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


class PersonsService:
    def __init__(self, ingestor: Ingestor, store: EventStore | None = None) -> None:
        """``store`` is what persons are read from (the ingestor's, unless given: in
        scale-out mode, one that first catches up with the shared persons)."""
        self.ingestor = ingestor
        self.store = store if store is not None else ingestor.store

    def list(self, team_id: int, filters: PersonFilter) -> tuple[list[dict[str, Any]], int]:
        """A page of persons, newest first, and the total matching; 400 for an operator the
        store cannot filter on."""
        try:
            return self.store.list_persons(team_id, filters)
        except UnsupportedFilter as error:
            raise ValidationError(f"Unsupported property operator: {error}", attr="properties") from None

    def retrieve(self, team_id: int, person_id: str | int) -> dict[str, Any]:
        """By integer pk or uuid; 400 for anything else, 404 when absent."""
        text = str(person_id)
        if is_digits(text):
            number = parse_id(text)
            found = self.store.get_person(team_id, int_id=number) if number is not None else None
        elif _UUID.match(text):
            found = self.store.get_person(team_id, uuid=str(uuidlib.UUID(text)))
        else:
            raise ValidationError(
                "The ID provided does not look like a personID. If you are using a distinctId, "
                f"please use /persons?distinct_id={text} instead."
            )
        if found is None:
            raise NotFound()
        return found

    async def update_properties(self, team_id: int, person_id: str | int,
                                properties: dict[str, Any]) -> None:  # fmt: skip
        """Merge ``properties`` into the person's (PostHog: a ``$set`` event)."""
        person = self.retrieve(team_id, person_id)
        await self._person_event(team_id, person, "$set", {"$set": properties})

    async def delete_property(self, team_id: int, person_id: str | int, key: str) -> None:
        """Remove one property (PostHog: a ``$delete_person_property`` event)."""
        person = self.retrieve(team_id, person_id)
        await self._person_event(team_id, person, "$delete_person_property", {"$unset": [key]})

    async def delete(self, team_id: int, person_id: str | int, *, delete_events: bool = False) -> None:
        """Delete the person and its distinct ids; with ``delete_events``, its events too."""
        person = self.retrieve(team_id, person_id)
        await self.ingestor.delete_person(team_id, person["uuid"], delete_events=delete_events)

    async def _person_event(self, team_id: int, person: dict[str, Any], name: str,
                            fields: dict[str, Any]) -> None:  # fmt: skip
        if not person["distinct_ids"]:
            raise NotFound()
        event = {"event": name, "distinct_id": person["distinct_ids"][0], "properties": {}, **fields}
        await self.ingestor.capture_internal(team_id, [event])
