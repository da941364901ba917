"""Stage 4 in scale-out mode: person identity decided in the shared store (PostgreSQL).

Several processes ingest for the same people, so no process's memory can be the truth.
Each admitted batch runs in one locked transaction of the shared store: the distinct ids it
touches and their persons are locked and read into a batch-local :class:`PersonIndex`, the
events are applied to it in order by the same rules as the embedded mode (one set of rules,
:mod:`hedgerow.ingest.persons`), and the resulting changes are written back before the
locks are released. The events carry the person ids decided there. Groups stay with the
process's own index (they are not part of the shared state yet).
"""

from __future__ import annotations

from typing import Callable

from hedgerow.ingest.normalise import NormalEvent
from hedgerow.ingest.persons import Changes, PersonIndex, derived_person_uuid, merge_other_id
from hedgerow.store.meta.identity import IdentityRows, IdentityTransaction, Moved, SharedIdentityStore

PersonResult = tuple[str, str, "int | None"]
"""(person_id, person_properties_json, person_created_at_us) for an event row."""


class _BatchIndex(PersonIndex):
    """An index holding only the persons one batch touches; groups are not its business."""

    handles_groups = False

    @classmethod
    def of(cls, rows: IdentityRows) -> "_BatchIndex":
        index = cls()
        index.load(rows.persons, rows.distinct_ids)
        return index


class SharedPersons:
    """Person identity for batches of events, decided in a :class:`SharedIdentityStore`."""

    def __init__(self, store: SharedIdentityStore) -> None:
        self.store = store
        self.on_change: Callable[[int, Changes], None] | None = None
        """Called with every change this process committed (e.g. to drop cached persons)."""

    def process(self, team_id: int, events: list[NormalEvent],
                now_us: int) -> tuple[list[PersonResult], Changes]:  # fmt: skip
        """Apply ``events`` in order; return each event's person and the changes made (the
        shared store already holds them when this returns)."""
        if not events:
            return [], Changes()
        touched: set[str] = set()
        for ev in events:
            touched.add(ev.distinct_id)
            other = merge_other_id(ev)
            if other is not None:
                touched.add(other)
        derived = [derived_person_uuid(team_id, d) for d in touched]

        def attempt(tx: IdentityTransaction) -> tuple[list[PersonResult], Changes]:
            index = _BatchIndex.of(tx.lock_and_load(team_id, touched, derived))
            changes = Changes()
            results = [index.process(team_id, ev, now_us, changes) for ev in events]
            _commit(tx, index, changes)
            return results, changes

        results, changes = self.store.run(attempt)
        self._changed(team_id, changes)
        return results, changes

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
    """Give new persons ids from the shared sequence, then write the changes."""
    new = sorted(uuid for uuid in changes.created if uuid in changes.persons)
    for uuid, int_id in zip(new, tx.next_int_ids(len(new))):
        changes.persons[uuid].int_id = int_id
    sealed = changes.seal()
    tx.write(sealed.persons, sealed.deleted_persons, sealed.distinct_ids,
             sealed.deleted_distinct_ids, sealed.overrides)  # fmt: skip
