"""Property operators, compiled once per filter and dispatched from a table.

:func:`compile_filter` turns one property filter (``{"key", "value", "operator"}``)
into a :data:`Matcher`, a function of the property map and the evaluation clock. The
rules are the server's (``properties/property_matching.rs``) with a *complete* property
map, i.e. a missing key is a definite answer, not "inconclusive":

* ``is_set`` / ``is_not_set`` only look at whether the key is present;
* every other operator is False when the filter has no ``value`` (absent or null);
* when the key is missing the operator's :attr:`Operator.when_missing` answers: True
  for the negative operators (``is_not``, ``not_icontains``, ``not_regex``,
  ``not_starts_with``, ``not_ends_with``, ``not_icontains_multi``, ``not_between``),
  False for the rest;
* a filter value the operator cannot use (a bad regex, a non-numeric ``gt`` bound, an
  invalid semver) makes the operator False whenever the key is present;
* ``in`` / ``not_in`` (cohorts) and ``flag_evaluates_to`` (flag dependencies) are
  handled by the evaluator; as plain property operators they are always False.
"""

from __future__ import annotations

import operator as op
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from hedgerow.flags import semver
from hedgerow.flags.dates import Clock, parse_absolute, parse_relative, property_instant
from hedgerow.flags.patterns import compile_pattern
from hedgerow.flags.values import (
    ascii_lower,
    is_truthy,
    is_truthy_or_falsy,
    to_number,
    to_text,
)

#: A compiled filter: ``matcher(properties, clock) -> bool``.
Matcher = Callable[[Mapping[str, Any], Clock], bool]
#: A test of a present property value: ``test(value, clock) -> bool``.
Test = Callable[[Any, Clock], bool]

_MISSING = object()


def _never(_value: Any, _clock: Clock) -> bool:
    return False


def never(_properties: Mapping[str, Any], _clock: Clock) -> bool:
    """The matcher of a filter that can never match."""
    return False


@dataclass(frozen=True)
class Operator:
    """How one operator treats a missing key, and how it prepares its test."""

    when_missing: bool
    prepare: Callable[[Any], Test]


# -- equality -------------------------------------------------------------------------


def _exact(value: Any) -> Test:
    if is_truthy_or_falsy(value):
        expected = is_truthy(value)
        return lambda v, _c: is_truthy(v) == expected
    if isinstance(value, list):
        targets = frozenset(to_text(item).lower() for item in value)
        return lambda v, _c: to_text(v).lower() in targets
    target = to_text(value).lower()
    return lambda v, _c: to_text(v).lower() == target


def _is_not(value: Any) -> Test:
    exact = _exact(value)
    return lambda v, c: not exact(v, c)


# -- text -------------------------------------------------------------------------------


def _text(check: Callable[[str, str], bool], negate: bool) -> Callable[[Any], Test]:
    def prepare(value: Any) -> Test:
        needle = ascii_lower(to_text(value))
        if negate:
            return lambda v, _c: not check(ascii_lower(to_text(v)), needle)
        return lambda v, _c: check(ascii_lower(to_text(v)), needle)

    return prepare


def _contains(haystack: str, needle: str) -> bool:
    return needle in haystack


def _icontains_multi(negate: bool) -> Callable[[Any], Test]:
    def prepare(value: Any) -> Test:
        items = value if isinstance(value, list) else [value]
        needles = tuple(ascii_lower(to_text(item)) for item in items)

        def test(v: Any, _c: Clock) -> bool:
            haystack = ascii_lower(to_text(v))
            return any(n in haystack for n in needles) != negate

        return test

    return prepare


def _regex(negate: bool) -> Callable[[Any], Test]:
    def prepare(value: Any) -> Test:
        pattern = compile_pattern(to_text(value))
        if pattern is None:
            return _never  # an invalid pattern is no match for regex and not_regex alike

        def test(v: Any, _c: Clock) -> bool:
            found = pattern.search(to_text(v))
            if found is None:
                return False  # the search gave up: an error, so no match either way
            return found != negate

        return test

    return prepare


# -- numbers ----------------------------------------------------------------------------


def _numeric(compare: Callable[[float, float], bool]) -> Callable[[Any], Test]:
    def prepare(value: Any) -> Test:
        bound = to_number(value)
        if bound is None:
            return _never

        def test(v: Any, _c: Clock) -> bool:
            number = to_number(v)
            return number is not None and compare(number, bound)

        return test

    return prepare


def _between(negate: bool) -> Callable[[Any], Test]:
    def prepare(value: Any) -> Test:
        if not isinstance(value, list) or len(value) != 2:
            return _never
        low, high = to_number(value[0]), to_number(value[1])
        if low is None or high is None or low != low or high != high or low > high:
            return _never

        def test(v: Any, _c: Clock) -> bool:
            number = to_number(v)
            if number is None or number != number:
                return False  # not a number, or NaN: no match for both operators
            return (low <= number <= high) != negate

        return test

    return prepare


# -- semver -----------------------------------------------------------------------------


def _semver_compare(compare: Callable[[Any, Any], bool], *, equality: bool) -> Callable[[Any], Test]:
    def prepare(value: Any) -> Test:
        bound = semver.parse_version(value)
        if bound is None:
            return _never
        bound_key = bound if equality else bound.sort_key

        def test(v: Any, _c: Clock) -> bool:
            version = semver.parse_version(v)
            if version is None:
                return False
            return compare(version if equality else version.sort_key, bound_key)

        return test

    return prepare


def _semver_range(make: Callable[[Any], semver.Requirement | None]) -> Callable[[Any], Test]:
    def prepare(value: Any) -> Test:
        requirement = make(value)
        if requirement is None:
            return _never

        def test(v: Any, _c: Clock) -> bool:
            version = semver.parse_version(v)
            return version is not None and requirement.matches(version)

        return test

    return prepare


# -- dates ------------------------------------------------------------------------------


def _date(compare: Callable[[int, int], bool]) -> Callable[[Any], Test]:
    def prepare(value: Any) -> Test:
        if not isinstance(value, str):
            return _never
        relative = parse_relative(value)
        if relative is not None:
            number, unit = relative

            def test_relative(v: Any, clock: Clock) -> bool:
                instant = property_instant(v, clock)
                bound = clock.relative(number, unit)
                return instant is not None and bound is not None and compare(instant, bound)

            return test_relative

        def test_absolute(v: Any, clock: Clock) -> bool:
            instant = property_instant(v, clock)
            if instant is None:
                return False
            bound = parse_absolute(value, clock.tz)  # cached per (text, zone)
            return bound is not None and compare(instant, bound)

        return test_absolute

    return prepare


def _unsupported(_value: Any) -> Test:
    return _never


OPERATORS: dict[str, Operator] = {
    "exact": Operator(False, _exact),
    "is_not": Operator(True, _is_not),
    "icontains": Operator(False, _text(_contains, negate=False)),
    "not_icontains": Operator(True, _text(_contains, negate=True)),
    "starts_with": Operator(False, _text(str.startswith, negate=False)),
    "not_starts_with": Operator(True, _text(str.startswith, negate=True)),
    "ends_with": Operator(False, _text(str.endswith, negate=False)),
    "not_ends_with": Operator(True, _text(str.endswith, negate=True)),
    "icontains_multi": Operator(False, _icontains_multi(negate=False)),
    "not_icontains_multi": Operator(True, _icontains_multi(negate=True)),
    "regex": Operator(False, _regex(negate=False)),
    "not_regex": Operator(True, _regex(negate=True)),
    "gt": Operator(False, _numeric(op.gt)),
    "gte": Operator(False, _numeric(op.ge)),
    "lt": Operator(False, _numeric(op.lt)),
    "lte": Operator(False, _numeric(op.le)),
    "between": Operator(False, _between(negate=False)),
    "not_between": Operator(True, _between(negate=True)),
    "semver_eq": Operator(False, _semver_compare(op.eq, equality=True)),
    "semver_neq": Operator(False, _semver_compare(op.ne, equality=True)),
    "semver_gt": Operator(False, _semver_compare(op.gt, equality=False)),
    "semver_gte": Operator(False, _semver_compare(op.ge, equality=False)),
    "semver_lt": Operator(False, _semver_compare(op.lt, equality=False)),
    "semver_lte": Operator(False, _semver_compare(op.le, equality=False)),
    "semver_tilde": Operator(False, _semver_range(semver.tilde)),
    "semver_caret": Operator(False, _semver_range(semver.caret)),
    "semver_wildcard": Operator(False, _semver_range(semver.wildcard)),
    "is_date_before": Operator(False, _date(op.lt)),
    "is_date_after": Operator(False, _date(op.gt)),
    "is_date_exact": Operator(False, _date(op.eq)),
    "in": Operator(False, _unsupported),
    "not_in": Operator(False, _unsupported),
    "flag_evaluates_to": Operator(False, _unsupported),
}

#: Operators that only ask whether the key is present.
PRESENCE_OPERATORS = ("is_set", "is_not_set")


def compile_filter(prop: Mapping[str, Any]) -> Matcher:
    """Compile one property filter into a matcher over a complete property map."""
    key = prop.get("key")
    if not isinstance(key, str):
        return never
    name = prop.get("operator") or "exact"
    if name == "is_set":
        return lambda props, _c: key in props
    if name == "is_not_set":
        return lambda props, _c: key not in props
    operator = OPERATORS.get(name)
    value = prop.get("value")
    if operator is None or value is None:
        return never
    test = operator.prepare(value)
    when_missing = operator.when_missing

    def matcher(props: Mapping[str, Any], clock: Clock) -> bool:
        found = props.get(key, _MISSING)
        if found is _MISSING:
            return when_missing
        return test(found, clock)

    return matcher


def match_property(prop: Mapping[str, Any], properties: Mapping[str, Any], clock: Clock) -> bool:
    """Match one filter against a complete property map (compiles it each call)."""
    return compile_filter(prop)(properties, clock)
