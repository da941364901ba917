"""Event and property definitions seen in ingestion, with PostHog's property-type detection.

The tracker keeps, per team, the event names and the property names already known, so the hot
path only does a set difference per event; new names (and event ``last_seen_at`` moving to a
new hour) become :class:`DefinitionChanges` handed to a :class:`DefinitionSink` (the metadata
store implements it; :class:`MemoryDefinitionSink` is the in-memory one).

Type detection (``property-defs-rs`` / Node ``getPropertyType``):

* names starting ``utm_``, ``$feature/``, ``$survey_response`` and ``$feature_flag_response``
  are String whatever the value;
* strings ``true``/``false`` (any case, trimmed) are Boolean; strings that look like an ISO
  date are DateTime; other strings String;
* booleans are Boolean;
* numbers are DateTime when the name hints at a time (``time``, ``timestamp``, ``date``,
  ``_at``, ``-at``, ``createdat``, ``updatedat``) and the value is a unix time after six
  months ago; otherwise Numeric;
* null, objects and arrays give no type (a later value may still type the property).

Skipped: ``$set``, ``$set_once``, ``$unset``, ``$groups``, ``$group_0..4``, and names of 200
characters or more (PostHog's column width).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol

from hedgerow.ingest.normalise import INITIAL_NAME

EVENT = 1
PERSON = 2
GROUP = 3
MAX_NAME_LENGTH = 200
SKIPPED_PROPERTIES = frozenset(
    {"$set", "$set_once", "$unset", "$groups", "$group_0", "$group_1", "$group_2", "$group_3",
     "$group_4"}
)  # fmt: skip
_DATE_NAME_HINTS = ("time", "timestamp", "date", "_at", "-at", "createdat", "updatedat")
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$", re.I
)
_SIX_MONTHS_S = 182 * 24 * 3600
_HOUR_US = 3600 * 1_000_000


def detect_property_type(name: str, value: Any) -> str | None:
    """PostHog's type for a property's first typed value (None: cannot tell yet)."""
    key = name.strip().lower()
    if (
        key.startswith("utm_")
        or key.startswith("$feature/")
        or key.startswith("$survey_response")
        or key == "$feature_flag_response"
    ):
        return "String"
    kind = type(value)
    if kind is str:
        text = value.strip()
        if text.lower() in ("true", "false"):
            return "Boolean"
        if _ISO_DATE.match(text):
            return "DateTime"
        return "String"
    if kind is bool:
        return "Boolean"
    if kind is int or kind is float:
        if any(hint in key for hint in _DATE_NAME_HINTS) and value >= time.time() - _SIX_MONTHS_S:
            return "DateTime"
        return "Numeric"
    return None


@dataclass(frozen=True, slots=True)
class EventDefinition:
    team_id: int
    name: str
    last_seen_at_us: int


@dataclass(frozen=True, slots=True)
class PropertyDefinition:
    team_id: int
    name: str
    kind: int
    """1 event, 2 person, 3 group (PostHog's ``PropertyDefinition.Type``)."""
    property_type: str | None
    group_type_index: int | None = None


@dataclass(slots=True)
class DefinitionChanges:
    events: list[EventDefinition] = field(default_factory=list)
    properties: list[PropertyDefinition] = field(default_factory=list)
    event_properties: list[tuple[int, str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.events or self.properties or self.event_properties)


class DefinitionSink(Protocol):
    """Where definition changes go (the metadata store implements this)."""

    def write(self, changes: DefinitionChanges) -> None: ...


class MemoryDefinitionSink:
    """Definitions kept in dicts (tests, and a server without a metadata store)."""

    def __init__(self) -> None:
        self.events: dict[tuple[int, str], dict[str, int]] = {}
        self.properties: dict[tuple[int, int, int | None, str], str | None] = {}
        self.event_properties: set[tuple[int, str, str]] = set()

    def write(self, changes: DefinitionChanges) -> None:
        for ev in changes.events:
            row = self.events.setdefault((ev.team_id, ev.name), {"first_seen_at_us": ev.last_seen_at_us})
            row["last_seen_at_us"] = ev.last_seen_at_us
        for prop in changes.properties:
            key = (prop.team_id, prop.kind, prop.group_type_index, prop.name)
            if self.properties.get(key) is None:
                self.properties[key] = prop.property_type
        self.event_properties.update(changes.event_properties)


class _TeamDefinitions:
    __slots__ = ("event_hour", "event_keys", "typed")

    def __init__(self) -> None:
        self.event_hour: dict[str, int] = {}
        self.event_keys: dict[str, set[str]] = {}
        self.typed: dict[tuple[int, int | None], set[str]] = {}


class DefinitionTracker:
    """Remembers what was seen; records only what is new."""

    def __init__(self) -> None:
        self._teams: dict[int, _TeamDefinitions] = {}
        self.pending = DefinitionChanges()

    def seed(self, changes: Iterable[PropertyDefinition], events: Iterable[EventDefinition]) -> None:
        """Mark definitions that already exist (from the sink's store) as known."""
        for ev in events:
            self._team(ev.team_id).event_hour[ev.name] = ev.last_seen_at_us // _HOUR_US
        for prop in changes:
            if prop.property_type is not None:
                self._team(prop.team_id).typed.setdefault(
                    (prop.kind, prop.group_type_index), set()).add(prop.name)  # fmt: skip

    def _team(self, team_id: int) -> _TeamDefinitions:
        team = self._teams.get(team_id)
        if team is None:
            team = self._teams[team_id] = _TeamDefinitions()
        return team

    def observe(self, team_id: int, event: str, properties: dict[str, Any], now_us: int) -> None:
        """Record one event's name and its event properties."""
        team = self._teams.get(team_id) or self._team(team_id)
        hour = now_us // _HOUR_US
        if team.event_hour.get(event) != hour:
            team.event_hour[event] = hour
            if len(event) < MAX_NAME_LENGTH:
                self.pending.events.append(EventDefinition(team_id, event, now_us))
        known = team.event_keys.get(event)
        if known is None:
            known = team.event_keys[event] = set()
        new = properties.keys() - known
        if new:
            self._new_keys(team_id, team, event, properties, new, known)

    def _new_keys(self, team_id: int, team: _TeamDefinitions, event: str,
                  properties: dict[str, Any], new: set[str], known: set[str]) -> None:  # fmt: skip
        typed = team.typed.setdefault((EVENT, None), set())
        for key in new:
            if key in SKIPPED_PROPERTIES or len(key) >= MAX_NAME_LENGTH:
                known.add(key)
                continue
            value = properties[key]
            if value is None:
                continue  # seen again later, maybe with a value
            self.pending.event_properties.append((team_id, event, key))
            known.add(key)
            if key not in typed:
                kind = detect_property_type(key, value)
                self.pending.properties.append(PropertyDefinition(team_id, key, EVENT, kind))
                if kind is not None or not isinstance(value, (dict, list)):
                    typed.add(key)

    def observe_person(self, team_id: int, set_: dict[str, Any] | None,
                       set_once: dict[str, Any] | None, web: set[str] | None = None,
                       properties: dict[str, Any] | None = None) -> None:  # fmt: skip
        """Record person property names from ``$set`` / ``$set_once`` and the web
        properties an event copies to its person (``web`` keys of ``properties``)."""
        typed = self._team(team_id).typed.setdefault((PERSON, None), set())
        for source in (set_, set_once):
            if source:
                new = source.keys() - typed
                for key in new:
                    self._typed_key(team_id, typed, key, source[key], PERSON, None)
        if web and properties is not None:
            new = web - typed
            for key in new:
                value = properties[key]
                self._typed_key(team_id, typed, key, value, PERSON, None)
                self._typed_key(team_id, typed, INITIAL_NAME[key], value, PERSON, None)

    def observe_group(self, team_id: int, index: int, group_set: dict[str, Any]) -> None:
        typed = self._team(team_id).typed.setdefault((GROUP, index), set())
        for key in group_set.keys() - typed:
            self._typed_key(team_id, typed, key, group_set[key], GROUP, index)

    def _typed_key(self, team_id: int, typed: set[str], key: str, value: Any, kind: int,
                   index: int | None) -> None:  # fmt: skip
        if len(key) >= MAX_NAME_LENGTH or value is None:
            return
        prop_type = detect_property_type(key, value)
        self.pending.properties.append(PropertyDefinition(team_id, key, kind, prop_type, index))
        typed.add(key)

    def drain(self) -> DefinitionChanges:
        """Take what was recorded since the last drain."""
        out, self.pending = self.pending, DefinitionChanges()
        return out
