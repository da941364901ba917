"""Stage 4: person identity, person properties, groups (PostHog's Node ingestion rules).

The whole identity state lives in memory (:class:`PersonIndex`): distinct id -> person, person
state, groups and group-type slots, per team. The hot path never queries the store; every
change is recorded in a :class:`Changes` log that the writer commits in the same transaction
as the events it belongs to. On start the index is loaded from the store, which is the truth.

Identity rules (``person-merge-service.ts``):

* a new distinct id on a person-processing event gets a new person, whose uuid is derived
  from (team, distinct id) like PostHog's ``uuidFromDistinctId``; personless events use the
  same derived id, so their events already point at the person created later for that id;
* ``$identify`` (other id ``$anon_distinct_id``), ``$create_alias`` and
  ``$merge_dangerously`` (other id ``alias``) merge the two ids' persons into the event's
  distinct id's person, unless either id is illegal, or the other person is already
  identified and the event is not ``$merge_dangerously`` (warning
  ``cannot_merge_already_identified``);
* in a merge the target's properties win, the event's ``$set``/``$set_once`` apply on top,
  the older ``created_at`` is kept, the target becomes identified, and every distinct id of
  the other person moves to the target.

Events keep the person id they were written with. Whenever a distinct id is owned by a person
whose uuid is not the one derived from that id (it moved in a merge, or was attached to an
existing person), an override row ``(team, distinct_id) -> person`` is written, so queries
read ``coalesce(override.person_id, events.person_id)``.
"""

from __future__ import annotations

import hashlib
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any, Iterable

import orjson

from hedgerow.ingest.normalise import (
    FILTERED_PERSON_UPDATE_PROPERTIES,
    FORCE_PERSON_UPDATE_EVENTS,
    INITIAL_NAME,
    NormalEvent,
)
from hedgerow.store.events.schema import GROUP_SLOTS

PERSON_NAMESPACE = uuidlib.UUID("932979b4-65c3-4424-8467-0b66ec27bc22")
_NAMESPACE_BYTES = PERSON_NAMESPACE.bytes

_MISSING = object()
_NO_KEYS: frozenset[str] = frozenset()
_SEEN_SETS: dict[frozenset[str], frozenset[str]] = {}
_MAX_SEEN_SETS = 10_000
_ILLEGAL_IDS_CI = frozenset(
    {"anonymous", "guest", "distinctid", "distinct_id", "id", "not_authenticated", "email",
     "undefined", "true", "false"}
)  # fmt: skip
_ILLEGAL_IDS_CS = frozenset({"[object Object]", "NaN", "None", "none", "null", "0", "undefined"})
_MERGE_EVENTS = {"$identify": "$anon_distinct_id", "$create_alias": "alias",
                 "$merge_dangerously": "alias"}  # fmt: skip


def is_illegal_distinct_id(distinct_id: str) -> bool:
    """PostHog refuses to merge on these ids (they are what broken clients send)."""
    if distinct_id in _ILLEGAL_IDS_CS:
        return True
    lowered = distinct_id.lower()
    if lowered[:1] in ("'", '"') and lowered[-1:] == lowered[:1]:
        lowered = lowered[1:-1]
    return lowered in _ILLEGAL_IDS_CI


def merge_other_id(ev: NormalEvent) -> str | None:
    """The other distinct id a merge event names (``$anon_distinct_id`` or ``alias``), as
    text of at most 200 characters; None for another event or when it names none."""
    other_key = _MERGE_EVENTS.get(ev.event)
    if other_key is None:
        return None
    other = ev.properties.get(other_key)
    if other is None or other == "":
        return None
    if type(other) is not str:
        other = orjson.dumps(other).decode()
    return other[:200]


def group_key_text(key: Any) -> str:
    """A group key as stored: a string as is, anything else as its JSON."""
    return key if type(key) is str else orjson.dumps(key).decode()


def groupidentify_target(ev: NormalEvent) -> tuple[str, str] | None:
    """The ``(group type, key)`` a ``$groupidentify`` event names, or None when it names none."""
    if ev.event != "$groupidentify":
        return None
    group_type = ev.properties.get("$group_type")
    key = ev.properties.get("$group_key")
    if not isinstance(group_type, str) or key is None or key == "":
        return None
    return group_type, group_key_text(key)


def derived_person_uuid(team_id: int, distinct_id: str) -> str:
    """The person uuid derived from a team and a distinct id (a uuid5, like PostHog's
    ``uuidFromDistinctId``), built without ``uuid.UUID`` objects because it is on the hot path."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + f"{team_id}:{distinct_id}".encode(
        "utf-8", "surrogatepass")).digest()[:16])  # fmt: skip
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class Person:
    """A person's current state; properties are parsed from JSON only when first needed."""

    __slots__ = ("team_id", "uuid", "int_id", "created_at_us", "_props", "_json",
                 "is_identified", "version", "distinct_ids", "web_seen")  # fmt: skip

    def __init__(
        self,
        team_id: int,
        uuid: str,
        int_id: int,
        created_at_us: int,
        properties: dict[str, Any] | None = None,
        properties_json: str | None = None,
        is_identified: bool = False,
        version: int = 0,
    ) -> None:
        self.team_id = team_id
        self.uuid = uuid
        self.int_id = int_id
        self.created_at_us = created_at_us
        self._props = properties
        self._json = properties_json if properties is None else None
        if properties is None and properties_json is None:
            self._props = {}
        self.is_identified = is_identified
        self.version = version
        # A tuple and a shared frozenset rather than a list and a set: the cyclic GC walks
        # every container that can hold references, and persons are most of the heap.
        self.distinct_ids: tuple[str, ...] = ()
        self.web_seen: frozenset[str] = _NO_KEYS
        """Web property keys whose ``$initial_`` twin is known to be set (a cache)."""

    @property
    def properties(self) -> dict[str, Any]:
        if self._props is None:
            self._props = orjson.loads(self._json or "{}")
        return self._props

    def properties_json(self) -> str:
        """The properties as JSON text (cached until the next change)."""
        if self._json is None:
            self._json = orjson.dumps(self._props).decode()
        return self._json

    def touched(self) -> None:
        """Call after changing ``properties``: drops the cached JSON, bumps the version."""
        if self._props is None:
            self._props = orjson.loads(self._json or "{}")
        self._json = None
        self.version += 1

    def snapshot(self) -> tuple:
        """A row for the store: (team, uuid, int_id, created_us, props, identified, version)."""
        return (self.team_id, self.uuid, self.int_id, self.created_at_us,
                self.properties_json(), self.is_identified, self.version)  # fmt: skip


class Group:
    __slots__ = ("team_id", "type_index", "key", "properties", "created_at_us", "updated_at_us")

    def __init__(self, team_id: int, type_index: int, key: str, properties: dict[str, Any],
                 created_at_us: int, updated_at_us: int) -> None:  # fmt: skip
        self.team_id = team_id
        self.type_index = type_index
        self.key = key
        self.properties = properties
        self.created_at_us = created_at_us
        self.updated_at_us = updated_at_us


@dataclass(slots=True)
class IngestionWarning:
    team_id: int
    type: str
    details: dict[str, Any]


@dataclass(slots=True)
class Changes:
    """Identity changes made while admitting some events; the writer commits them."""

    persons: dict[str, Person] = field(default_factory=dict)
    created: set[str] = field(default_factory=set)
    """Persons created by these changes (never stored yet: insert, no delete needed)."""
    deleted_persons: dict[str, tuple[int, str]] = field(default_factory=dict)
    distinct_ids: dict[tuple[int, str], tuple[str, int]] = field(default_factory=dict)
    deleted_distinct_ids: set[tuple[int, str]] = field(default_factory=set)
    overrides: dict[tuple[int, str], tuple[str, int]] = field(default_factory=dict)
    groups: dict[tuple[int, int, str], Group] = field(default_factory=dict)
    group_types: list[tuple[int, str, int]] = field(default_factory=list)
    warnings: list[IngestionWarning] = field(default_factory=list)
    feed_numbers: list[int] = field(default_factory=list)
    """Scale-out mode: the shared change feed's numbers these changes were given (the last
    is :attr:`SealedChanges.version`); empty in the embedded mode."""

    def seal(self) -> "SealedChanges":
        """Freeze the log into plain rows (safe to hand to another thread)."""
        groups = [
            (g.team_id, g.type_index, g.key, orjson.dumps(g.properties).decode(),
             g.created_at_us, g.updated_at_us)
            for g in self.groups.values()
        ]  # fmt: skip
        return SealedChanges(
            persons=[p.snapshot() for p in self.persons.values()],
            new_persons=self.created & self.persons.keys(),
            deleted_persons=list(self.deleted_persons.values()),
            distinct_ids=[(t, d, p, v) for (t, d), (p, v) in self.distinct_ids.items()],
            deleted_distinct_ids=list(self.deleted_distinct_ids),
            overrides=[(t, d, p, v) for (t, d), (p, v) in self.overrides.items()],
            groups=groups,
            group_types=list(self.group_types),
            version=self.feed_numbers[-1] if self.feed_numbers else None,
        )


@dataclass(slots=True)
class SealedChanges:
    persons: list[tuple] = field(default_factory=list)
    new_persons: set[str] = field(default_factory=set)
    deleted_persons: list[tuple[int, str]] = field(default_factory=list)
    distinct_ids: list[tuple[int, str, str, int]] = field(default_factory=list)
    deleted_distinct_ids: list[tuple[int, str]] = field(default_factory=list)
    overrides: list[tuple[int, str, str, int]] = field(default_factory=list)
    groups: list[tuple] = field(default_factory=list)
    group_types: list[tuple[int, str, int]] = field(default_factory=list)
    version: int | None = None
    """Scale-out mode: a number of the shared change feed every process agrees on, such that
    each row here is the key's state after that number or newer (a later number is never
    older). Stores several processes write (ClickHouse) version identity rows by it; None:
    the embedded mode, where the store's own commit order versions them."""

    def __bool__(self) -> bool:
        return bool(self.persons or self.deleted_persons or self.distinct_ids
                    or self.deleted_distinct_ids or self.overrides or self.groups
                    or self.group_types)  # fmt: skip


class TeamState:
    __slots__ = ("by_distinct_id", "by_uuid", "pdi_version", "group_types", "groups")

    def __init__(self) -> None:
        self.by_distinct_id: dict[str, Person] = {}
        self.by_uuid: dict[str, Person] = {}
        self.pdi_version: dict[str, int] = {}
        self.group_types: dict[str, int] = {}
        self.groups: dict[tuple[int, str], Group] = {}


class PersonIndex:
    """All persons, distinct ids, groups and group types, in memory."""

    def __init__(self, next_int_id: int = 1) -> None:
        self.teams: dict[int, TeamState] = {}
        self.next_int_id = next_int_id

    # -- loading --------------------------------------------------------------------------

    def load(
        self,
        persons: Iterable[tuple],
        distinct_ids: Iterable[tuple[int, str, str, int]],
        groups: Iterable[tuple] = (),
        group_types: Iterable[tuple[int, str, int]] = (),
    ) -> None:
        """Fill the index from store rows (the shapes :meth:`Changes.seal` writes)."""
        top = self.next_int_id - 1
        for team_id, uuid, int_id, created_us, props_json, identified, version in persons:
            person = Person(team_id, str(uuid), int_id, created_us, None, props_json,
                            bool(identified), version)  # fmt: skip
            self.team(team_id).by_uuid[person.uuid] = person
            top = max(top, int_id)
        self.next_int_id = top + 1
        for team_id, distinct_id, person_uuid, version in distinct_ids:
            state = self.team(team_id)
            person = state.by_uuid.get(str(person_uuid))
            if person is None:
                continue
            state.by_distinct_id[distinct_id] = person
            state.pdi_version[distinct_id] = version
            person.distinct_ids += (distinct_id,)
        for team_id, type_index, key, props_json, created_us, updated_us in groups:
            self.team(team_id).groups[(type_index, key)] = Group(
                team_id, type_index, key, orjson.loads(props_json or "{}"), created_us, updated_us
            )
        for team_id, group_type, index in group_types:
            self.team(team_id).group_types[group_type] = index

    def team(self, team_id: int) -> TeamState:
        state = self.teams.get(team_id)
        if state is None:
            state = self.teams[team_id] = TeamState()
        return state

    # -- reads ----------------------------------------------------------------------------

    def person_for(self, team_id: int, distinct_id: str) -> Person | None:
        state = self.teams.get(team_id)
        return state.by_distinct_id.get(distinct_id) if state else None

    def person_by_uuid(self, team_id: int, uuid: str) -> Person | None:
        state = self.teams.get(team_id)
        return state.by_uuid.get(uuid) if state else None

    # -- the hot path ---------------------------------------------------------------------

    def process(
        self, team_id: int, ev: NormalEvent, now_us: int, changes: Changes
    ) -> tuple[str, str, int | None]:
        """Apply one event's identity and property effects.

        Returns (person_id, person_properties_json, person_created_at_us) for the event row.
        """
        state = self.teams.get(team_id)
        if state is None:
            state = self.team(team_id)
        distinct_id = ev.distinct_id
        if ev.personless:
            person = state.by_distinct_id.get(distinct_id)
            if person is not None:
                return person.uuid, "{}", person.created_at_us
            return derived_person_uuid(team_id, distinct_id), "{}", None

        if ev.event in _MERGE_EVENTS:
            other = merge_other_id(ev)
            if other is not None:
                self._merge(team_id, state, distinct_id, other, ev, now_us, changes)

        person = state.by_distinct_id.get(distinct_id)
        if person is None:
            person = self._create(team_id, state, distinct_id, ev, now_us, changes)
        elif (ev.set is not None or ev.set_once is not None or ev.unset is not None
              or ev.web is not None):  # fmt: skip
            if ev.unset is not None:
                person.web_seen = _NO_KEYS
            if _apply_event(person.properties, ev, person):
                person.touched()
                changes.persons[person.uuid] = person

        if ev.event == "$groupidentify":
            self._group_identify(team_id, state, ev, now_us, changes)
        return person.uuid, person.properties_json(), person.created_at_us

    def group_slots(self, team_id: int, groups: dict[str, Any], changes: Changes) -> list[str]:
        """``$groups`` to the five ``$group_i`` column values, adding new group types."""
        slots = ["", "", "", "", ""]
        mapping = self.team(team_id).group_types
        for group_type, key in groups.items():
            if key is None:
                continue
            index = mapping.get(group_type)
            if index is None:
                index = self._add_group_type(team_id, group_type, changes)
                if index is None:
                    continue
            slots[index] = group_key_text(key)
        return slots

    # -- identity internals ---------------------------------------------------------------

    def _create(
        self, team_id: int, state: TeamState, distinct_id: str, ev: NormalEvent | None,
        now_us: int, changes: Changes, identified: bool = False,
    ) -> Person:  # fmt: skip
        props: dict[str, Any] = {}
        if ev is not None:
            _apply_event(props, ev)
        created = ev.timestamp_us if ev is not None else now_us
        uuid = derived = derived_person_uuid(team_id, distinct_id)
        existing = state.by_uuid.get(uuid)
        if existing is not None:
            # The derived uuid already names a live person (its first id was moved away
            # by a deletion of that id); fall back to a random uuid.
            uuid = str(uuidlib.uuid4())
        person = Person(team_id, uuid, self.next_int_id, created, props, None, identified, 0)
        self.next_int_id += 1
        state.by_uuid[uuid] = person
        changes.persons[uuid] = person
        changes.created.add(uuid)
        self._attach(team_id, state, distinct_id, person, changes, derived)
        return person

    def _attach(
        self, team_id: int, state: TeamState, distinct_id: str, person: Person, changes: Changes,
        derived: str | None = None,
    ) -> None:  # fmt: skip
        version = state.pdi_version.get(distinct_id, -1) + 1
        state.pdi_version[distinct_id] = version
        state.by_distinct_id[distinct_id] = person
        person.distinct_ids += (distinct_id,)
        changes.distinct_ids[(team_id, distinct_id)] = (person.uuid, version)
        changes.deleted_distinct_ids.discard((team_id, distinct_id))
        if person.uuid != (derived or derived_person_uuid(team_id, distinct_id)):
            changes.overrides[(team_id, distinct_id)] = (person.uuid, version)

    def _merge(
        self, team_id: int, state: TeamState, target_id: str, other_id: str,
        ev: NormalEvent, now_us: int, changes: Changes,
    ) -> None:  # fmt: skip
        if target_id == other_id:
            return
        if is_illegal_distinct_id(target_id) or is_illegal_distinct_id(other_id):
            changes.warnings.append(IngestionWarning(team_id, "cannot_merge_with_illegal_distinct_id", {
                "distinctId": target_id, "sourceDistinctId": other_id, "eventUuid": ev.uuid}))  # fmt: skip
            return
        target = state.by_distinct_id.get(target_id)
        other = state.by_distinct_id.get(other_id)
        if target is None and other is None:
            person = self._create(team_id, state, target_id, None, ev.timestamp_us, changes,
                                  identified=True)  # fmt: skip
            self._attach(team_id, state, other_id, person, changes)
            return
        if other is None:
            assert target is not None
            self._attach(team_id, state, other_id, target, changes)
            self._identify(target, changes)
            return
        if target is None:
            self._attach(team_id, state, target_id, other, changes)
            self._identify(other, changes)
            return
        if target is other:
            self._identify(target, changes)
            return
        if other.is_identified and ev.event != "$merge_dangerously":
            changes.warnings.append(IngestionWarning(team_id, "cannot_merge_already_identified", {
                "sourcePersonDistinctId": other_id, "targetPersonDistinctId": target_id,
                "eventUuid": ev.uuid}))  # fmt: skip
            return
        # Merge `other` into `target`: target's properties win, older created_at is kept.
        merged = dict(other.properties)
        merged.update(target.properties)
        target._props = merged
        target.created_at_us = min(target.created_at_us, other.created_at_us)
        target.is_identified = True
        target.touched()
        changes.persons[target.uuid] = target
        for moved in other.distinct_ids:
            self._attach(team_id, state, moved, target, changes)
        other.distinct_ids = ()
        self._delete(team_id, state, other, changes)

    def _identify(self, person: Person, changes: Changes) -> None:
        if not person.is_identified:
            person.is_identified = True
            person.touched()
            changes.persons[person.uuid] = person

    def _delete(self, team_id: int, state: TeamState, person: Person, changes: Changes) -> None:
        state.by_uuid.pop(person.uuid, None)
        changes.persons.pop(person.uuid, None)
        changes.deleted_persons[person.uuid] = (team_id, person.uuid)

    def delete_person(self, team_id: int, uuid: str, changes: Changes) -> Person | None:
        """Remove a person and its distinct ids (the Persons API's delete)."""
        state = self.team(team_id)
        person = state.by_uuid.get(uuid)
        if person is None:
            return None
        for distinct_id in person.distinct_ids:
            state.by_distinct_id.pop(distinct_id, None)
            changes.distinct_ids.pop((team_id, distinct_id), None)
            changes.overrides.pop((team_id, distinct_id), None)
            changes.deleted_distinct_ids.add((team_id, distinct_id))
        self._delete(team_id, state, person, changes)
        return person

    # -- groups ---------------------------------------------------------------------------

    def _add_group_type(self, team_id: int, group_type: str, changes: Changes) -> int | None:
        mapping = self.team(team_id).group_types
        if len(mapping) >= GROUP_SLOTS:
            return None
        index = len(mapping)
        mapping[group_type] = index
        changes.group_types.append((team_id, group_type, index))
        return index

    def _group_identify(
        self, team_id: int, state: TeamState, ev: NormalEvent, now_us: int, changes: Changes
    ) -> None:
        target = groupidentify_target(ev)
        if target is None:
            return
        group_type, key = target
        props = ev.properties
        index = state.group_types.get(group_type)
        if index is None:
            index = self._add_group_type(team_id, group_type, changes)
            if index is None:
                changes.warnings.append(IngestionWarning(team_id, "group_type_limit_reached",
                                                         {"groupType": group_type}))  # fmt: skip
                return
        group_set = props.get("$group_set")
        group = state.groups.get((index, key))
        if group is None:
            group = Group(team_id, index, key, {}, ev.timestamp_us, now_us)
            state.groups[(index, key)] = group
            _apply(group.properties, group_set if isinstance(group_set, dict) else None, None, None)
            changes.groups[(team_id, index, key)] = group
        elif isinstance(group_set, dict) and _apply(group.properties, group_set, None, None):
            group.updated_at_us = now_us
            changes.groups[(team_id, index, key)] = group


def _apply_event(props: dict[str, Any], ev: NormalEvent, person: Person | None = None) -> bool:
    """Apply an event's person updates: its $set_once, then the web properties' $initial_
    twins (only where missing), the web properties, its $set, and finally its $unset.

    Web properties in FILTERED_PERSON_UPDATE_PROPERTIES change the person only when something
    else changes too (or the event is a person event), as in PostHog. ``person.web_seen``
    holds the web keys whose ``$initial_`` twin is known to be set, so the common event (same
    person, nothing new) costs a few set operations.
    """
    changed = _apply(props, None, ev.set_once, None)
    web = ev.web
    if web is not None:
        source = ev.properties
        new_keys = web - person.web_seen if person is not None else web
        if new_keys:
            # First sight of these keys on this person: $initial_ twin and the key itself
            # are written when absent (seen keys are known to have both).
            for key in new_keys:
                initial = INITIAL_NAME[key]
                if initial not in props:
                    props[initial] = source[key]
                    changed = True
                if key not in props:
                    props[key] = source[key]
                    changed = True
            if person is not None:
                person.web_seen = _shared(person.web_seen | new_keys)
        force = ev.event in FORCE_PERSON_UPDATE_EVENTS
        get = props.get
        for key in (web if force else web - FILTERED_PERSON_UPDATE_PROPERTIES):
            value = source[key]
            if get(key, _MISSING) != value:
                props[key] = value
                changed = True
        if not force:
            if ev.set is None and ev.unset is None and not changed:
                return False  # only filtered keys may differ: not a reason to update
            changed = _apply(props, ev.set, None, ev.unset) or changed
            if changed:
                # Filtered keys ride along with a real change.
                for key in web & FILTERED_PERSON_UPDATE_PROPERTIES:
                    if ev.set is None or key not in ev.set:
                        props[key] = source[key]
            return changed
    return _apply(props, ev.set, None, ev.unset) or changed


def _shared(keys: frozenset[str]) -> frozenset[str]:
    """One frozenset object per distinct set of keys (persons mostly see the same ones)."""
    found = _SEEN_SETS.get(keys)
    if found is None:
        found = keys
        if len(_SEEN_SETS) < _MAX_SEEN_SETS:
            _SEEN_SETS[keys] = keys
    return found


def _apply(
    props: dict[str, Any],
    set_: dict[str, Any] | None,
    set_once: dict[str, Any] | None,
    unset: list[str] | None,
) -> bool:
    """Apply $set, $set_once, $unset to ``props``; True when anything changed."""
    changed = False
    if set_once:
        for key, value in set_once.items():
            if key not in props:
                props[key] = value
                changed = True
    if set_:
        for key, value in set_.items():
            if key not in props or props[key] != value:
                props[key] = value
                changed = True
    if unset:
        for key in unset:
            if key in props:
                del props[key]
                changed = True
    return changed
