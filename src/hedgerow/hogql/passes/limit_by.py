"""``LIMIT n BY exprs`` (ClickHouse) becomes ``QUALIFY row_number() OVER (...) <= n``."""

from __future__ import annotations

from sqlglot import exp

from hedgerow.hogql.compilation import Compilation
from hedgerow.hogql.functions.spec import fn
from hedgerow.hogql.passes.limits import LIMIT_BY


def run(c: Compilation) -> None:
    for select in list(c.tree.find_all(exp.Select)):
        limit = select.args.get("limit")
        if select._meta and LIMIT_BY in select.meta:  # noqa: SLF001
            limit = select.meta.pop(LIMIT_BY)
        elif limit is None or not limit.expressions:
            continue
        else:
            select.set("limit", None)
        order = select.args.get("order")
        window = exp.Window(
            this=fn("row_number"),
            partition_by=[e.copy() for e in limit.expressions],
            order=order.copy() if order is not None else None,
        )
        condition = exp.LTE(this=window, expression=limit.expression)
        qualify = select.args.get("qualify")
        if qualify is not None:
            condition = exp.and_(qualify.this, condition)
        select.set("qualify", exp.Qualify(this=condition))
