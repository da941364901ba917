"""Limits a query runs under: rows of the outermost SELECT (spec §1.5), and value sizes.

No LIMIT: the default is made explicit and the query is marked paginated (the engine then
fetches one more row so the caller can tell ``hasMore``). A constant LIMIT above the maximum
is lowered to it. Subqueries, CTEs and IN-subqueries are never touched.

Value sizes (:func:`guard_sizes`): the engine functions that build one value whose size an
argument decides (``range``, ``repeat``, ``lpad``, ``rpad``) get that argument checked at run
time. DuckDB evaluates them 2,048 rows at a time and their memory is not counted by its
memory limit, so one unchecked ``range(10000000)`` (or ``repeat`` over many rows) takes
gigabytes before anything can stop it. With the caps one batch of 2,048 values stays in the
tens of MB (``range``: 2,048 x 1,000 x 8 bytes; strings: 2,048 x 10,000), small steps the
memory guard can stop between.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from hedgerow.hogql.compilation import Compilation
from hedgerow.hogql.errors import LIMIT_EXCEEDED, HogQLError
from hedgerow.hogql.functions.spec import ENGINE_CALL, fn, literal_value
from hedgerow.hogql.parse import span_of

MAX_RANGE_ELEMENTS = 1_000
"""Elements one ``range()`` may produce (ClickHouse bounds the elements of a block instead)."""
MAX_STRING_CHARS = 10_000
"""Characters one ``repeat()``/``leftPad()``/``rightPad()`` may produce."""


def _outer(tree: exp.Expression) -> exp.Expression:
    while isinstance(tree, exp.Subquery):
        tree = tree.this
    return tree


def run(c: Compilation) -> None:
    """Decide the effective LIMIT/OFFSET on the HogQL tree (before it is printed)."""
    query = _outer(c.tree)
    limits = c.ctx.limit_context
    limit = query.args.get("limit")
    offset = query.args.get("offset")
    if offset is not None:
        value = literal_value(offset.expression)
        if not isinstance(value, int) or value < 0:
            start, end = span_of(offset)
            raise HogQLError("OFFSET must be a non-negative integer constant", start=start, end=end)
        c.offset = value
    if limit is None or limit.expression is None:
        c.limit, c.paginated = limits.default, True
        query.set("limit", exp.Limit(expression=exp.Literal.number(limits.default)))
        return
    value = literal_value(limit.expression)
    if not isinstance(value, int) or value < 0:
        start, end = span_of(limit)
        raise HogQLError("LIMIT must be a non-negative integer constant", start=start, end=end)
    if value > limits.maximum:
        value = limits.maximum
        limit.set("expression", exp.Literal.number(value))
    c.limit = value


def fetch_one_more(c: Compilation) -> None:
    """For paginated queries, fetch ``limit + 1`` rows so ``hasMore`` can be computed."""
    if not c.paginated:
        return
    query = _outer(c.tree)
    query.args["limit"].set("expression", exp.Literal.number(c.limit + 1))


def _checked(size: exp.Expression, bound: exp.Expression, limit: int, message: str) -> exp.Expression:
    """``size`` when ``bound <= limit``, else an engine error carrying ``message``."""
    fail = fn("error", exp.Literal.string(LIMIT_EXCEEDED + message))
    ok = exp.LTE(this=exp.Paren(this=bound), expression=exp.Literal.number(limit))
    return exp.Case(ifs=[exp.If(this=ok, true=size)], default=fail)


def _range_guard(args: list[exp.Expression]) -> None:
    message = f"range() may produce at most {MAX_RANGE_ELEMENTS} elements"
    if len(args) == 1:
        args[0] = _checked(args[0], args[0].copy(), MAX_RANGE_ELEMENTS, message)
        return
    span = exp.Sub(this=exp.Paren(this=args[1].copy()), expression=exp.Paren(this=args[0].copy()))
    if len(args) == 3:  # (end - start) / step elements, either direction
        span = exp.Div(this=exp.Paren(this=span), expression=exp.Paren(this=args[2].copy()))
    args[1] = _checked(args[1], fn("abs", span), MAX_RANGE_ELEMENTS, message)


def _string_guard(name: str) -> Callable[[list[exp.Expression]], None]:
    def guard(args: list[exp.Expression]) -> None:
        message = f"{name}() may produce at most {MAX_STRING_CHARS} characters"
        args[1] = _checked(args[1], args[1].copy(), MAX_STRING_CHARS, message)

    return guard


_SIZED = {"range": _range_guard, "repeat": _string_guard("repeat"),
          "lpad": _string_guard("leftPad"), "rpad": _string_guard("rightPad")}  # fmt: skip
"""Engine function -> how to check the argument that decides its value's size."""


def guard_sizes(c: Compilation) -> None:
    """Check the size arguments of the engine calls in :data:`_SIZED` (after lowering)."""
    for node in list(c.tree.find_all(exp.Anonymous)):
        guard = _SIZED.get(str(node.this).lower())
        if guard is None or not (node._meta and node.meta.get(ENGINE_CALL)):  # noqa: SLF001
            continue
        if isinstance(node.parent, exp.Table):  # numbers(): a table function streams its rows
            continue
        args = list(node.expressions)
        if not args or (str(node.this).lower() != "range" and len(args) < 2):
            continue
        guard(args)
        node.set("expressions", args)
