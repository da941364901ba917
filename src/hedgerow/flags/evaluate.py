"""Evaluate compiled flags for one person, the way PostHog's ``/flags`` service does.

For each flag, in dependency order (``rust/feature-flags`` ``FeatureFlagMatcher::get_match``):

1. an inactive flag is off (``flag_disabled``), and flags depending on it see ``False``;
   a flag whose dependencies are missing, cyclic or broken is off (``missing_dependency``);
2. early access: with ``feature_enrollment``, a present ``$feature_enrollment/<key>``
   person property decides (``true`` / ``"true"``) with ``super_condition_value``;
   the legacy ``super_groups[0]`` decides when any of its keys is present;
3. holdout: held out when the exclusion is 100% or ``hash("holdout-", id) <= pct/100``
   (the result is on, variant ``holdout-<holdout id>``);
4. the conditions in declared order; the first that matches wins, and otherwise the
   highest-priority reason seen is returned (see :mod:`hedgerow.flags.reasons`).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from hedgerow.flags import hashing
from hedgerow.flags.cohorts import membership
from hedgerow.flags.compile import CompiledFlag, Condition, FlagSet, FlagStep
from hedgerow.flags.dates import Clock
from hedgerow.flags.errors import EvaluationError, cohort_filters_unreadable
from hedgerow.flags.model import EvaluationContext, FlagResult, failed_result
from hedgerow.flags.patterns import search_budget
from hedgerow.flags.properties import person_properties
from hedgerow.flags.reasons import Reason
from hedgerow.flags.values import to_json

_MISSING = object()
_EMPTY: Mapping[str, Any] = {}
_NO_MATCH = (False, Reason.NO_CONDITION_MATCH)


class _Request:
    """Per-request state: lazily built property maps, evaluated values, cohort answers."""

    __slots__ = ("ctx", "flag_set", "clock", "values", "_person", "_groups", "_cohorts")

    def __init__(self, flag_set: FlagSet, ctx: EvaluationContext) -> None:
        self.ctx = ctx
        self.flag_set = flag_set
        self.clock = Clock(ctx.now, flag_set.timezone)
        self.values: dict[int, bool | str] = {}
        self._person: dict[str, Any] | None = None
        self._groups: dict[int | None, Mapping[str, Any]] = {}
        self._cohorts: dict[int, bool] = {}

    def person(self) -> Mapping[str, Any]:
        if self._person is None:
            ctx = self.ctx
            self._person = person_properties(ctx.distinct_id, ctx.person_properties, ctx.person_property_overrides)
        return self._person

    def group_properties(self, index: int | None) -> Mapping[str, Any]:
        props = self._groups.get(index)
        if props is None:
            name = self.flag_set.group_type_mapping.get(index) if index is not None else None
            props = self.ctx.group_properties.get(name, _EMPTY) if name is not None else _EMPTY
            self._groups[index] = props
        return props

    def group_key(self, index: int) -> Any:
        name = self.flag_set.group_type_mapping.get(index)
        return _MISSING if name is None else self.ctx.groups.get(name, _MISSING)

    def in_cohort(self, cohort_id: int) -> bool:
        return self.flag_set.cohorts.is_member(
            cohort_id, self.person(), self.clock, self.ctx.static_cohort_ids, self._cohorts
        )


def _has_group_key(key: Any) -> bool:
    if isinstance(key, str):
        return key != ""
    return isinstance(key, (int, float)) and not isinstance(key, bool)


def _group_identifier(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, (int, float)) and not isinstance(key, bool):
        return to_json(key)
    return ""  # any other JSON value (or no group) hashes as the empty identifier


def _identifier(flag: CompiledFlag, aggregation: int | None, req: _Request, *, stored_override: bool = True) -> str:
    """What a flag buckets on for a given aggregation (group key, device, person)."""
    if aggregation is not None:
        return _group_identifier(req.group_key(aggregation))
    ctx = req.ctx
    if flag.device_bucketing and ctx.device_id:
        return ctx.device_id
    if stored_override:
        override = ctx.hash_key_overrides.get(flag.key)
        if override is not None:
            return override
    if flag.continuity and ctx.anon_distinct_id is not None:
        return ctx.anon_distinct_id
    return ctx.distinct_id


def _flag_step_matches(step: FlagStep, req: _Request) -> bool:
    if not step.usable or step.dependency_id is None:
        return False
    value = req.values.get(step.dependency_id, _MISSING)
    if value is _MISSING:
        return False  # the dependency was not evaluated (inactive, failed, not requested)
    expected = step.expected
    if expected is True:
        return value is not False
    if expected is False:
        return value is False
    if isinstance(expected, str):
        return isinstance(value, str) and value == expected
    return False


def _condition_match(flag: CompiledFlag, condition: Condition, req: _Request) -> tuple[bool, Reason]:
    """Match one condition: its filters (cohorts last), then its rollout."""
    clock = req.clock
    for step in condition.steps:
        if isinstance(step, FlagStep):
            if not _flag_step_matches(step, req):
                return _NO_MATCH
        elif not step.matcher(req.group_properties(step.group_type_index) if step.is_group else req.person(), clock):
            return _NO_MATCH
    if condition.cohort_steps:
        answers = []
        for step in condition.cohort_steps:  # every membership first: any of them may fail the flag
            if step.cohort_id is None:
                raise cohort_filters_unreadable()
            answers.append((step.operator, req.in_cohort(step.cohort_id)))
        for operator, is_member in answers:
            if not membership(operator, is_member):  # "exact" never matches here
                return _NO_MATCH
    rollout = condition.rollout
    if rollout == 100.0:
        return True, Reason.CONDITION_MATCH
    identifier = _identifier(flag, condition.aggregation, req)
    if hashing.bucket(flag.rollout_prefix, identifier) <= rollout / 100.0:
        return True, Reason.CONDITION_MATCH
    return False, Reason.OUT_OF_ROLLOUT_BOUND


def _variant(flag: CompiledFlag, condition: Condition, req: _Request) -> str | None:
    if condition.variant is not None:
        return condition.variant
    if not flag.variants:
        return None
    value = hashing.bucket(flag.rollout_prefix, _identifier(flag, condition.aggregation, req), "variant")
    for cumulative, key in flag.variants:
        if value < cumulative:
            return key
    return None


def _match(flag: CompiledFlag, req: _Request) -> FlagResult:
    if flag.enrollment_key is not None:
        enrolled = req.person().get(flag.enrollment_key, _MISSING)
        if enrolled is not _MISSING:
            enabled = enrolled is True or enrolled == "true"
            return flag.outcome(Reason.SUPER_CONDITION_VALUE, 0, enabled=enabled, with_payload=True)
    elif flag.super_condition is not None:
        person = req.person()
        if any(key in person for key in flag.super_keys):
            matched, _ = _condition_match(flag, flag.super_condition, req)
            return flag.outcome(Reason.SUPER_CONDITION_VALUE, 0, enabled=matched, with_payload=True)

    if flag.holdout is not None:
        holdout_id, percentage = flag.holdout
        identifier = _identifier(flag, flag.aggregation, req, stored_override=False)
        if percentage >= 100.0 or hashing.hash("holdout-", identifier) <= percentage / 100.0:
            variant = f"holdout-{holdout_id}"
            return flag.outcome(Reason.HOLDOUT_CONDITION_VALUE, enabled=True, variant=variant, with_payload=True)

    best, best_index = Reason.NO_GROUP_TYPE, None
    skipped_groups = False
    for condition in flag.conditions:
        aggregation = condition.aggregation
        if aggregation is None:
            if flag.device_bucketing and not req.ctx.device_id:
                if Reason.OUT_OF_ROLLOUT_BOUND.score >= best.score:
                    best, best_index = Reason.OUT_OF_ROLLOUT_BOUND, condition.index
                continue
        elif not _has_group_key(req.group_key(aggregation)):
            skipped_groups = True
            if Reason.NO_GROUP_TYPE.score >= best.score:
                best, best_index = Reason.NO_GROUP_TYPE, condition.index
            continue
        matched, reason = _condition_match(flag, condition, req)
        if reason.score >= best.score:
            best, best_index = reason, condition.index
        if matched:
            variant = _variant(flag, condition, req)
            return flag.outcome(best, best_index, enabled=True, variant=variant, with_payload=True)
    if best is Reason.NO_CONDITION_MATCH and skipped_groups:
        best = Reason.NO_CONDITION_MATCH_GROUPS_NOT_EVALUATED
    return flag.outcome(best, best_index)


def _evaluate(flag: CompiledFlag, req: _Request) -> FlagResult:
    if not flag.active:
        req.values[flag.id] = False  # a dependency on an inactive flag sees it off
        return flag.outcome(Reason.FLAG_DISABLED)
    if flag.id in req.flag_set.broken_ids:
        result = flag.outcome(Reason.MISSING_DEPENDENCY)
    else:
        try:
            result = _match(flag, req)
        except EvaluationError as error:
            return failed_result(flag.definition, error.code, error.description)
    req.values[flag.id] = result.value
    return result


def evaluate_flags(
    flag_set: FlagSet,
    ctx: EvaluationContext,
    flag_keys: Iterable[str] | None = None,
) -> dict[str, FlagResult]:
    """Evaluate the team's flags (or ``flag_keys`` and their dependencies) for one person.

    Returns ``{flag key: FlagResult}`` in the order the flags were given to
    :func:`~hedgerow.flags.compile.compile_flags`. Inactive flags come back off with
    ``flag_disabled``; flags that hit an error come back with ``failed=True``.
    """
    req = _Request(flag_set, ctx)
    with search_budget():
        results = {flag.key: _evaluate(flag, req) for flag in flag_set.select(flag_keys)}
    if flag_set.in_output_order:
        return results
    order = flag_set.output_order
    return {key: results[key] for key in sorted(results, key=order.__getitem__)}


def evaluate_flag(flag_set: FlagSet, flag_key: str, ctx: EvaluationContext) -> FlagResult | None:
    """Evaluate one flag (its dependencies first); None when the set has no such key."""
    return evaluate_flags(flag_set, ctx, [flag_key]).get(flag_key)
