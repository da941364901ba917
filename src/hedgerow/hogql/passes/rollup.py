"""ROLLUP and CUBE subtotal rows show a rolled-up key as its type's default, as ClickHouse does.

The engine gives NULL for a key a subtotal row does not group by; ClickHouse (without
``group_by_use_nulls``) gives the key type's default: '' for a String, 0 for a number, and
NULL only for a Nullable key. A non-Nullable key is never NULL in a grouped row, so
``coalesce(key, default)`` changes exactly the subtotal rows.
"""

from __future__ import annotations

from sqlglot import exp

from hedgerow.hogql.compilation import Compilation
from hedgerow.hogql.functions.defaults import default_value
from hedgerow.hogql.nodes import type_of, typed


def _keys(select: exp.Select) -> list[exp.Expression]:
    group = select.args.get("group")
    if group is None:
        return []
    return [key for e in group.expressions if isinstance(e, (exp.Rollup, exp.Cube)) for key in e.expressions]


def _defaulted(node: exp.Expression, keys: list[exp.Expression]) -> None:
    if not any(node == key for key in keys):
        return
    default = default_value(type_of(node))
    if default is not None:
        node.replace(typed(exp.Coalesce(this=node.copy(), expressions=[default]), type_of(node)))


def run(c: Compilation) -> None:
    for select in list(c.tree.find_all(exp.Select)):
        keys = _keys(select)
        if not keys:
            continue
        for item in select.expressions:
            _defaulted(item.this if isinstance(item, exp.Alias) else item, keys)
        order = select.args.get("order")
        for ordered in order.expressions if order is not None else []:
            _defaulted(ordered.this, keys)
