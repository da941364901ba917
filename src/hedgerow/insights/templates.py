"""HogQL query templates: server-written HogQL text whose ``{name}`` holes take trees.

Insight kinds write their queries as HogQL text (readable, reviewed once) with placeholders
for everything that varies. :func:`select` parses the text and fills each placeholder with a
tree: a condition built by :mod:`hedgerow.hogql.property_filters`, an expression built here,
or a constant, which always becomes a literal node (a bound parameter), so no value is ever
spliced into query text. The result goes through the ordinary compiler like any user query.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, Mapping

from sqlglot import exp

from hedgerow.hogql.nodes import Value, constant
from hedgerow.hogql.parse import parse, parse_expr


def value(item: Any) -> exp.Expression:
    """A constant as a literal tree (datetimes and dates as compiler values)."""
    if isinstance(item, exp.Expression):
        return item
    if isinstance(item, (dt.datetime, dt.date)):
        return Value(this=item)
    return constant(item)


@functools.lru_cache(maxsize=1024)
def _parsed(text: str, whole_query: bool) -> exp.Expression:
    # templates are a fixed set of server texts: parse each once, fill a copy on every use
    return parse(text) if whole_query else parse_expr(text)


def select(text: str, **holes: Any) -> exp.Expression:
    """Parse ``text`` (one SELECT) and fill its placeholders from ``holes``."""
    return fill(_parsed(text, True).copy(), holes)


def expr(text: str, **holes: Any) -> exp.Expression:
    """Parse one HogQL expression and fill its placeholders from ``holes``."""
    return fill(_parsed(text, False).copy(), holes)


def fill(tree: exp.Expression, holes: Mapping[str, Any]) -> exp.Expression:
    """Replace each ``{name}`` in ``tree`` with ``holes[name]`` (a tree or a constant; a query
    for ``FROM ({name})``)."""
    for node in list(tree.find_all(exp.Placeholder)):
        name = node.name
        if name not in holes:
            raise KeyError(f"template placeholder {{{name}}} has no value")
        replacement = holes[name]
        if isinstance(replacement, exp.Expression):
            replacement = replacement.copy()
            if isinstance(replacement, (exp.Connector, exp.Binary, exp.Not)):
                replacement = exp.Paren(this=replacement)  # keep the hole's precedence
        else:
            replacement = value(replacement)
        if isinstance(replacement, exp.Query) and isinstance(node.parent, exp.Table):
            node = node.parent  # ``FROM ({name})``: the query is the subquery's body
        node.replace(replacement)
    return tree


def and_(*conditions: exp.Expression | None) -> exp.Expression:
    """The AND of the given conditions (``true`` when there are none)."""
    present = [c for c in conditions if c is not None]
    if not present:
        return exp.true()
    if len(present) == 1:
        return present[0]
    return exp.and_(*(exp.Paren(this=c) for c in present))
