"""Stage 4 in scale-out mode: person identity decided in the shared store (PostgreSQL).

Several processes ingest for the same people, so no process's memory can be the truth.
Each admitted batch runs in one locked transaction of the shared store: the distinct ids it
touches and their persons are locked and read into a batch-local :class:`PersonIndex`, the
events are applied to it in order by the same rules as the embedded mode (one set of rules,
:mod:`hedgerow.ingest.persons`), and the resulting changes are written back before the
locks are released. The events carry the person ids decided there. Groups are decided there
too: the groups a batch's ``$groupidentify`` events change are locked and loaded with the
team's group types (locked as well when the batch names a new type), so every process gives
a group type the same index and the events' ``$group_N`` columns agree.
"""

from __future__ import annotations

from typing import Callable

from hedgerow.ingest.normalise import NormalEvent
from hedgerow.ingest.persons import (
    Changes,
    PersonIndex,
    derived_person_uuid,
    groupidentify_target,
    merge_other_id,
)
from hedgerow.store.meta.identity import IdentityRows, IdentityTransaction, Moved, SharedIdentityStore

NO_GROUPS = ("", "", "", "", "")
PersonResult = tuple[str, str, "int | None", "tuple[str, ...] | list[str]"]
"""(person_id, person_properties_json, person_created_at_us, the five ``$group_N`` values)
for an event row."""


class _BatchIndex(PersonIndex):
    """An index holding only the persons and groups one batch touches (and the team's group
    types when the batch names any)."""

    @classmethod
    def of(cls, rows: IdentityRows) -> "_BatchIndex":
        index = cls()
        index.load(rows.persons, rows.distinct_ids, rows.groups, rows.group_types)
        return index


class SharedPersons:
    """Person identity for batches of events, decided in a :class:`SharedIdentityStore`."""

    def __init__(self, store: SharedIdentityStore) -> None:
        self.store = store
        self.on_change: Callable[[int, Changes], None] | None = None
        """Called with every change this process committed (e.g. to drop cached persons)."""

    def process(self, team_id: int, events: list[NormalEvent],
                now_us: int) -> tuple[list[PersonResult], Changes, dict[str, int]]:  # fmt: skip
        """Apply ``events`` in order; return each event's person and groups, the changes made
        (the shared store already holds them when this returns) and the team's group types
        as the batch knew them (empty when it named none)."""
        if not events:
            return [], Changes(), {}
        touched: set[str] = set()
        group_types: set[str] = set()
        groups: set[tuple[str, str]] = set()
        for ev in events:
            touched.add(ev.distinct_id)
            other = merge_other_id(ev)
            if other is not None:
                touched.add(other)
            if ev.groups:
                group_types.update(ev.groups)
            target = groupidentify_target(ev)
            if target is not None:
                groups.add(target)
        derived = [derived_person_uuid(team_id, d) for d in touched]

        def attempt(tx: IdentityTransaction) -> tuple[list[PersonResult], Changes, dict[str, int]]:
            index = _BatchIndex.of(tx.lock_and_load(team_id, touched, derived, group_types, groups))
            changes = Changes()
            results = []
            for ev in events:
                person = index.process(team_id, ev, now_us, changes)
                slots = index.group_slots(team_id, ev.groups, changes) if ev.groups else NO_GROUPS
                results.append((*person, slots))
            _commit(tx, index, changes)
            return results, changes, dict(index.team(team_id).group_types)

        results, changes, types = self.store.run(attempt)
        self._changed(team_id, changes)
        return results, changes, types

    def delete_person(self, team_id: int, uuid: str) -> Changes | None:
        """Remove a person and its distinct ids; None when there is no such person."""

        def attempt(tx: IdentityTransaction) -> Changes | None:
            ids = tx.person_ids(team_id, uuid)
            index = _BatchIndex.of(tx.lock_and_load(team_id, ids, [uuid]))
            changes = Changes()
            person = index.person_by_uuid(team_id, uuid)
            if person is None:
                return None
            if sorted(person.distinct_ids) != sorted(ids):
                raise Moved()
            index.delete_person(team_id, uuid, changes)
            _commit(tx, index, changes)
            return changes

        changes = self.store.run(attempt)
        if changes is not None:
            self._changed(team_id, changes)
        return changes

    def _changed(self, team_id: int, changes: Changes) -> None:
        if self.on_change is not None:
            self.on_change(team_id, changes)


def _commit(tx: IdentityTransaction, index: PersonIndex, changes: Changes) -> None:
    """Give new persons ids from the shared sequence, then write the changes (numbered by
    the feed: ``changes.feed_numbers``)."""
    new = sorted(uuid for uuid in changes.created if uuid in changes.persons)
    for uuid, int_id in zip(new, tx.next_int_ids(len(new))):
        changes.persons[uuid].int_id = int_id
    sealed = changes.seal()
    tx.write(sealed.persons, sealed.deleted_persons, sealed.distinct_ids,
             sealed.deleted_distinct_ids, sealed.overrides, sealed.groups, sealed.group_types)  # fmt: skip
    changes.feed_numbers = tx.numbers
