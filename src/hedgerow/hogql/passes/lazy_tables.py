"""Build what the resolver only recorded: lazy joins and aggregate-view tables.

A lazy join becomes ``LEFT JOIN <storage table | minimal view subquery> AS parent__field ON
...`` on the SELECT where it was referenced. A view table (``sessions``, overrides) becomes a
subquery computing only the referenced fields. Nothing is added when nothing is referenced.
"""

from __future__ import annotations

from sqlglot import exp

from hedgerow.hogql import nodes
from hedgerow.hogql.compilation import Compilation
from hedgerow.hogql.resolve import Resolver, snippet
from hedgerow.hogql.schema import Aggregate
from hedgerow.hogql.scope import Source


def _ident(name: str) -> exp.Identifier:
    return exp.Identifier(this=name, quoted=True)


def _view_query(source: Source) -> exp.Select:
    table = source.table
    view = table.view
    items = [exp.Alias(this=snippet(view.key), alias=_ident(view.key_name))]
    for name in source.needed:
        definition = table.fields.get(name)
        if isinstance(definition, Aggregate):
            items.append(exp.Alias(this=snippet(definition.hogql), alias=_ident(name)))
    select = exp.Select(expressions=items).from_(exp.Table(this=_ident(view.base)))
    if view.where:
        select = select.where(snippet(view.where))
    return select.group_by(snippet(view.key))


def _target(source: Source, resolver: Resolver, pending: list) -> exp.Expression:
    alias = exp.TableAlias(this=_ident(source.alias))
    if source.table.view is not None:
        query = _view_query(source)
        resolver.query(query)
        pending.extend(query.find_all(exp.Select))
        return exp.Subquery(this=query, alias=alias)
    table = exp.Table(this=_ident(source.table.physical), alias=alias)
    table.meta[nodes.VTABLE] = source.table
    return table


def run(c: Compilation) -> None:
    resolver = Resolver(c.database, c.property_type, internal=True)
    pending = list(c.tree.find_all(exp.Select))
    while pending:
        select = pending.pop()
        scope = select.meta.get(nodes.SCOPE) if select._meta else None  # noqa: SLF001
        if scope is None:
            continue
        for source in scope.sources.values():
            if source.table is not None and source.table.view is not None:
                source.node.replace(_target(source, resolver, pending))
        if scope.lazy:
            select.set("joins", _place(select, scope.lazy, resolver, pending))
            scope.lazy = []


def _place(select: exp.Select, lazy: list[Source], resolver: Resolver, pending: list) -> list:
    """The SELECT's joins with each lazy join right after the table it hangs off.

    An explicit join's ON may use a lazy field of an earlier table (``e.person_id`` reads the
    override join), so a lazy join cannot simply go last. Lazy joins match at most one row
    per parent row, so placing them early never changes the result.
    """
    joins: list[exp.Join] = list(select.args.get("joins") or [])
    anchors: dict[str, exp.Join | None] = {}
    for join in joins:
        alias = join.this.alias_or_name
        if alias:
            anchors[alias] = join
    for source in lazy:
        side = "LEFT" if source.join.kind == "LEFT" else None
        join = exp.Join(this=_target(source, resolver, pending), on=source.on, side=side)
        anchor = anchors.get(source.parent.alias) if source.parent is not None else None
        index = 0 if anchor is None else next(i for i, j in enumerate(joins) if j is anchor) + 1
        joins.insert(index, join)
        anchors[source.parent.alias] = join
        anchors[source.alias] = join
    return joins
