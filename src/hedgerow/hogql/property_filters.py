"""PostHog property filters as HogQL conditions (a HogQL tree, resolved like user text).

One place for every caller that filters by properties: ``{filters}`` placeholders,
EventsQuery, and later insights and cohorts. Input is PostHog's JSON: a filter
``{"type", "key", "value", "operator"}``, a list of filters (AND), or a group
``{"type": "AND"|"OR", "values": [...]}`` (nestable). Output is a HogQL condition over the
fields of the table in scope (``properties.x`` on events, ``person.properties.x``,
``group_2.properties.x``, ``session.x``...), so typing, null semantics and team guards all
come from the ordinary compiler passes. Values are always literals.

Operators are a table (:data:`OPERATORS`); semantics follow PostHog's ``property_to_expr``:
a list value means "any of" (``is_not``/``not_*``: "none of"); ``gt``/``lt``... compare
numerically; ``is_set``/``is_not_set`` test presence; ``icontains`` is a case-insensitive
LIKE with the value as given (``%``/``_`` keep their LIKE meaning, as in PostHog).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from sqlglot import exp

from hedgerow.hogql import elements
from hedgerow.hogql.dialect import InCohort, RegexMatch
from hedgerow.hogql.errors import HogQLError
from hedgerow.hogql.nodes import Value, constant
from hedgerow.hogql.parse import parse_expr
from hedgerow.ids import parse_id

SCOPES = ("event", "person", "group", "session")
MAX_GROUP_DEPTH = 20
"""How deep property groups (and lists) may nest: PostHog's editors make two levels; far
deeper trees would exhaust the compiler's and the serialiser's recursion."""
_RELATIVE_DATE = re.compile(r"^-?[0-9]+[hdwmqy]")


@dataclass(frozen=True)
class FilterEnv:
    """Where the condition will run: the scope (table kind), its alias, and the clock."""

    scope: str = "event"
    alias: str | None = None
    timezone: str = "UTC"
    now: Any = None


class PropertyFilterError(HogQLError):
    default_code = "invalid_property_filter"


def _ident(name: str) -> exp.Identifier:
    return exp.Identifier(this=name, quoted=True)


def field(*parts: str) -> exp.Expression:
    """A HogQL field path (``person.properties.$browser``) as a tree."""
    node: exp.Expression = exp.Column(this=_ident(parts[0]))
    for part in parts[1:]:
        node = exp.Dot(this=node, expression=_ident(part))
    return node


def literal(value: Any) -> exp.Expression:
    """A scalar filter value as a literal tree (containers are not values here)."""
    return constant(value if value is None or isinstance(value, (bool, int, float, str)) else str(value))


def text(value: Any) -> str:
    """A filter value as the JSON text a property read yields (``true``, ``10``, ``1.5``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _number(value: Any) -> exp.Expression:
    try:
        return literal(float(value))
    except (TypeError, ValueError):
        raise PropertyFilterError(f"The value '{value}' is not a number") from None


def _date(value: Any, env: FilterEnv) -> exp.Expression:
    from hedgerow.hogql.passes.filters import parse_date

    if not isinstance(value, str):
        raise PropertyFilterError("Date filters need a date string")
    if _RELATIVE_DATE.match(value):
        return Value(this=parse_date(value, env.timezone, env.now))
    return _call("toDateTime", literal(value))


def _as_datetime(target: exp.Expression) -> exp.Expression:
    return _call("toDateTime", _call("toString", target))


def _any_of(values: list, one: Callable[[Any], exp.Expression], negative: bool) -> exp.Expression:
    parts = [one(v) for v in values]
    if len(parts) == 1:
        return parts[0]
    return exp.and_(*parts) if negative else exp.or_(*parts)


def _exact(target: exp.Expression, values: list, env: FilterEnv) -> exp.Expression:
    if len(values) == 1:
        return exp.EQ(this=target, expression=literal(text(values[0])))
    return exp.In(this=target, expressions=[literal(text(v)) for v in values])


def _is_not(target: exp.Expression, values: list, env: FilterEnv) -> exp.Expression:
    if len(values) == 1:
        return exp.NEQ(this=target, expression=literal(text(values[0])))
    return exp.Not(this=exp.In(this=target, expressions=[literal(text(v)) for v in values]))


def _in(negated: bool):
    def build(target: exp.Expression, values: list, env: FilterEnv) -> exp.Expression:
        test = exp.In(this=target, expressions=[literal(text(v)) for v in values])
        return exp.Not(this=test) if negated else test

    return build


def _contains(negated: bool):
    def build(target: exp.Expression, values: list, env: FilterEnv) -> exp.Expression:
        def one(value: Any) -> exp.Expression:
            like = exp.ILike(this=_call("toString", target.copy()), expression=literal(f"%{text(value)}%"))
            return exp.Not(this=like) if negated else like

        return _any_of(values, one, negated)

    return build


def _regex(negated: bool):
    def build(target: exp.Expression, values: list, env: FilterEnv) -> exp.Expression:
        def one(value: Any) -> exp.Expression:
            return RegexMatch(
                this=_call("toString", target.copy()), expression=literal(text(value)), negated=negated
            )

        return _any_of(values, one, negated)

    return build


def _compare(cls: type):
    def build(target: exp.Expression, values: list, env: FilterEnv) -> exp.Expression:
        return _any_of(
            values,
            lambda v: cls(this=_call("toFloat", target.copy()), expression=_number(v)),
            False,
        )

    return build


def _between(negated: bool):
    def build(target: exp.Expression, values: list, env: FilterEnv) -> exp.Expression:
        if len(values) != 2:
            raise PropertyFilterError("between operators need a two-element array [min, max]")
        low, high = _number(values[0]), _number(values[1])
        number = _call("toFloat", target)
        if negated:
            return exp.Paren(this=exp.or_(
                exp.LT(this=number, expression=low), exp.GT(this=number.copy(), expression=high)
            ))
        return exp.and_(
            exp.GTE(this=number, expression=low), exp.LTE(this=number.copy(), expression=high)
        )

    return build


def _is_set(target: exp.Expression, values: list, env: FilterEnv) -> exp.Expression:
    return exp.NEQ(this=target, expression=exp.Null())


def _is_not_set(target: exp.Expression, values: list, env: FilterEnv) -> exp.Expression:
    return exp.EQ(this=target, expression=exp.Null())


def _date_compare(cls: type):
    def build(target: exp.Expression, values: list, env: FilterEnv) -> exp.Expression:
        return _any_of(values, lambda v: cls(this=_as_datetime(target.copy()), expression=_date(v, env)), False)

    return build


Operator = Callable[[exp.Expression, list, FilterEnv], exp.Expression]

OPERATORS: Mapping[str, Operator] = {
    "exact": _exact,
    "is_not": _is_not,
    "in": _in(False),
    "not_in": _in(True),
    "icontains": _contains(False),
    "not_icontains": _contains(True),
    "regex": _regex(False),
    "not_regex": _regex(True),
    "gt": _compare(exp.GT),
    "gte": _compare(exp.GTE),
    "lt": _compare(exp.LT),
    "lte": _compare(exp.LTE),
    "min": _compare(exp.GTE),
    "max": _compare(exp.LTE),
    "between": _between(False),
    "not_between": _between(True),
    "is_set": _is_set,
    "is_not_set": _is_not_set,
    "is_date_exact": _date_compare(exp.EQ),
    "is_date_before": _date_compare(exp.LT),
    "is_date_after": _date_compare(exp.GT),
}
"""PostHog operator name -> condition builder over (target field, values, env)."""

_VALUELESS = frozenset({"is_set", "is_not_set"})


def _target(prop: Mapping[str, Any], env: FilterEnv) -> exp.Expression:
    kind, key = prop.get("type") or "event", prop.get("key")
    if not isinstance(key, str) or not key:
        raise PropertyFilterError("A property filter needs a 'key'")
    scope = env.scope
    if kind == "event":
        if scope != "event":
            raise PropertyFilterError(f"The 'event' property filter does not work in '{scope}' scope")
        parts = ["elements_chain"] if key == "$elements_chain" else ["properties", key]
    elif kind == "person":
        parts = ["properties", key] if scope == "person" else ["person", "properties", key]
    elif kind == "group":
        index = prop.get("group_type_index")
        if scope == "group":
            parts = ["properties", key]
        elif isinstance(index, int) and 0 <= index <= 4:
            parts = [f"group_{index}", "properties", key]
        else:
            raise PropertyFilterError("A group property filter needs a group_type_index from 0 to 4")
    elif kind == "session":
        if scope not in ("event", "session"):
            raise PropertyFilterError(f"The 'session' property filter does not work in '{scope}' scope")
        parts = [key] if scope == "session" else ["session", key]
    else:
        raise PropertyFilterError(f"Property filters of type '{kind}' are not supported")
    if env.alias:
        parts = [env.alias, *parts]
    return field(*parts)


def _cohort(prop: Mapping[str, Any], env: FilterEnv) -> exp.Expression:
    value = prop.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, str)) or parse_id(str(value)) is None:
        raise PropertyFilterError("Cohort property value must be a cohort ID")
    who = field(*([env.alias] if env.alias else []), "id" if env.scope == "person" else "person_id")
    test: exp.Expression = InCohort(this=who, expression=exp.Literal.number(int(value)))
    if prop.get("negation") or prop.get("operator") == "not_in":
        test = exp.Not(this=test)
    return test


_NEGATIVE = frozenset({"is_not", "not_icontains", "not_regex"})


def _element(prop: Mapping[str, Any], env: FilterEnv) -> exp.Expression:
    """An ``element`` filter (PostHog's): ``selector``/``tag_name`` (exact or is_not), ``href``
    and ``text`` (any operator) over the elements chain."""
    if env.scope not in ("event",):
        raise PropertyFilterError(f"The 'element' property filter does not work in '{env.scope}' scope")
    key, value = prop.get("key"), prop.get("value")
    operator = prop.get("operator") or "exact"
    if isinstance(value, (list, tuple)) and len(value) != 1:
        parts = [_element({**prop, "value": v}, env) for v in value]
        if not parts:
            return exp.true()
        return exp.Paren(this=exp.and_(*parts) if operator in _NEGATIVE else exp.or_(*parts))
    if isinstance(value, (list, tuple)):
        value = value[0]
    if value is None or isinstance(value, (dict, list)):
        raise PropertyFilterError(f"The element filter on '{key}' needs a value")
    if key in ("selector", "tag_name"):
        if operator not in ("exact", "is_not"):
            raise PropertyFilterError(f"Element {key} filters only support the exact and is_not operators")
        build = elements.selector_condition if key == "selector" else elements.tag_name_condition
        test = build(text(value), env.alias)
        return exp.Not(this=test) if operator == "is_not" else test
    compare = OPERATORS.get(operator)
    if compare is None:
        raise PropertyFilterError(f"Unsupported property filter operator '{operator}'")
    if key == "href":
        return compare(elements.href(env.alias), [value], env)
    if key == "text":
        return elements.any_text(compare(elements.text_var(), [value], env), env.alias)
    raise PropertyFilterError(f"Element filters support the keys selector, tag_name, href and text, not '{key}'")


def _single(prop: Mapping[str, Any], env: FilterEnv) -> exp.Expression:
    kind = prop.get("type") or "event"
    if kind == "element":
        return _element(prop, env)
    if kind == "hogql":
        return parse_expr(prop.get("key"), what="HogQL property filter")
    if kind in ("cohort", "static-cohort", "precalculated-cohort"):
        return _cohort(prop, env)
    operator = prop.get("operator") or "exact"
    build = OPERATORS.get(operator)
    if build is None:
        raise PropertyFilterError(f"Unsupported property filter operator '{operator}'")
    target = _target(prop, env)
    value = prop.get("value")
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if operator not in _VALUELESS:
        if not values:
            return exp.true()
        if any(v is None or isinstance(v, (dict, list)) for v in values):
            raise PropertyFilterError(f"The property filter on '{prop.get('key')}' needs a value")
    return build(target, values, env)


def property_filter(filters: Any, env: FilterEnv | None = None) -> exp.Expression:
    """The HogQL condition for PostHog property filter(s); ``true`` when there are none."""
    env = env or FilterEnv()
    if env.scope not in SCOPES:
        raise PropertyFilterError(f"Unknown property filter scope '{env.scope}'")
    check_depth(filters)
    return _filter(filters, env)


def check_depth(filters: Any, depth: int = 0) -> None:
    """Refuse property filters whose AND/OR groups nest deeper than :data:`MAX_GROUP_DEPTH`
    (a list in a list counts as a group too)."""
    if depth > MAX_GROUP_DEPTH:
        raise PropertyFilterError(f"Property filters may nest at most {MAX_GROUP_DEPTH} groups deep")
    if isinstance(filters, (list, tuple)):
        for item in filters:
            check_depth(item, depth + 1 if isinstance(item, (list, tuple)) else depth)
    elif isinstance(filters, Mapping) and filters.get("type") in ("AND", "OR"):
        values = filters.get("values")
        for item in values if isinstance(values, list) else ():
            check_depth(item, depth + 1)


def _filter(filters: Any, env: FilterEnv) -> exp.Expression:
    if filters is None:
        return exp.true()
    if isinstance(filters, (list, tuple)):
        parts = [_filter(f, env) for f in filters]
        return _join(parts, "AND")
    if not isinstance(filters, Mapping):
        raise PropertyFilterError("A property filter must be an object")
    group_type = filters.get("type")
    if group_type in ("AND", "OR") and "values" in filters:
        values = filters.get("values")
        if not isinstance(values, list):
            raise PropertyFilterError("A property group needs a list of values")
        return _join([_filter(v, env) for v in values], group_type)
    return _single(filters, env)


def _join(parts: list[exp.Expression], how: str) -> exp.Expression:
    parts = [p for p in parts if not (isinstance(p, exp.Boolean) and p.this is True)] if how == "AND" else parts
    if not parts:
        return exp.true()
    if len(parts) == 1:
        return parts[0]
    joined = exp.and_(*parts) if how == "AND" else exp.or_(*parts)
    return exp.Paren(this=joined)


def to_hogql(condition: exp.Expression) -> str:
    """The condition as HogQL text (for previews and ``hogql`` response fields)."""
    from hedgerow.hogql.dialect import HogQL

    return condition.sql(HogQL)
