"""Row limits of the outermost SELECT (spec §1.5).

No LIMIT: the default is made explicit and the query is marked paginated (the engine then
fetches one more row so the caller can tell ``hasMore``). A constant LIMIT above the maximum
is lowered to it. Subqueries, CTEs and IN-subqueries are never touched.
"""

from __future__ import annotations

from sqlglot import exp

from hedgerow.hogql.compilation import Compilation
from hedgerow.hogql.errors import HogQLError
from hedgerow.hogql.functions.spec import literal_value
from hedgerow.hogql.parse import span_of



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
