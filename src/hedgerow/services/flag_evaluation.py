"""Remote flag evaluation: who is asking, what we know of them, and the pure evaluator.

Per project, the compiled flag set (flags, cohorts, group types) is cached and rebuilt when a
flag or cohort changes here, or at most :data:`RECHECK_SECONDS` after one changed in another
process. Person and group properties come from ingestion's in-memory index, so a request
touches no database on the hot path.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hedgerow.flags import EvaluationContext, FlagResult, FlagSet, compile_flags, evaluate_flags
from hedgerow.flags.patterns import without_blocking
from hedgerow.services.flag_definitions import cohort_tree, flag_definition, locally_evaluable
from hedgerow.store.meta import cohorts as cohort_store
from hedgerow.store.meta import flags as flag_store
from hedgerow.store.meta import hash_keys
from hedgerow.store.meta.db import MetaDB
from hedgerow.store.meta.tenancy import Project

RECHECK_SECONDS = 1.0


@dataclass(frozen=True)
class FlagsRequest:
    """What a ``/flags`` (or ``/decide``) body asks, with PostHog's aliases resolved."""

    distinct_id: str
    groups: Mapping[str, Any] = field(default_factory=dict)
    person_properties: Mapping[str, Any] = field(default_factory=dict)
    group_properties: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    anon_distinct_id: str | None = None
    device_id: str | None = None
    flag_keys: tuple[str, ...] | None = None


class PeopleLookup:
    """What flag evaluation reads of persons and groups (ingestion's in-memory index)."""

    def __init__(self, ingestor: Any | None = None, membership: Any | None = None) -> None:
        self._ingestor = ingestor
        self._membership = membership
        self._shared: Any | None = None
        self._shared_groups: Any | None = None

    def attach(self, ingestor: Any, membership: Any, shared_persons: Any | None = None,
               shared_groups: Any | None = None) -> None:  # fmt: skip
        """Read from ``ingestor``'s index and static cohorts from now on (the server process);
        persons from ``shared_persons`` (a SharedPersonCache) and groups from
        ``shared_groups`` (a SharedGroupCache) in scale-out mode."""
        self._ingestor = ingestor
        self._membership = membership
        self._shared = shared_persons
        self._shared_groups = shared_groups

    def static_cohorts(self, project_id: int, person_uuid: str) -> frozenset[int]:
        if self._membership is None:
            return frozenset()
        return self._membership.static_ids_for(project_id, person_uuid)

    def person(self, project_id: int, distinct_id: str) -> Any | None:
        if self._shared is not None:
            return self._shared.person(project_id, distinct_id)
        if self._ingestor is None:
            return None
        return self._ingestor.index.person_for(project_id, distinct_id)

    def group_properties(self, project_id: int, index: int, key: str) -> Mapping[str, Any]:
        if self._shared_groups is not None:
            return self._shared_groups.group_properties(project_id, index, key)
        if self._ingestor is None:
            return {}
        group = self._ingestor.index.team(project_id).groups.get((index, key))
        return group.properties if group is not None else {}

    def group_types(self, project_id: int) -> dict[int, str]:
        if self._shared_groups is not None:
            return self._shared_groups.group_types(project_id)
        if self._ingestor is None:
            return {}
        return {index: name for name, index in self._ingestor.index.team(project_id).group_types.items()}


class HashKeyOverrides:
    """Experience-continuity hash keys, per project in memory (loaded on first use)."""

    def __init__(self, db: MetaDB) -> None:
        self._db = db
        self._projects: dict[int, dict[str, dict[str, str]]] = {}
        self._lock = threading.Lock()

    def _project(self, project_id: int) -> dict[str, dict[str, str]]:
        found = self._projects.get(project_id)
        if found is None:
            with self._db.read() as conn:
                found = self._projects[project_id] = hash_keys.for_project(conn, project_id)
        return found

    def for_person(self, project_id: int, person_uuid: str) -> dict[str, str]:
        return self._project(project_id).get(person_uuid, {})

    def remember(self, project_id: int, person_uuids: list[str], flag_keys: list[str], hash_key: str) -> None:
        """Store ``hash_key`` for each person and flag that has none yet."""
        known = self._project(project_id)
        rows = [
            (person, key, hash_key)
            for person in person_uuids
            for key in flag_keys
            if key not in known.get(person, {})
        ]
        if not rows:
            return
        with self._lock, self._db.write() as conn:
            hash_keys.add(conn, project_id, rows)
        for person, key, value in rows:
            known.setdefault(person, {}).setdefault(key, value)


@dataclass
class _Compiled:
    flag_set: FlagSet
    stamp: tuple[Any, ...]
    checked_at: float
    local_version: int


class FlagEvaluation:
    """Evaluates a project's flags for one request."""

    def __init__(self, db: MetaDB, people: PeopleLookup) -> None:
        self._db = db
        self.people = people
        self._cache: dict[int, _Compiled] = {}
        self.hash_keys = HashKeyOverrides(db)
        self._versions: dict[int, int] = {}
        self._lock = threading.Lock()

    def changed(self, project_id: int) -> None:
        """Flags or cohorts of ``project_id`` changed in this process: rebuild on next use."""
        with self._lock:
            self._versions[project_id] = self._versions.get(project_id, 0) + 1

    def flag_set(self, project: Project) -> FlagSet:
        now = time.monotonic()
        local = self._versions.get(project.id, 0)
        cached = self._cache.get(project.id)
        if cached is not None and cached.local_version == local:
            if now - cached.checked_at < RECHECK_SECONDS:
                return cached.flag_set
            stamp = self._stamp(project)
            if stamp == cached.stamp:
                cached.checked_at = now
                return cached.flag_set
        compiled = self._compile(project, local, now)
        self._cache[project.id] = compiled
        return compiled.flag_set

    def _stamp(self, project: Project) -> tuple[Any, ...]:
        with self._db.read() as conn:
            return (
                flag_store.latest_change(conn, project.id),
                cohort_store.latest_change(conn, project.id),
                tuple(sorted(self.people.group_types(project.id).items())),
                project.timezone,
            )

    def _compile(self, project: Project, local: int, now: float) -> _Compiled:
        with self._db.read() as conn:
            flags = flag_store.live(conn, project.id)
            cohorts = cohort_store.in_project(conn, project.id, include_deleted=True)
        trees: dict[int, Any] = {
            c.id: cohort_tree(c) if locally_evaluable(c) else None for c in cohorts
        }
        # inactive flags are compiled too: flags that depend on one see it off (False)
        flag_set = compile_flags(
            [flag_definition(f) for f in flags],
            cohorts=trees,
            group_type_mapping=self.people.group_types(project.id),
            timezone=project.timezone,
        )
        return _Compiled(flag_set, self._stamp(project), now, local)

    def evaluate(self, project: Project, request: FlagsRequest, *, on_loop: bool = False) -> dict[str, FlagResult]:
        """The request's flags. ``on_loop``: searches that could take a while raise
        :class:`~hedgerow.flags.patterns.WouldBlock` instead (then evaluate again on a thread)."""
        flag_set = self.flag_set(project)
        person = self.people.person(project.id, request.distinct_id)
        stored = person.properties if person is not None else {}
        mapping = self.people.group_types(project.id)
        index_of = {name: index for index, name in mapping.items()}
        group_properties: dict[str, Mapping[str, Any]] = {}
        for type_name, key in request.groups.items():
            index = index_of.get(type_name)
            base = self.people.group_properties(project.id, index, str(key)) if index is not None else {}
            overlay = request.group_properties.get(type_name) or {}
            group_properties[type_name] = {**base, **overlay} if overlay else base
        overrides: Mapping[str, str] = {}
        continuity = [flag.key for flag in flag_set.flags if flag.continuity and flag.active]
        if continuity and person is not None:
            if request.anon_distinct_id:
                anon = self.people.person(project.id, request.anon_distinct_id)
                persons = list(dict.fromkeys([person.uuid] + ([anon.uuid] if anon is not None else [])))
                self.hash_keys.remember(project.id, persons, continuity, request.anon_distinct_id)
            overrides = self.hash_keys.for_person(project.id, person.uuid)
        context = EvaluationContext(
            distinct_id=request.distinct_id,
            person_properties=stored,
            person_property_overrides=request.person_properties,
            groups=request.groups,
            group_properties=group_properties,
            hash_key_overrides=overrides,
            static_cohort_ids=self.people.static_cohorts(project.id, person.uuid) if person is not None else frozenset(),
            anon_distinct_id=request.anon_distinct_id,
            device_id=request.device_id,
        )
        with without_blocking() if on_loop else contextlib.nullcontext():
            results = evaluate_flags(flag_set, context, request.flag_keys)
        if flag_set.has_inactive:  # the server answers for active flags only
            return {key: result for key, result in results.items() if flag_set.by_key[key].active}
        return results

