"""The merged function table and combinator handling."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from hedgerow.hogql.functions import (
    aggregates,
    arrays,
    casts,
    dates,
    json,
    logic,
    math,
    strings,
    windows,
)
from hedgerow.hogql.functions.spec import Call, FunctionSpec

FAMILIES = (math, logic, casts, strings, dates, json, arrays, aggregates, windows)

FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec for family in FAMILIES for spec in family.FUNCTIONS
}

CASE_INSENSITIVE = {
    name.lower(): name
    for name in ("count", "min", "max", "sum", "avg", "coalesce", "ifNull", "nullIf", "isNull",
                 "if", "in", "not", "and", "or", "like", "ilike", "lower", "upper", "length",
                 "abs", "round", "floor", "ceil", "concat", "substring", "trim", "replace")
}  # fmt: skip


def _if_combinator(base: FunctionSpec) -> FunctionSpec:
    lowering = base.impl["duckdb"]

    def lower(call: Call) -> FunctionSpec:
        condition = call.args[-1]
        inner = replace(call, args=call.args[:-1], types=call.types[:-1], condition=condition)
        return lowering(inner)

    return replace(
        base,
        name=base.name + "If",
        min_args=base.min_args + 1,
        max_args=None if base.max_args is None else base.max_args + 1,
        returns=lambda types: base.returns(types[:-1]),
        impl={"duckdb": lower},
    )


def _or_null_combinator(base: FunctionSpec) -> FunctionSpec:
    lowering = base.impl["duckdb"]
    return replace(
        base,
        name=base.name + "OrNull",
        returns=lambda types: base.returns(types).as_nullable(),
        impl={"duckdb": lambda call: lowering(replace(call, or_null=True))},
    )


_COMBINATORS = (("OrNull", _or_null_combinator), ("If", _if_combinator))


@lru_cache(maxsize=1024)
def lookup(name: str) -> FunctionSpec | None:
    """The spec for a HogQL function name (with ``-If``/``-OrNull`` suffixes), or None."""
    spec = FUNCTIONS.get(name) or FUNCTIONS.get(CASE_INSENSITIVE.get(name.lower(), ""))
    if spec is not None:
        return spec
    for suffix, make in _COMBINATORS:
        if name.endswith(suffix) and len(name) > len(suffix):
            base = lookup(name[: -len(suffix)])
            if base is not None and base.aggregate and base.name not in windows.WINDOW_NAMES:
                return make(base)
    return None
