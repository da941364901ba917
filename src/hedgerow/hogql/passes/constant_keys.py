"""Constant ORDER BY / GROUP BY keys are dropped: they order or group nothing.

``ORDER BY now()`` or ``ORDER BY 'x'`` (or an alias of a constant) is a no-op in ClickHouse;
DuckDB refuses a bound parameter there. Integer literals stay: both engines read them as
positions (``GROUP BY 1``).
"""

from __future__ import annotations

from sqlglot import exp

from hedgerow.hogql.compilation import Compilation
from hedgerow.hogql.nodes import Value

CONSTANTS = (Value, exp.Null, exp.Boolean)


def _constant(node: exp.Expression) -> bool:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Literal):
        return node.is_string
    return isinstance(node, CONSTANTS)


def run(c: Compilation) -> None:
    for select in list(c.tree.find_all(exp.Select)):
        order = select.args.get("order")
        if order is not None:
            kept = [o for o in order.expressions if not _constant(o.this)]
            select.set("order", exp.Order(expressions=kept) if kept else None)
        group = select.args.get("group")
        if group is not None:
            kept = [g for g in group.expressions if not _constant(g)]
            select.set("group", exp.Group(expressions=kept) if kept else None)
