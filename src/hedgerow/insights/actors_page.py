"""One page of an ``ActorsQuery`` (persons or groups): run it, answer in PostHog's shape."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from hedgerow.errors import ValidationError
from hedgerow.hogql import LimitContext
from hedgerow.hogql.context import CompiledQuery
from hedgerow.hogql.parse import parse_expr
from hedgerow.insights.context import Runner
from hedgerow.insights.events_query import is_aggregation


def qualify(tree: exp.Expression, names: set[str]) -> exp.Expression:
    """Unqualified names of source columns read from the ``source`` subquery."""
    for column in list(tree.find_all(exp.Column)):
        if not column.table and column.name in names:
            column.replace(exp.column(column.name, table="source"))
    return tree


def column(text: str, names: set[str], special: dict[str, str]) -> exp.Expression:
    """A selected column: a ``special`` name, a source column (``names``), or a HogQL
    expression (not an aggregation) over the actors' table."""
    if text in special:
        return parse_expr(special[text])
    if text in names:
        return exp.column(text, table="source")
    tree = parse_expr(text, what="select")
    if is_aggregation(tree):
        raise ValidationError(f"The actors column '{text}' may not aggregate", attr="select")
    return qualify(tree, names)


def fetch(ctx: Runner, tree: exp.Expression, offset: int, limit: int) -> tuple[CompiledQuery, Any]:
    """Run ``tree`` from ``offset`` for at most ``limit`` rows: (compiled query, result)."""
    if offset:
        tree.set("offset", exp.Offset(expression=exp.Literal.number(offset)))
    compiled = ctx.compile(tree, limit_context=LimitContext(default=limit, maximum=limit))
    return compiled, ctx.execute(compiled)


def response(ctx: Runner, query: Any, selected: list[str], rows: list[list[Any]], compiled: CompiledQuery,
             has_more: Any, limit: int) -> dict[str, Any]:
    """The page's ``ActorsQuery`` response (``query`` gives the offset asked for)."""
    return {
        "results": rows,
        "columns": selected,
        "types": [t for _, t in compiled.types[:len(selected)]],
        "hasMore": bool(has_more),
        "limit": limit,
        "offset": query.offset or 0,
        "missing_actors_count": None,
        "hogql": compiled.hogql,
        "error": None,
        "timings": ctx.timings,
    }
