"""Cohort membership: precomputed for static and behavioural cohorts, evaluated for the rest.

A dynamic cohort is PostHog's ``filters.properties`` tree: an ``AND``/``OR`` group of
groups whose leaves are person property filters (with ``negation``) or references to
other cohorts (``{"type": "cohort", "value": <id>, "operator": "in"|"not_in"}``).
The server reads exactly two levels; deeper nesting is evaluated the same way here.
Its rules, quirks included:

* an ``AND`` (or ``property``) group needs every entry; an ``OR`` group any entry; an
  empty ``AND`` matches and an empty ``OR`` does not, and the empty tree ``{}`` matches;
* a property entry matches when ``match != negation``; a cohort entry uses its
  operator (none means ``in``; anything but ``in``/``not_in`` never matches) and, in an
  ``AND`` group only, its ``negation`` (the server ignores it inside ``OR`` groups);
* a referenced cohort that does not exist, a reference cycle, or an unreadable tree
  fails the flag that asked (``dependency_not_found_cohort``,
  ``dependency_cycle_cohort``, ``cohort_filters_parsing_error``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from hedgerow.flags.dates import Clock
from hedgerow.flags.errors import (
    EvaluationError,
    cohort_cycle,
    cohort_filters_unreadable,
    cohort_not_found,
)
from hedgerow.flags.operators import Matcher, compile_filter

#: The property kinds a cohort tree may hold; anything else (behavioural filters) makes
#: the tree unreadable to the server, so such cohorts must be precomputed by the caller.
_PROPERTY_TYPES = frozenset({"person", "group", "flag"})
_INTEGER = re.compile(r"[+-]?[0-9]+")


def cohort_id_of(value: Any) -> int | None:
    """The cohort id of a cohort filter value (a JSON integer or a numeric string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    return None


def membership(operator: Any, is_member: bool) -> bool:
    """Apply a cohort filter operator to a membership answer."""
    if operator is None or operator == "in":
        return is_member
    if operator == "not_in":
        return not is_member
    return False


class _Unreadable(Exception):
    pass


@dataclass(frozen=True)
class _Leaf:
    matcher: Matcher
    negation: bool


@dataclass(frozen=True)
class _CohortRef:
    cohort_id: int
    operator: Any
    negation: bool


@dataclass(frozen=True)
class _Group:
    kind: str  # "AND", "OR", "property"; anything else fails when reached
    entries: tuple


def _compile_node(node: Any, deps: set[int], *, top: bool) -> _Group | _Leaf | _CohortRef:
    if not isinstance(node, dict):
        raise _Unreadable
    if node == {}:
        return _Group("AND", ())
    if "values" in node:
        values = node["values"]
        kind = node.get("type")
        if not isinstance(values, list) or not isinstance(kind, str) or (top and kind not in ("AND", "OR")):
            raise _Unreadable
        return _Group(kind, tuple(_compile_node(v, deps, top=False) for v in values))
    prop_type = node.get("type", "person")
    negation = bool(node.get("negation") or False)
    if prop_type == "cohort":
        cohort_id = cohort_id_of(node.get("value"))
        if cohort_id is None:
            raise _Unreadable
        deps.add(cohort_id)
        return _CohortRef(cohort_id, node.get("operator"), negation)
    if prop_type not in _PROPERTY_TYPES or not isinstance(node.get("key"), str):
        raise _Unreadable
    return _Leaf(compile_filter(node), negation)


@dataclass(frozen=True)
class _Cohort:
    tree: _Group | _Leaf | _CohortRef | None  # None: membership is precomputed
    deps: frozenset[int]
    unreadable: bool


#: ``is_member(cohort_id) -> bool`` for nested references while evaluating a tree.
Membership = Callable[[int], bool]


def _evaluate(node: Any, props: Mapping[str, Any], clock: Clock, member: Membership) -> bool:
    if isinstance(node, _Leaf):
        return node.matcher(props, clock) != node.negation
    if isinstance(node, _CohortRef):
        return membership(node.operator, member(node.cohort_id)) != node.negation
    if node.kind == "OR":
        for entry in node.entries:
            if isinstance(entry, _CohortRef):
                # The server ignores `negation` on cohort entries of an OR group.
                if membership(entry.operator, member(entry.cohort_id)):
                    return True
            elif _evaluate(entry, props, clock, member):
                return True
        return False
    if node.kind in ("AND", "property"):
        return all(_evaluate(entry, props, clock, member) for entry in node.entries)
    raise cohort_filters_unreadable()


class Cohorts:
    """The team's cohorts, compiled once: ``{id: filters.properties tree | None}``.

    ``None`` marks a cohort whose membership is worked out elsewhere (static lists,
    behavioural cohorts): the person is a member when the id is in the request's
    ``static_cohort_ids``.
    """

    def __init__(self, definitions: Mapping[int, Mapping[str, Any] | None] | None = None) -> None:
        self._cohorts: dict[int, _Cohort] = {}
        for raw_id, tree in (definitions or {}).items():
            cohort_id = int(raw_id)
            if tree is None:
                self._cohorts[cohort_id] = _Cohort(None, frozenset(), False)
                continue
            deps: set[int] = set()
            try:
                compiled = _compile_node(tree, deps, top=True)
            except _Unreadable:
                self._cohorts[cohort_id] = _Cohort(None, frozenset(), True)
                continue
            self._cohorts[cohort_id] = _Cohort(compiled, frozenset(deps), False)
        self._problems: dict[int, EvaluationError | None] = {}

    def __contains__(self, cohort_id: int) -> bool:
        return cohort_id in self._cohorts

    def problem(self, cohort_id: int) -> EvaluationError | None:
        """Why this cohort cannot be evaluated (walking its references), or None."""
        if cohort_id not in self._problems:
            self._problems[cohort_id] = self._find_problem(cohort_id)
        return self._problems[cohort_id]

    def _find_problem(self, root: int) -> EvaluationError | None:
        if root not in self._cohorts:
            return cohort_not_found()
        order, seen, edges = [root], {root}, {}
        for cohort_id in order:  # breadth first, as the server builds its graph
            cohort = self._cohorts[cohort_id]
            if cohort.unreadable:
                return cohort_filters_unreadable()
            edges[cohort_id] = cohort.deps
            for dep in sorted(cohort.deps):
                if dep not in self._cohorts:
                    return cohort_not_found()
                if dep not in seen:
                    seen.add(dep)
                    order.append(dep)
        return cohort_cycle() if _has_cycle(edges) else None

    def is_member(
        self,
        cohort_id: int,
        props: Mapping[str, Any],
        clock: Clock,
        static_ids: frozenset[int],
        memo: dict[int, bool],
    ) -> bool:
        """Whether the person is in the cohort; raises :class:`EvaluationError` if it can't tell."""
        if cohort_id in static_ids:
            return True
        if cohort_id in memo:
            return memo[cohort_id]
        problem = self.problem(cohort_id)
        if problem is not None:
            raise problem

        def member(dep: int) -> bool:
            return self.is_member(dep, props, clock, static_ids, memo)

        tree = self._cohorts[cohort_id].tree
        result = False if tree is None else _evaluate(tree, props, clock, member)
        memo[cohort_id] = result
        return result


def _has_cycle(edges: Mapping[int, frozenset[int]]) -> bool:
    white, grey, black = 0, 1, 2
    color = dict.fromkeys(edges, white)
    for start in edges:
        if color[start] != white:
            continue
        stack = [(start, iter(edges[start]))]
        color[start] = grey
        while stack:
            node, children = stack[-1]
            for child in children:
                if color.get(child, black) == grey:
                    return True
                if color.get(child) == white:
                    color[child] = grey
                    stack.append((child, iter(edges[child])))
                    break
            else:
                color[node] = black
                stack.pop()
    return False
