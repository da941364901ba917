"""Lower HogQL calls and operators to the engine, from the function table.

Each call's lowering comes from its :class:`~hedgerow.hogql.functions.spec.FunctionSpec`
for the target engine; windows are attached to the aggregate core inside any default
wrapping. Works bottom-up so every lowering sees already-lowered arguments.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from sqlglot import exp

from hedgerow.hogql.compilation import Compilation
from hedgerow.hogql.dialect import ParametricCall, RegexMatch
from hedgerow.hogql.errors import HogQLError, HogQLInternalError
from hedgerow.hogql.functions.aggregates import CORE
from hedgerow.hogql.functions.arrays import element
from hedgerow.hogql.functions.dates import interval, interval_parts, shift, unit_of
from hedgerow.hogql.functions.local_time import call_zone, zone_index
from hedgerow.hogql.functions.registry import lookup
from hedgerow.hogql.functions.spec import Call, fn
from hedgerow.hogql.functions.windows import require_window
from hedgerow.hogql.nodes import type_of, typed


def _lower_call(node: exp.Expression, c: Compilation, window: exp.Window | None) -> exp.Expression:
    spec = lookup(node.name)
    if spec is None:
        raise HogQLInternalError(f"unresolved function {node.name}")
    require_window(spec.name, window is not None)
    args = list(node.expressions)
    distinct = len(args) == 1 and isinstance(args[0], exp.Distinct)
    if distinct:
        args = list(args[0].expressions)
    types = [type_of(a) for a in args]
    env = c.env
    zone = call_zone(spec, args, types)
    if zone is not None:
        env = replace(env, timezone=zone)
    index = zone_index(spec, args)
    if index is not None:
        del args[index], types[index]
    call = Call(
        name=spec.name,
        args=args,
        types=types,
        params=list(node.args.get("params") or []) if isinstance(node, ParametricCall) else [],
        result=type_of(node),
        env=env,
        distinct=distinct,
        window=window,
    )
    return spec.impl[c.engine](call)


def _attach_window(lowered: exp.Expression, window: exp.Window) -> exp.Expression:
    core = next(
        (n for n in lowered.walk() if isinstance(n, exp.Expression) and n._meta and n.meta.get(CORE)),  # noqa: SLF001
        None,
    )
    if core is None:  # constant result (e.g. leadInFrame outside its frame)
        return lowered
    over = window.copy()
    over.set("this", None)
    replacement = exp.Window(**{**over.args, "this": core.copy()})
    if core is lowered:
        return replacement
    core.replace(replacement)
    return lowered


def _interval(node: exp.Interval) -> exp.Expression:
    unit = node.args.get("unit")
    unit_name = unit_of(exp.Literal.string(unit.name)) if unit is not None else "second"
    amount = node.this
    return interval(amount, unit_name)


def _regex(node: RegexMatch) -> exp.Expression:
    args = [node.this, node.expression]
    if node.args.get("insensitive"):
        args.append(exp.Literal.string("i"))
    match = fn("regexp_matches", *args)
    return exp.Not(this=match) if node.args.get("negated") else match


def _bracket(node: exp.Bracket) -> exp.Expression:
    if len(node.expressions) != 1:
        raise HogQLError("Array access takes one index")
    return element(node.this, node.expressions[0], type_of(node))


def _shifted_date(node: exp.Expression, c: Compilation) -> exp.Expression:
    """``Date ± INTERVAL n DAY`` stays a Date (DuckDB would give a TIMESTAMP); ``DateTime ±
    INTERVAL n DAY`` keeps its wall clock in its zone."""
    value, moved_by = node.this, node.expression
    if isinstance(node, exp.Add) and type_of(value).name == "Interval":
        value, moved_by = moved_by, value
    if type_of(moved_by).name != "Interval":
        return node
    if type_of(node).is_date:
        return exp.Cast(this=node.copy(), to=exp.DataType.build("DATE"))
    if type_of(value).is_datetime:
        amount, unit = interval_parts(moved_by)
        sign = 1 if isinstance(node, exp.Add) else -1
        return shift(value.copy(), type_of(value), amount.copy(), unit, sign, c.env)
    return node


def _lower(node: exp.Expression, c: Compilation) -> exp.Expression:
    if isinstance(node, exp.Window) and isinstance(node.this, (exp.Anonymous, ParametricCall)):
        if node.this._meta and node.this.meta.get("hog_engine_call"):  # noqa: SLF001
            return node
        return _attach_window(_lower_call(node.this, c, node), node)
    if isinstance(node, (exp.Anonymous, ParametricCall)):
        if node._meta and node.meta.get("hog_engine_call"):  # noqa: SLF001
            return node
        if isinstance(node.parent, exp.Window) and node.arg_key == "this":
            return node
        return _lower_call(node, c, None)
    if isinstance(node, exp.Interval):
        return _interval(node)
    if isinstance(node, RegexMatch):
        return _regex(node)
    if isinstance(node, (exp.Like, exp.ILike)) and not isinstance(node.parent, exp.Escape):
        # ClickHouse's LIKE patterns escape with a backslash; DuckDB's only when told.
        return exp.Escape(this=node.copy(), expression=exp.Literal.string("\\"))
    if isinstance(node, exp.Bracket):
        return _bracket(node)
    if isinstance(node, (exp.Add, exp.Sub)):
        return _shifted_date(node, c)
    return node


LOWERED = (
    exp.Anonymous, ParametricCall, exp.Window, exp.Interval, RegexMatch, exp.Bracket, exp.Add,
    exp.Sub, exp.Like, exp.ILike,
)  # fmt: skip


def lower_bottom_up(c: Compilation, kinds: tuple[type, ...],
                    lower: Callable[[exp.Expression, Compilation], exp.Expression]) -> None:  # fmt: skip
    """Replace each node of ``kinds`` with ``lower(node)``, children first, keeping its type."""
    for node in reversed(list(c.tree.walk(bfs=False))):
        if not isinstance(node, kinds):
            continue
        lowered = lower(node, c)
        if lowered is node:
            continue
        typed(lowered, type_of(node))
        if node is c.tree:
            c.tree = lowered
        else:
            node.replace(lowered)


def run(c: Compilation) -> None:
    lower_bottom_up(c, LOWERED, _lower)
