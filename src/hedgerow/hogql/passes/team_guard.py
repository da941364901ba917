"""Tenant isolation: every storage-table reference is restricted to the project's rows.

For each SELECT anywhere in the tree (subqueries, CTEs, set-query branches, lazy-join and
view subqueries), each storage table gets ``alias.team_id = <team>`` (plus its extra guards,
e.g. ``NOT is_deleted``): in the WHERE for the FROM table and CROSS/comma joins, in the ON for
INNER/LEFT joins — always ANDed *outside* the user's predicate. A SELECT with a RIGHT or FULL
join instead reads every table through a guarded subquery, since a guard in WHERE/ON could let
the outer side's other-team rows through. The renderer refuses unguarded tables.
"""

from __future__ import annotations

from sqlglot import exp

from hedgerow.hogql import nodes
from hedgerow.hogql.compilation import Compilation
from hedgerow.hogql.nodes import Value
from hedgerow.hogql.schema import VirtualTable


def _column(alias: str, name: str) -> exp.Column:
    return exp.Column(
        this=exp.Identifier(this=name, quoted=True), table=exp.Identifier(this=alias, quoted=True)
    )


def guard(alias: str, table: VirtualTable, team_id: int) -> exp.Expression:
    condition: exp.Expression = exp.EQ(this=_column(alias, "team_id"), expression=Value(this=team_id))
    for column_name, value in table.guards:
        condition = exp.and_(
            condition, exp.EQ(this=_column(alias, column_name), expression=Value(this=value))
        )
    return condition


def _and_outside(guard_expr: exp.Expression, user: exp.Expression | None) -> exp.Expression:
    if user is None:
        return guard_expr
    return exp.And(this=guard_expr, expression=exp.Paren(this=user))


def _guarded_subquery(table: exp.Table, vtable: VirtualTable, team_id: int) -> exp.Subquery:
    alias = table.alias
    inner_table = exp.Table(this=table.this.copy(), alias=exp.TableAlias(this=exp.Identifier(this=alias, quoted=True)))
    inner_table.meta[nodes.VTABLE] = vtable
    inner_table.meta[nodes.GUARDED] = True
    select = exp.Select(expressions=[exp.Star()]).from_(inner_table)
    select.set("where", exp.Where(this=guard(alias, vtable, team_id)))
    return exp.Subquery(this=select, alias=exp.TableAlias(this=exp.Identifier(this=alias, quoted=True)))


def _vtable(node: exp.Expression) -> VirtualTable | None:
    if isinstance(node, exp.Table) and node._meta:  # noqa: SLF001
        return node.meta.get(nodes.VTABLE)
    return None


def guard_select(select: exp.Select, team_id: int) -> None:
    from_ = select.args.get("from_") or select.args.get("from")
    joins = list(select.args.get("joins") or [])
    outer_joins = any((j.side or "").upper() in ("RIGHT", "FULL") for j in joins)
    where_guards: list[exp.Expression] = []
    entries = ([from_] if from_ is not None else []) + joins
    for entry in entries:
        table = entry.this
        vtable = _vtable(table)
        if vtable is None or table.meta.get(nodes.GUARDED):
            continue
        if outer_joins:
            table.replace(_guarded_subquery(table, vtable, team_id))
            continue
        condition = guard(table.alias, vtable, team_id)
        table.meta[nodes.GUARDED] = True
        on = entry.args.get("on") if isinstance(entry, exp.Join) else None
        if isinstance(entry, exp.Join) and (on is not None or entry.args.get("using")):
            entry.set("on", _and_outside(condition, on))
        else:
            where_guards.append(condition)
    if where_guards:
        where = select.args.get("where")
        combined = exp.and_(*where_guards) if len(where_guards) > 1 else where_guards[0]
        select.set("where", exp.Where(this=_and_outside(combined, where.this if where else None)))


def run(c: Compilation) -> None:
    for select in list(c.tree.find_all(exp.Select)):
        guard_select(select, c.ctx.team_id)
