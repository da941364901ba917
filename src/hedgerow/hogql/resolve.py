"""Stage 2: give every name a meaning.

Tables resolve against the virtual catalogue (:mod:`hedgerow.hogql.schema`), CTEs and
subqueries; fields resolve to qualified storage columns (``"events"."event"``), to
:class:`~hedgerow.hogql.nodes.Property` reads of JSON columns, or through lazy joins, which
are recorded on the SELECT's :class:`~hedgerow.hogql.scope.Scope` for the lazy-join pass to
build. Function calls are checked against the allow-list and arity. Every expression gets a
type (``nodes.TYPE``). Unknown tables, fields and functions are errors naming them.
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from typing import Callable

import sqlglot
from sqlglot import exp

from hedgerow.hogql import nodes
from hedgerow.hogql import types as T
from hedgerow.hogql.dialect import LIMIT_BY, HogQL, InCohort, ParametricCall, RegexMatch
from hedgerow.hogql.errors import (
    HogQLError,
    HogQLInternalError,
    PlaceholderError,
    UnknownFieldError,
    UnknownTableError,
    UnsupportedFunctionError,
    UnsupportedSyntaxError,
)
from hedgerow.hogql.functions.dates import CALENDAR_UNITS, unit_of
from hedgerow.hogql.functions.local_time import call_zone
from hedgerow.hogql.functions.registry import lookup
from hedgerow.hogql.functions.spec import fn, literal_value
from hedgerow.hogql.nodes import Property, type_of, typed
from hedgerow.hogql.parse import span_of
from hedgerow.hogql.schema import (
    Aggregate,
    Column,
    Database,
    Expr,
    Field,
    JsonColumn,
    LazyJoin,
    Struct,
    VirtualTable,
)
from hedgerow.hogql.scope import Scope, Source
from hedgerow.hogql.types import HogType

QUERY_TYPES = (exp.Select, exp.Union, exp.Intersect, exp.Except)
SET_TYPES = (exp.Union, exp.Intersect, exp.Except)


@lru_cache(maxsize=256)
def _parse_snippet(text: str) -> exp.Expression:
    return sqlglot.parse_one(text, read=HogQL, into=exp.Condition)


def snippet(text: str) -> exp.Expression:
    """A fresh copy of a HogQL expression written in the schema (parsed once)."""
    return _parse_snippet(text).copy()


def _err(cls: type, message: str, node: exp.Expression | None) -> Exception:
    start, end = span_of(node) if node is not None else (None, None)
    return cls(message, start=start, end=end)


def output_name(item: exp.Expression) -> str:
    """The column name of a select item: its alias, a field's last part, or the item as HogQL."""
    if isinstance(item, exp.Alias):
        return item.alias
    if isinstance(item, exp.Column) and not isinstance(item.this, exp.Star):
        return item.name
    if isinstance(item, exp.Dot) and isinstance(item.expression, exp.Identifier):
        return item.expression.name
    return item.sql(HogQL)


class Resolver:
    """Resolves one query tree in place against a :class:`~hedgerow.hogql.schema.Database`."""

    def __init__(
        self,
        database: Database,
        property_type: Callable[[str, str], HogType | None],
        *,
        internal: bool = False,
    ):
        self.internal = internal
        self.database = database
        self.property_type = property_type
        self._ids = itertools.count(1)

    # ----------------------------------------------------------------- queries

    def query(
        self, node: exp.Expression, ctes: dict[str, dict[str, HogType]] | None = None
    ) -> list[tuple[str, HogType]]:
        """Resolve a SELECT / set query / parenthesised query; return its output columns."""
        ctes = dict(ctes or {})
        if isinstance(node, exp.Subquery):
            return self.query(node.this, ctes)
        if isinstance(node, SET_TYPES):
            self._with(node, ctes, Scope(ctes=ctes))
            left = self.query(node.this, ctes)
            right = self.query(node.expression, ctes)
            if len(left) != len(right):
                raise _err(
                    UnsupportedSyntaxError,
                    "All queries of a set operation must have the same number of columns",
                    node,
                )
            self._order_limit_on_set(node, left)
            return [(n, T.common([a, b])) for (n, a), (_, b) in zip(left, right)]
        if isinstance(node, exp.Select):
            return self._select(node, ctes)
        raise _err(UnsupportedSyntaxError, f"Unsupported query: {node.key}", node)

    def _order_limit_on_set(self, node: exp.Expression, columns: list[tuple[str, HogType]]):
        order = node.args.get("order")
        if order:
            scope = Scope(sources={"": Source("", columns=dict(columns))})
            for ordered in order.expressions:
                ordered.set("this", self.expr(ordered.this, scope))
                ordered.this.replace(_unqualify(ordered.this))

    def _with(self, node: exp.Expression, ctes: dict, scope: Scope) -> None:
        with_ = node.args.get("with_") or node.args.get("with")
        if not with_:
            return
        keep = []
        for cte in with_.expressions:
            name = cte.alias
            if isinstance(cte.this, QUERY_TYPES + (exp.Subquery,)):
                columns = self.query(cte.this, ctes)
                ctes[name] = dict(columns)
                scope.ctes[name] = ctes[name]
                keep.append(cte)
            else:
                scope.expr_ctes[name] = cte.this
        if keep:
            with_.set("expressions", keep)
        else:
            node.set("with_" if "with_" in node.args else "with", None)

    def _select(self, select: exp.Select, ctes: dict) -> list[tuple[str, HogType]]:
        scope = Scope(ctes=ctes)
        select.meta[nodes.SCOPE] = scope
        self._with(select, ctes, scope)
        from_ = select.args.get("from_") or select.args.get("from")
        if from_ is not None:
            self._register(from_.this, scope, ctes)
        for join in select.args.get("joins") or []:
            if (join.args.get("kind") or "").upper() == "ARRAY":
                self._array_join(join, scope)
            else:
                self._register(join.this, scope, ctes)
        for join in select.args.get("joins") or []:
            if join.args.get("using"):
                join.set("on", self._using_to_on(join, scope))
                join.set("using", None)
            if join.args.get("on") is not None:
                join.set("on", self.expr(join.args["on"], scope))

        outputs: list[tuple[str, HogType]] = []
        items: list[exp.Expression] = []
        for item in select.expressions:
            for expanded in self._expand_star(item, scope):
                name = output_name(expanded)
                inner = expanded.this if isinstance(expanded, exp.Alias) else expanded
                if isinstance(expanded, exp.Alias):
                    scope.defining.add(name)
                resolved = self.expr(inner, scope)
                scope.defining.discard(name)
                if isinstance(expanded, exp.Alias):
                    scope.aliases[name] = resolved
                aliased = typed(
                    exp.Alias(this=resolved, alias=exp.Identifier(this=name, quoted=True)),
                    type_of(resolved),
                )
                items.append(aliased)
                outputs.append((name, type_of(resolved)))
        select.set("expressions", items)

        for key in ("where", "having", "qualify"):
            clause = select.args.get(key)
            if clause is not None:
                clause.set("this", self.expr(clause.this, scope))
        group = select.args.get("group")
        if group is not None:
            group.set("expressions", [self.expr(e, scope) for e in group.expressions])
        order = select.args.get("order")
        if order is not None:
            for ordered in order.expressions:
                ordered.set("this", self.expr(ordered.this, scope))
        for window in select.args.get("windows") or []:
            self._window_spec(window, scope)
        limit_by = select.args.get(LIMIT_BY)
        if limit_by is not None:
            limit_by.set("expressions", [self.expr(e, scope) for e in limit_by.expressions])
        return outputs

    def _using_to_on(self, join: exp.Join, scope: Scope) -> exp.Expression:
        right_alias = _source_alias(join.this)
        conditions = []
        for ident in join.args["using"]:
            name = ident.name
            right = exp.Column(this=exp.to_identifier(name), table=exp.to_identifier(right_alias))
            left_alias = next(a for a in scope.sources if a != right_alias)
            left = exp.Column(this=exp.to_identifier(name), table=exp.to_identifier(left_alias))
            conditions.append(exp.EQ(this=left, expression=right))
        return exp.and_(*conditions) if conditions else exp.true()

    # ----------------------------------------------------------------- sources

    def _register(self, node: exp.Expression, scope: Scope, ctes: dict) -> None:
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Anonymous):
            self._table_function(node, scope)
            return
        if isinstance(node, exp.Table):
            if not isinstance(node.this, exp.Identifier) or node.args.get("db"):
                raise _err(UnknownTableError, f"Unknown table '{node.sql(HogQL)}'", node)
            name = node.name
            alias = node.alias or name
            if alias in scope.sources:
                raise _err(UnsupportedSyntaxError, f"Duplicate table alias '{alias}'", node)
            if name in ctes:
                scope.sources[alias] = Source(alias, columns=ctes[name], node=node)
                node.meta[nodes.CTE_REF] = True
                node.set("this", exp.Identifier(this=name, quoted=True))
                node.set("alias", exp.TableAlias(this=exp.Identifier(this=alias, quoted=True)))
                return
            table = self.database.table(name, internal=self.internal)
            if table is None:
                raise _err(UnknownTableError, f"Unknown table '{name}'", node)
            source = Source(alias, table=table, node=node)
            node.meta[nodes.SOURCE] = source
            node.set("alias", exp.TableAlias(this=exp.Identifier(this=alias, quoted=True)))
            if table.physical:
                node.set("this", exp.Identifier(this=table.physical, quoted=True))
                node.meta[nodes.VTABLE] = table
            scope.sources[alias] = source
            return
        if isinstance(node, exp.Subquery):
            alias = node.alias or f"_subquery_{next(self._ids)}"
            columns = self.query(node.this, ctes)
            node.set("alias", exp.TableAlias(this=exp.Identifier(this=alias, quoted=True)))
            scope.sources[alias] = Source(alias, columns=dict(columns), node=node)
            return
        raise _err(UnsupportedSyntaxError, f"Unsupported table expression: {node.key}", node)

    def _table_function(self, node: exp.Table, scope: Scope) -> None:
        """``numbers(N)`` / ``numbers(start, N)``: a tenant-free ``number`` column."""
        call = node.this
        if call.name != "numbers":
            raise _err(UnknownTableError, f"Unknown table function '{call.name}'", node)
        args = [literal_value(a) for a in call.expressions]
        if not 1 <= len(args) <= 2 or not all(isinstance(a, int) and a >= 0 for a in args):
            raise _err(
                UnsupportedSyntaxError,
                "numbers() takes one or two non-negative integer constants",
                node,
            )
        start, count = (0, args[0]) if len(args) == 1 else (args[0], args[1])
        alias = node.alias or "numbers"
        if alias in scope.sources:
            raise _err(UnsupportedSyntaxError, f"Duplicate table alias '{alias}'", node)
        node.set("this", fn("range", exp.Literal.number(start), exp.Literal.number(start + count)))
        node.set(
            "alias",
            exp.TableAlias(
                this=exp.Identifier(this=alias, quoted=True),
                columns=[exp.Identifier(this="number", quoted=True)],
            ),
        )
        node.meta[nodes.TENANT_FREE] = True
        scope.sources[alias] = Source(alias, columns={"number": T.UINT64}, node=node)

    def _array_join(self, join: exp.Join, scope: Scope) -> None:
        """``[LEFT] ARRAY JOIN arr [AS x], ...``: a lateral unnest of arrays of earlier tables.

        Each row repeats once per element (arrays of one clause are zipped); ``LEFT`` keeps
        rows whose array is empty. The element takes the alias, or the array's own name.
        """
        items = [join.this, *(join.expressions or [])]
        alias = f"_array_join_{next(self._ids)}"
        source = Source(alias, columns={})
        unnested: list[exp.Expression] = []
        names: list[str] = []
        for item in items:
            inner = item.this if isinstance(item, exp.Alias) else item
            if isinstance(item, exp.Alias):
                name = item.alias
            elif isinstance(item, exp.Column) and not isinstance(item.this, exp.Star):
                name = item.name
            else:
                raise _err(UnsupportedSyntaxError, "ARRAY JOIN needs an alias: ARRAY JOIN expr AS x", item)
            resolved = self.expr(inner, scope)
            array_type = type_of(resolved)
            if array_type.name not in ("Array", "Unknown"):
                raise _err(UnsupportedSyntaxError, f"ARRAY JOIN needs an array, got {array_type.clickhouse()}", item)
            item_type = array_type.item or T.UNKNOWN
            source.columns[name] = item_type
            names.append(name)
            unnested.append(exp.Alias(this=fn("unnest", resolved), alias=exp.Identifier(this=name, quoted=True)))
        lateral = exp.Subquery(
            this=exp.Select(expressions=unnested),
            alias=exp.TableAlias(this=exp.Identifier(this=alias, quoted=True)),
        )
        left = (join.side or "").upper() == "LEFT"
        join.set("this", lateral)
        join.set("expressions", None)
        join.set("kind", None if left else "CROSS")
        join.set("side", "LEFT" if left else None)
        if left:
            join.set("on", exp.true())
        scope.sources[alias] = source
        for name in names:
            scope.array_joined[name] = source

    def _expand_star(self, item: exp.Expression, scope: Scope) -> list[exp.Expression]:
        star_of: str | None = None
        if isinstance(item, exp.Star):
            star_of = ""
        elif isinstance(item, exp.Column) and isinstance(item.this, exp.Star):
            star_of = item.table
        if star_of is None:
            return [item]
        if star_of and star_of not in scope.sources:
            raise _err(UnknownTableError, f"Unknown table '{star_of}'", item)
        sources = [scope.sources[star_of]] if star_of else list(scope.sources.values())
        out: list[exp.Expression] = []
        for source in sources:
            names = list(source.columns) if source.columns is not None else list(source.table.star)
            for name in names:
                out.append(
                    exp.Column(
                        this=exp.Identifier(this=name, quoted=True),
                        table=exp.Identifier(this=source.alias, quoted=True),
                    )
                )
        if not out:
            raise _err(UnsupportedSyntaxError, "SELECT * needs a FROM clause", item)
        return out

    # ----------------------------------------------------------------- expressions

    def expr(self, node: exp.Expression, scope: Scope) -> exp.Expression:
        """Resolve one expression tree, returning the (possibly new) typed root."""
        handler = _HANDLERS.get(type(node))
        if handler is not None:
            return handler(self, node, scope)
        if isinstance(node, (exp.Column, exp.Dot)) or _is_property_bracket(node):
            return self._reference(node, scope)
        if isinstance(node, QUERY_TYPES + (exp.Subquery,)):
            inner = node.this if isinstance(node, exp.Subquery) else node
            columns = self.query(inner, scope.ctes)
            sub = node if isinstance(node, exp.Subquery) else exp.Subquery(this=node)
            return typed(sub, columns[0][1] if columns else T.UNKNOWN)
        self._children(node, scope)
        return typed(node, _infer(node))

    def _children(self, node: exp.Expression, scope: Scope) -> None:
        for key, value in list(node.args.items()):
            if isinstance(value, exp.Expression):
                if isinstance(value, exp.DataType):
                    continue
                node.set(key, self.expr(value, scope))
            elif isinstance(value, list):
                node.set(
                    key,
                    [self.expr(v, scope) if isinstance(v, exp.Expression) else v for v in value],
                )

    def _window_spec(self, node: exp.Expression, scope: Scope) -> None:
        for key in ("partition_by",):
            values = node.args.get(key)
            if values:
                node.set(key, [self.expr(v, scope) for v in values])
        order = node.args.get("order")
        if order is not None:
            for ordered in order.expressions:
                ordered.set("this", self.expr(ordered.this, scope))

    def _window(self, node: exp.Window, scope: Scope) -> exp.Expression:
        node.set("this", self.expr(node.this, scope))
        self._window_spec(node, scope)
        return typed(node, type_of(node.this))

    def _call(self, node: exp.Expression, scope: Scope) -> exp.Expression:
        name = node.name
        spec = lookup(name)
        if spec is None:
            raise _err(UnsupportedFunctionError, f"Unsupported function call '{name}(...)'", node)
        params = node.args.get("params") or [] if isinstance(node, ParametricCall) else []
        args = list(node.expressions)
        distinct = len(args) == 1 and isinstance(args[0], exp.Distinct)
        spec.check(len(args[0].expressions) if distinct else len(args), len(params), node)
        if distinct:
            args[0].set("expressions", [self.expr(a, scope) for a in args[0].expressions])
            arg_types = [type_of(a) for a in args[0].expressions]
        else:
            args = [self.expr(a, scope) for a in args]
            node.set("expressions", args)
            arg_types = [type_of(a) for a in args]
        if params:
            node.set("params", [self.expr(p, scope) for p in params])
        result = spec.return_type(arg_types, [] if distinct else args)
        if result.is_datetime and not distinct:
            result = result.in_zone(call_zone(spec, args, arg_types) or result.zone)
        return typed(node, result)

    def _lambda(self, node: exp.Lambda, scope: Scope) -> exp.Expression:
        names = {a.name for a in node.expressions}
        added = names - scope.lambda_args
        scope.lambda_args |= added
        try:
            node.set("this", self.expr(node.this, scope))
        finally:
            scope.lambda_args -= added
        return typed(node, type_of(node.this))

    def _placeholder(self, node: exp.Placeholder, scope: Scope) -> exp.Expression:
        raise _err(PlaceholderError, f"Placeholder {{{node.name}}} has no value", node)

    def _in_cohort(self, node: exp.Expression, scope: Scope) -> exp.Expression:
        raise HogQLInternalError("IN COHORT must be expanded before resolution")

    def _alias(self, node: exp.Alias, scope: Scope) -> exp.Expression:
        # An alias inside an expression (ClickHouse allows it): the alias is visible after it.
        resolved = self.expr(node.this, scope)
        scope.aliases.setdefault(node.alias, resolved)
        return resolved

    # ----------------------------------------------------------------- fields

    def _reference(self, node: exp.Expression, scope: Scope) -> exp.Expression:
        parts = _flatten(node)
        if parts is None:
            self._children(node, scope)
            return typed(node, _infer(node))
        head = parts[0]
        if isinstance(head, str) and head in scope.array_joined:
            return self.field(scope.array_joined[head], parts, scope, node)
        if isinstance(head, str) and len(parts) == 1:
            if head in scope.lambda_args:
                return typed(exp.column(head), T.UNKNOWN)
            if head in scope.aliases and head not in scope.defining:
                return scope.aliases[head].copy()
            if head in scope.expr_ctes:
                return self.expr(scope.expr_ctes[head].copy(), scope)
        if isinstance(head, str) and len(parts) > 1 and head in scope.sources:
            return self.field(scope.sources[head], parts[1:], scope, node)
        for source in scope.sources.values():
            if self._has(source, head):
                return self.field(source, parts, scope, node)
        if isinstance(head, str) and head in scope.aliases and head not in scope.defining:
            return scope.aliases[head].copy()
        raise _err(UnknownFieldError, f"Unable to resolve field: {head}", node)

    def _has(self, source: Source, name: str | int) -> bool:
        if source.columns is not None:
            return name in source.columns
        f = source.table.field(name) if isinstance(name, str) else None
        if f is None and source.table.view and name == source.table.view.key_name:
            return True
        return f is not None and not f.hidden

    def field(
        self,
        source: Source,
        parts: list,
        scope: Scope,
        node: exp.Expression | None,
        *,
        internal: bool = False,
        fields: dict | None = None,
    ) -> exp.Expression:
        """Resolve a field path within ``source`` (optionally within a struct's ``fields``)."""
        name = parts[0]
        rest = parts[1:]
        if source.columns is not None:
            if name not in source.columns:
                raise _err(UnknownFieldError, f"Unable to resolve field: {name}", node)
            col = nodes.column(source.alias, name, source.columns[name])
            if rest:
                if source.columns[name].name not in ("JSON", "String", "Unknown"):
                    raise _err(UnknownFieldError, f"Field '{name}' has no member {rest[0]}", node)
                return self._property(col, rest, "event")
            return col
        table = source.table
        if fields is None and table.view and name == table.view.key_name:
            source.needed[name] = _view_key_type(table)
            return nodes.column(source.alias, name, source.needed[name])
        definition: Field | None = (fields or table.fields).get(name) if isinstance(name, str) else None
        if definition is None or (definition.hidden and not internal):
            raise _err(
                UnknownFieldError, f"Unable to resolve field: {name} (table {table.name})", node
            )
        if isinstance(definition, Column):
            if rest:
                raise _err(UnknownFieldError, f"Field '{name}' has no member {rest[0]}", node)
            return nodes.column(source.alias, definition.physical, definition.type)
        if isinstance(definition, JsonColumn):
            col = nodes.column(source.alias, definition.physical, T.JSON)
            return self._property(col, rest, definition.scope) if rest else col
        if isinstance(definition, Aggregate):
            source.needed[name] = definition.type
            col = nodes.column(source.alias, name, definition.type)
            return self._property(col, rest, "session") if rest else col
        if isinstance(definition, Expr):
            resolved = self._bound(snippet(definition.hogql), source, scope)
            return typed(resolved, definition.type)
        if isinstance(definition, Struct):
            if not rest:
                raise _err(UnknownFieldError, f"Field '{name}' needs a member", node)
            return self.field(source, rest, scope, node, internal=internal, fields=definition.fields)
        if isinstance(definition, LazyJoin):
            child = self._lazy(source, name, definition, scope)
            if not rest:
                raise _err(UnknownFieldError, f"Field '{name}' needs a member", node)
            return self.field(child, rest, scope, node)
        raise HogQLInternalError(f"unknown field kind {definition!r}")

    def _bound(self, node: exp.Expression, source: Source, scope: Scope) -> exp.Expression:
        """Resolve a schema expression whose bare names are fields of ``source``."""
        for col in list(node.find_all(exp.Column)):
            parts = _flatten(col)
            replacement = self.field(source, parts, scope, None, internal=True)
            if col is node:
                return replacement
            col.replace(replacement)
        return self._typed_tree(node)

    def _typed_tree(self, node: exp.Expression) -> exp.Expression:
        if isinstance(node, (exp.Anonymous, ParametricCall)):
            for arg in node.expressions:
                if nodes.TYPE not in arg.meta:
                    typed(arg, _infer(arg))
            spec = lookup(node.name)
            return typed(node, spec.return_type([type_of(a) for a in node.expressions], node.expressions))
        return typed(node, _infer(node))

    def _lazy(self, source: Source, name: str, join: LazyJoin, scope: Scope) -> Source:
        key = name
        child = source.children.get(key)
        if child is not None and child in scope.lazy:
            return child
        table = self.database.table(join.target, internal=True)
        if table is None:
            raise HogQLInternalError(f"lazy join target {join.target} missing")
        alias = f"{source.alias}__{name.lstrip('_')}"
        child = Source(alias, table=table, parent=source, join=join)
        local = self._bound(snippet(join.local), source, scope)
        remote = self.field(child, [join.remote], scope, None, internal=True)
        condition: exp.Expression = exp.EQ(this=remote, expression=local)
        for field_name, constant in join.constants:
            target = self.field(child, [field_name], scope, None, internal=True)
            condition = exp.and_(
                condition, exp.EQ(this=target, expression=nodes.constant(constant)), copy=False
            )
        child.on = condition
        source.children[key] = child
        scope.lazy.append(child)
        return child

    def _property(self, col: exp.Expression, path: list, scope_name: str) -> exp.Expression:
        prop = Property(this=col, path=list(path), scope=scope_name)
        hog_type = T.NULLABLE_STRING
        if len(path) == 1 and isinstance(path[0], str):
            hog_type = self.property_type(scope_name, path[0]) or T.NULLABLE_STRING
        return typed(prop, hog_type)


def _view_key_type(table: VirtualTable) -> HogType:
    return T.STRING


def _source_alias(node: exp.Expression) -> str:
    return node.alias or node.name


def _unqualify(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Column) and node.table == "":
        node.set("table", None)
    return node


def _is_property_bracket(node: exp.Expression) -> bool:
    return (
        isinstance(node, exp.Bracket)
        and len(node.expressions) == 1
        and isinstance(node.expressions[0], exp.Literal)
        and node.expressions[0].is_string
        and isinstance(node.this, (exp.Column, exp.Dot, exp.Bracket))
    )


def _flatten(node: exp.Expression) -> list | None:
    """``a.b.c``/``a['b']`` chains as a list of parts; None when not a plain chain."""
    if isinstance(node, exp.Column):
        parts = [p.name for p in reversed(node.parts)] if False else [p.name for p in node.parts]
        if isinstance(node.this, exp.Literal):  # x.1 (tuple element / array index)
            parts[-1] = int(node.this.name)
        return parts
    if isinstance(node, exp.Dot):
        left = _flatten(node.this)
        if left is None:
            return None
        right = node.expression
        if isinstance(right, exp.Identifier):
            return [*left, right.name]
        if isinstance(right, exp.Literal):
            return [*left, int(right.name) if not right.is_string else right.name]
        return None
    if _is_property_bracket(node):
        left = _flatten(node.this)
        return None if left is None else [*left, node.expressions[0].name]
    return None


def _infer(node: exp.Expression) -> HogType:
    rule = _TYPE_RULES.get(type(node))
    if rule is not None:
        return rule(node)
    return T.UNKNOWN


def _int_literal_type(value: str) -> HogType:
    number = int(value)
    for name, bound in (("UInt8", 2**8), ("UInt16", 2**16), ("UInt32", 2**32)):
        if number < bound:
            return HogType(name)
    return T.UINT64 if number < 2**64 else T.FLOAT64


def _literal_type(node: exp.Literal) -> HogType:
    if node.is_string:
        return T.STRING
    text = node.name
    if text.isdigit():
        return _int_literal_type(text)
    return T.FLOAT64


def _interval_unit(node: exp.Interval) -> str | None:
    unit = node.args.get("unit")
    try:
        return unit_of(exp.Literal.string(unit.name)) if unit is not None else "second"
    except HogQLError:
        return None


def _shifted(value: HogType, interval: HogType, nullable: bool) -> HogType:
    """``Date ± INTERVAL`` stays a Date for whole days or more, else becomes a DateTime."""
    if value.is_date and interval.unit not in CALENDAR_UNITS:
        return T.DATETIME.as_nullable(nullable)
    return value.as_nullable(nullable)


def _arith(node: exp.Expression) -> HogType:
    left, right = type_of(node.this), type_of(node.expression)
    nullable = left.nullable or right.nullable
    if left.is_temporal and right.name == "Interval":
        return _shifted(left, right, nullable)
    if right.is_temporal and left.name == "Interval":
        return _shifted(right, left, nullable)
    if isinstance(node, exp.Sub) and left.is_temporal and right.is_temporal:
        return T.INT64.as_nullable(nullable)
    if left.is_numeric and right.is_numeric:
        if left.name.startswith("Float") or right.name.startswith("Float"):
            return T.FLOAT64.as_nullable(nullable)
        return T.INT64.as_nullable(nullable)
    return HogType(left.name if left.name != "Unknown" else right.name, nullable)


def _branches(node: exp.Expression) -> HogType:
    if isinstance(node, exp.If):
        values = [node.args.get("true"), node.args.get("false")]
    else:  # Case
        values = [i.args.get("true") for i in node.args.get("ifs") or []]
        values.append(node.args.get("default"))
    present = [type_of(v) for v in values if v is not None]
    if any(v is None for v in values):
        present.append(T.NOTHING)
    return T.common(present)


def _coalesce(node: exp.Coalesce) -> HogType:
    args = [node.this, *node.expressions]
    types = [type_of(a) for a in args]
    result = T.common(types)
    return result.as_nullable(all(t.nullable for t in types))


def _cast(node: exp.Expression) -> HogType:
    from hedgerow.hogql.functions.casts import cast_target_type

    return cast_target_type(node.args["to"], type_of(node.this))


def _bracket(node: exp.Bracket) -> HogType:
    inner = type_of(node.this)
    if inner.name == "Array" and inner.item is not None:
        return inner.item
    return T.UNKNOWN


BOOL_RESULT = lambda node: T.UINT8  # noqa: E731

_TYPE_RULES: dict[type, Callable[[exp.Expression], HogType]] = {
    exp.Literal: _literal_type,
    exp.Null: lambda n: T.NOTHING,
    exp.Boolean: lambda n: T.BOOL,
    exp.Paren: lambda n: type_of(n.this),
    exp.Neg: lambda n: (
        T.INT64 if type_of(n.this).name.startswith("UInt") else type_of(n.this)
    ),
    exp.Add: _arith,
    exp.Sub: _arith,
    exp.Mul: _arith,
    exp.Div: lambda n: T.FLOAT64.as_nullable(type_of(n.this).nullable or type_of(n.expression).nullable),
    exp.Mod: _arith,
    exp.IntDiv: lambda n: T.INT64,
    exp.DPipe: lambda n: T.STRING,
    exp.If: _branches,
    exp.Case: _branches,
    exp.Coalesce: _coalesce,
    exp.Cast: _cast,
    exp.TryCast: _cast,
    exp.Interval: lambda n: T.interval_of(_interval_unit(n)),
    exp.Array: lambda n: T.array_of(T.common([type_of(e) for e in n.expressions]) if n.expressions else T.NOTHING),
    exp.Tuple: lambda n: HogType("Tuple"),
    exp.Bracket: _bracket,
    exp.Trim: lambda n: T.STRING.as_nullable(type_of(n.this).nullable),
    **{
        cls: BOOL_RESULT
        for cls in (
            exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like, exp.ILike, exp.In,
            exp.Between, exp.Is, exp.Not, exp.And, exp.Or, exp.Xor, exp.NullSafeEQ,
            exp.NullSafeNEQ, exp.Exists, RegexMatch, InCohort,
        )
    },
}  # fmt: skip

_HANDLERS: dict[type, Callable[[Resolver, exp.Expression, Scope], exp.Expression]] = {
    exp.Anonymous: Resolver._call,
    ParametricCall: Resolver._call,
    exp.Window: Resolver._window,
    exp.Lambda: Resolver._lambda,
    exp.Placeholder: Resolver._placeholder,
    InCohort: Resolver._in_cohort,
    exp.Alias: Resolver._alias,
}


def resolve(tree: exp.Expression, database: Database, property_type) -> list[tuple[str, HogType]]:
    """Resolve ``tree`` in place; return the output columns (name, type) of the query."""
    return Resolver(database, property_type).query(tree)
