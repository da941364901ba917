"""Prepare a team's flag definitions once, so each request only evaluates.

:func:`compile_flags` builds a :class:`FlagSet`: every filter is compiled to a matcher
(regexes, semvers and absolute dates parsed once), variant tables are accumulated with
the server's running float sum, flag dependencies are resolved and ordered so that
dependencies are evaluated first, and broken dependencies (a missing flag, a cycle, or
a dependency on either) are found up front.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from hedgerow.flags.cohorts import Cohorts, cohort_id_of
from hedgerow.flags.dates import zone
from hedgerow.flags.model import FlagDefinition, FlagResult, result_for_reason
from hedgerow.flags.operators import Matcher, compile_filter, never
from hedgerow.flags.patterns import BacktrackingPattern, compile_pattern
from hedgerow.flags.reasons import Reason
from hedgerow.flags.values import to_text
from hedgerow.ids import parse_id

_NOT_GIVEN = object()


@dataclass(frozen=True, slots=True)
class PropertyStep:
    """A person or group property filter of a condition."""

    group_type_index: int | None  # None: person properties
    is_group: bool
    matcher: Matcher


@dataclass(frozen=True, slots=True)
class FlagStep:
    """A ``type: flag`` filter: the dependency's value must be ``expected``."""

    reference: str
    dependency_id: int | None
    expected: Any
    usable: bool  # operator is flag_evaluates_to


@dataclass(frozen=True, slots=True)
class CohortStep:
    """A ``type: cohort`` filter, evaluated after the other filters of its condition."""

    cohort_id: int | None
    operator: Any


@dataclass(frozen=True, slots=True)
class Condition:
    """One release condition (a ``filters.groups`` entry) of a flag."""

    index: int
    aggregation: int | None
    rollout: float
    steps: tuple[PropertyStep | FlagStep, ...]
    cohort_steps: tuple[CohortStep, ...]
    variant: str | None  # a valid variant override


@dataclass(frozen=True, slots=True)
class CompiledFlag:
    """A flag ready to evaluate; ``definition`` is what it was built from.

    Results are immutable and depend only on the outcome, so each distinct outcome's
    :class:`FlagResult` is built once and shared (:meth:`outcome`).
    """

    definition: FlagDefinition
    key: str
    id: int
    active: bool
    continuity: bool  # ensure_experience_continuity
    rollout_prefix: str
    aggregation: int | None
    conditions: tuple[Condition, ...]
    variants: tuple[tuple[float, str], ...]  # (cumulative fraction, key)
    payloads: Mapping[str, Any]
    holdout: tuple[Any, float] | None  # (id, exclusion percentage clamped to 0..100)
    enrollment_key: str | None
    super_condition: Condition | None
    super_keys: tuple[str, ...]
    device_bucketing: bool
    dependency_ids: frozenset[int]
    has_unresolved_dependency: bool
    _outcomes: dict = field(default_factory=dict, compare=False, repr=False)

    def payload(self, variant: str | None) -> Any:
        """The stored payload for a matched variant (``"true"`` for a boolean match)."""
        return self.payloads.get(variant if variant is not None else "true")

    def outcome(
        self,
        reason: Reason,
        condition_index: int | None = None,
        *,
        enabled: bool = False,
        variant: str | None = None,
        with_payload: bool = False,
    ) -> FlagResult:
        """The (shared) result for this outcome; the payload is ``payload(variant)`` when asked for."""
        cache_key = (reason.slot, condition_index, enabled, variant, with_payload)
        result = self._outcomes.get(cache_key)
        if result is None:
            result = result_for_reason(
                self.definition,
                reason,
                enabled=enabled,
                variant=variant,
                condition_index=condition_index,
                payload=self.payload(variant) if with_payload else None,
            )
            self._outcomes[cache_key] = result
        return result


@dataclass(frozen=True, eq=False)
class FlagSet:
    """A team's compiled flags, cohorts and group types, in dependency order."""

    flags: tuple[CompiledFlag, ...]  # dependencies before dependents
    by_key: Mapping[str, CompiledFlag]
    output_order: Mapping[str, int]
    in_output_order: bool  # dependency order happens to be the given order
    broken_ids: frozenset[int]  # evaluate to missing_dependency
    has_dependency_cycles: bool
    has_inactive: bool
    costly: bool  # backtracking regexes or many conditions: worth a worker thread (see :func:`is_costly`)
    group_type_mapping: Mapping[int, str]
    cohorts: Cohorts
    timezone: Any

    def select(self, flag_keys: Iterable[str] | None) -> tuple[CompiledFlag, ...]:
        """The flags to evaluate for ``flag_keys`` (with their dependencies), in order."""
        if flag_keys is None:
            return self.flags
        by_id = {flag.id: flag for flag in self.flags}
        wanted: set[int] = set()
        queue = deque(self.by_key[key].id for key in flag_keys if key in self.by_key)
        while queue:
            flag_id = queue.popleft()
            if flag_id in wanted or flag_id not in by_id:
                continue
            wanted.add(flag_id)
            queue.extend(by_id[flag_id].dependency_ids)
        return tuple(flag for flag in self.flags if flag.id in wanted)


def _number(value: Any, default: float | None) -> float | None:
    """A JSON number as float; ``default`` when absent (null), 0.0 when not a number.

    The server cannot even load a flag whose percentage is not a number; failing closed
    (0%) is the nearest safe reading.
    """
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    return float(value)


def _aggregation(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class _Resolver:
    """Finds the flag a ``type: flag`` filter points at: by id (the server), else by key (SDKs)."""

    def __init__(self, definitions: list[FlagDefinition]) -> None:
        self.ids = {d.id for d in definitions}
        self.keys = {d.key: d.id for d in definitions}

    def __call__(self, reference: str) -> int | None:
        number = parse_id(reference)
        if number is not None and number in self.ids:
            return number
        return self.keys.get(reference)


def _compile_condition(
    index: int,
    raw: Mapping[str, Any],
    flag_aggregation: int | None,
    valid_variants: frozenset[str],
    resolve: _Resolver,
) -> Condition:
    own = raw.get("aggregation_group_type_index", _NOT_GIVEN)
    aggregation = flag_aggregation if own is _NOT_GIVEN else _aggregation(own)
    steps: list[PropertyStep | FlagStep] = []
    cohort_steps: list[CohortStep] = []
    for prop in raw.get("properties") or ():
        if not isinstance(prop, Mapping):
            steps.append(PropertyStep(None, False, never))
            continue
        prop_type = prop.get("type") or "person"
        if prop_type == "flag":
            reference = str(prop.get("key", ""))
            steps.append(
                FlagStep(
                    reference,
                    resolve(reference),
                    prop.get("value"),
                    prop.get("operator") == "flag_evaluates_to",
                )
            )
        elif prop_type == "cohort":
            cohort_steps.append(CohortStep(cohort_id_of(prop.get("value")), prop.get("operator")))
        elif prop_type == "group":
            own_index = _aggregation(prop.get("group_type_index"))
            steps.append(PropertyStep(own_index if own_index is not None else aggregation, True, compile_filter(prop)))
        elif prop_type == "person":
            steps.append(PropertyStep(None, False, compile_filter(prop)))
        else:
            steps.append(PropertyStep(None, False, never))  # unknown kinds never match
    variant = raw.get("variant")
    return Condition(
        index=index,
        aggregation=aggregation,
        rollout=_number(raw.get("rollout_percentage"), 100.0),
        steps=tuple(steps),
        cohort_steps=tuple(cohort_steps),
        variant=variant if isinstance(variant, str) and variant in valid_variants else None,
    )


def _variant_table(filters: Mapping[str, Any]) -> tuple[tuple[float, str], ...]:
    table = []
    cumulative = 0.0
    for variant in (filters.get("multivariate") or {}).get("variants") or ():
        cumulative += (_number(variant.get("rollout_percentage"), 0.0) or 0.0) / 100.0
        table.append((cumulative, str(variant.get("key"))))
    return tuple(table)


def _holdout(filters: Mapping[str, Any]) -> tuple[Any, float] | None:
    holdout = filters.get("holdout")
    if not isinstance(holdout, Mapping):
        return None
    percentage = _number(holdout.get("exclusion_percentage"), None)
    if holdout.get("id") is None or percentage is None:
        return None
    return holdout["id"], min(max(percentage, 0.0), 100.0)


def compile_flag(definition: FlagDefinition, resolve: _Resolver) -> CompiledFlag:
    """Compile one flag (``resolve`` maps dependency references to flag ids)."""
    filters = definition.filters or {}
    aggregation = _aggregation(filters.get("aggregation_group_type_index"))
    variants = _variant_table(filters)
    valid = frozenset(key for _, key in variants)
    conditions = tuple(
        _compile_condition(i, raw, aggregation, valid, resolve)
        for i, raw in enumerate(filters.get("groups") or ())
        if isinstance(raw, Mapping)
    )
    super_condition, super_keys = None, ()
    super_groups = filters.get("super_groups")
    if filters.get("feature_enrollment") is not True and super_groups:
        first = super_groups[0]
        if isinstance(first, Mapping) and first.get("properties"):
            super_condition = _compile_condition(0, first, None, valid, resolve)
            super_keys = tuple(p.get("key") for p in first["properties"] if isinstance(p, Mapping))
    # an inactive flag is never matched, so what it depends on does not matter (the server
    # reads no dependencies from it either): it is simply off, and its dependents see False
    flag_steps = [s for c in conditions for s in c.steps if isinstance(s, FlagStep)] if definition.active else []
    return CompiledFlag(
        definition=definition,
        key=definition.key,
        id=definition.id,
        active=definition.active,
        continuity=definition.ensure_experience_continuity,
        rollout_prefix=f"{definition.key}.",
        aggregation=aggregation,
        conditions=conditions,
        variants=variants,
        payloads=filters.get("payloads") or {},
        holdout=_holdout(filters),
        enrollment_key=f"$feature_enrollment/{definition.key}" if filters.get("feature_enrollment") is True else None,
        super_condition=super_condition,
        super_keys=super_keys,
        device_bucketing=definition.bucketing_identifier == "device_id",
        dependency_ids=frozenset(s.dependency_id for s in flag_steps if s.dependency_id is not None),
        has_unresolved_dependency=any(s.dependency_id is None for s in flag_steps),
    )


def _order(flags: list[CompiledFlag]) -> tuple[list[CompiledFlag], set[int]]:
    """Dependencies-first order (Kahn), and the flags caught in or behind a cycle."""
    by_id = {flag.id: flag for flag in flags}
    waiting = {flag.id: len(flag.dependency_ids & by_id.keys()) for flag in flags}
    dependents: dict[int, list[int]] = {flag.id: [] for flag in flags}
    for flag in flags:
        for dep in flag.dependency_ids & by_id.keys():
            dependents[dep].append(flag.id)
    ready = deque(flag.id for flag in flags if waiting[flag.id] == 0)
    ordered: list[CompiledFlag] = []
    while ready:
        flag_id = ready.popleft()
        ordered.append(by_id[flag_id])
        for dependent in dependents[flag_id]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                ready.append(dependent)
    stuck = {flag_id for flag_id, count in waiting.items() if count > 0}
    ordered.extend(flag for flag in flags if flag.id in stuck)
    return ordered, stuck


COSTLY_CONDITIONS = 200
_SLOW_OPERATORS = frozenset(("regex", "not_regex"))


def _has_slow_filter(node: Any) -> bool:
    """Whether a filter tree holds a regex that needs the backtracking engine."""
    if isinstance(node, Mapping):
        if node.get("operator") in _SLOW_OPERATORS:
            if isinstance(compile_pattern(to_text(node.get("value"))), BacktrackingPattern):
                return True
        return any(_has_slow_filter(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_slow_filter(v) for v in node)
    return False


def is_costly(
    definitions: list[FlagDefinition], cohorts: Mapping[int, Mapping[str, Any] | None] | None
) -> bool:
    """Whether evaluating these flags may take long enough to keep it off an event loop: a
    regex on the backtracking engine (flags or cohorts; linear ones are cheap), or more than
    :data:`COSTLY_CONDITIONS` conditions."""
    conditions = sum(len(d.filters.get("groups") or ()) for d in definitions if isinstance(d.filters, Mapping))
    if conditions > COSTLY_CONDITIONS:
        return True
    return any(_has_slow_filter(d.filters) for d in definitions) or _has_slow_filter(list((cohorts or {}).values()))


def compile_flags(
    flags: Iterable[FlagDefinition | Mapping[str, Any]],
    *,
    cohorts: Mapping[int, Mapping[str, Any] | None] | None = None,
    group_type_mapping: Mapping[int | str, str] | None = None,
    timezone: str | None = "UTC",
) -> FlagSet:
    """Compile a team's flags (deleted ones are left out) with its cohorts and group types.

    ``cohorts`` maps a cohort id to its ``filters.properties`` tree, or to None when its
    membership is precomputed (static and behavioural cohorts; see
    :class:`~hedgerow.flags.model.EvaluationContext.static_cohort_ids`).
    ``group_type_mapping`` maps a group type index to its name. ``timezone`` is the
    team's, used to read naive and relative dates.
    """
    definitions = [f if isinstance(f, FlagDefinition) else FlagDefinition.from_dict(f) for f in flags]
    definitions = [d for d in definitions if not d.deleted]
    resolve = _Resolver(definitions)
    compiled = [compile_flag(d, resolve) for d in definitions]
    ordered, stuck = _order(compiled)
    broken = set(stuck) | {flag.id for flag in compiled if flag.has_unresolved_dependency}
    changed = True
    while changed:  # anything that depends on a broken flag is broken too
        changed = False
        for flag in compiled:
            if flag.id not in broken and flag.dependency_ids & broken:
                broken.add(flag.id)
                changed = True
    return FlagSet(
        flags=tuple(ordered),
        by_key={flag.key: flag for flag in compiled},
        output_order={flag.key: i for i, flag in enumerate(compiled)},
        in_output_order=[flag.id for flag in ordered] == [flag.id for flag in compiled],
        broken_ids=frozenset(broken),
        has_dependency_cycles=bool(stuck),
        has_inactive=any(not flag.active for flag in compiled),
        costly=is_costly(definitions, cohorts),
        group_type_mapping={int(k): v for k, v in (group_type_mapping or {}).items()},
        cohorts=Cohorts(cohorts),
        timezone=zone(timezone),
    )
