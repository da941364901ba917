"""``LIMIT n [OFFSET m] BY exprs`` (ClickHouse) becomes ``QUALIFY row_number() OVER (...)``.

The row number runs over the SELECT's ORDER BY within each group of ``exprs``; a plain LIMIT
on the same SELECT still applies afterwards, as in ClickHouse.
"""

from __future__ import annotations

from sqlglot import exp

from hedgerow.hogql.compilation import Compilation
from hedgerow.hogql.dialect import LIMIT_BY
from hedgerow.hogql.errors import HogQLError
from hedgerow.hogql.functions.spec import fn, literal_value


def _count(node: exp.Expression | None, what: str) -> int:
    value = literal_value(node) if node is not None else 0
    if not isinstance(value, int) or value < 0:
        raise HogQLError(f"LIMIT BY {what} must be a non-negative integer constant")
    return value


def run(c: Compilation) -> None:
    for select in list(c.tree.find_all(exp.Select)):
        limit = select.args.get(LIMIT_BY)
        if limit is None:
            continue
        select.set(LIMIT_BY, None)
        count = _count(limit.expression, "count")
        skip = _count(limit.args.get("offset"), "offset")
        order = select.args.get("order")
        window = exp.Window(
            this=fn("row_number"),
            partition_by=[e.copy() for e in limit.expressions],
            order=order.copy() if order is not None else None,
        )
        condition: exp.Expression = exp.LTE(this=window, expression=exp.Literal.number(skip + count))
        if skip:
            condition = exp.and_(
                exp.GT(this=window.copy(), expression=exp.Literal.number(skip)), condition
            )
        qualify = select.args.get("qualify")
        if qualify is not None:
            condition = exp.and_(qualify.this, condition)
        select.set("qualify", exp.Qualify(this=condition))
