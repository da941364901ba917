"""Replace ``{name}`` placeholders with constants from ``values`` (and ``{filters}``).

A value becomes a literal node (later a bound parameter): it can never change the query's
structure. A placeholder without a value is an error, except ``{variables.code_name}``
(insight variables, passed by the caller as ``values["variables.code_name"]``), which is NULL.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from hedgerow.hogql.compilation import Compilation
from hedgerow.hogql.errors import PlaceholderError
from hedgerow.hogql.parse import span_of
from hedgerow.hogql.passes import filters


def value_to_node(value: Any, name: str = "value") -> exp.Expression:
    """A literal tree for a JSON-ish constant."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(value) if value >= 0 else exp.Neg(this=exp.Literal.number(-value))
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, (list, tuple)):
        return exp.Array(expressions=[value_to_node(v, name) for v in value])
    raise PlaceholderError(f"Unsupported value type for placeholder {{{name}}}")


def run(c: Compilation) -> None:
    for node in list(c.tree.find_all(exp.Placeholder)):
        name = node.name
        if name == "filters" or name.startswith("filters."):
            replacement = filters.expand(name, node, c)
        elif name in c.ctx.values:
            replacement = value_to_node(c.ctx.values[name], name)
        elif name.startswith("variables.") and name.count(".") == 1:
            replacement = exp.Null()  # an insight variable with no value (and no default here)
        else:
            start, end = span_of(node)
            raise PlaceholderError(
                f"Placeholder {{{name}}} is not available in this context", start=start, end=end
            )
        if node is c.tree:
            raise PlaceholderError("A placeholder cannot be the whole query")
        node.replace(replacement)
