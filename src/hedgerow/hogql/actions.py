"""Actions as HogQL conditions: the one definition of "this event matches that action".

An action matches an event when any of its steps does (no steps: every event); a step is the
AND of what it sets (nothing set: every event), as PostHog's ``steps_to_expr``:

* ``event``: the event name;
* only when the step's event is ``$autocapture``: ``selector``, ``tag_name``, ``href`` with
  ``href_matching`` (``exact`` by default, ``contains`` case-insensitive, ``regex``) and
  ``text`` with ``text_matching`` (same choices), over the elements chain
  (:mod:`hedgerow.hogql.elements`);
* ``url`` with ``url_matching`` on ``properties.$current_url``: ``contains`` (the default, a
  case-sensitive LIKE ``%url%``, so ``%`` and ``_`` in the value are wildcards), ``exact``,
  ``regex``;
* ``properties``: property filters of any type (event, person, cohort, element...), ANDed.

``matchesAction(id)`` in HogQL expands to this condition (:mod:`hedgerow.hogql.passes.actions`);
insights, cohorts and destinations all use it, so matching has one definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from sqlglot import exp

from hedgerow.hogql import elements
from hedgerow.hogql.dialect import RegexMatch
from hedgerow.hogql.nodes import constant
from hedgerow.hogql.property_filters import FilterEnv, field, property_filter

AUTOCAPTURE = "$autocapture"


@dataclass(frozen=True)
class ActionDefinition:
    """What the compiler needs of an action: its id, name and steps (PostHog's step JSON)."""

    id: int
    name: str | None
    steps: Sequence[Mapping[str, Any]]


def _path(alias: str | None, *parts: str) -> exp.Expression:
    return field(*([alias] if alias else []), *parts)


def _matching(target: exp.Expression, value: str, how: str | None, default: str) -> exp.Expression:
    how = how or default
    if how == "regex":
        return RegexMatch(this=target, expression=constant(value))
    if how == "contains":
        return exp.ILike(this=target, expression=constant(f"%{value}%"))
    return exp.EQ(this=target, expression=constant(value))


def _url(step: Mapping[str, Any], alias: str | None) -> exp.Expression:
    target = _path(alias, "properties", "$current_url")
    value, how = str(step["url"]), step.get("url_matching")
    if how == "exact":
        return exp.EQ(this=target, expression=constant(value))
    if how == "regex":
        return RegexMatch(this=target, expression=constant(value))
    return exp.Like(this=target, expression=constant(f"%{value}%"))


def _element_parts(step: Mapping[str, Any], alias: str | None) -> list[exp.Expression]:
    parts: list[exp.Expression] = []
    if step.get("selector"):
        parts.append(elements.selector_condition(str(step["selector"]), alias))
    if step.get("tag_name") is not None:
        parts.append(elements.tag_name_condition(str(step["tag_name"]), alias))
    if step.get("href") is not None:
        parts.append(_matching(elements.href(alias), str(step["href"]), step.get("href_matching"), "exact"))
    if step.get("text") is not None:
        test = _matching(elements.text_var(), str(step["text"]), step.get("text_matching"), "exact")
        parts.append(elements.any_text(test, alias))
    return parts


def step_condition(step: Mapping[str, Any], alias: str | None = None, timezone: str = "UTC") -> exp.Expression:
    """One step as a condition over the events table (``alias`` when it is aliased)."""
    parts: list[exp.Expression] = []
    event = step.get("event")
    if event:
        parts.append(exp.EQ(this=_path(alias, "event"), expression=constant(str(event))))
    if event == AUTOCAPTURE:
        parts.extend(_element_parts(step, alias))
    if step.get("url"):
        parts.append(_url(step, alias))
    if step.get("properties"):
        parts.append(property_filter(step["properties"], FilterEnv(scope="event", alias=alias, timezone=timezone)))
    if not parts:
        return exp.true()
    if len(parts) == 1:
        return parts[0]
    return exp.Paren(this=exp.and_(*(exp.Paren(this=p) for p in parts)))


def action_condition(action: ActionDefinition, alias: str | None = None, timezone: str = "UTC") -> exp.Expression:
    """The action as one condition: the OR of its steps (``true`` with none)."""
    if not action.steps:
        return exp.true()
    steps = [step_condition(step, alias, timezone) for step in action.steps]
    if len(steps) == 1:
        return steps[0]
    return exp.Paren(this=exp.or_(*(exp.Paren(this=s) for s in steps)))
