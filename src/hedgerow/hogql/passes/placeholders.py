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
from hedgerow.hogql.nodes import constant
from hedgerow.hogql.parse import span_of
from hedgerow.hogql.passes import filters


def value_to_node(value: Any, name: str = "value") -> exp.Expression:
    """A literal tree for a placeholder's value (JSON-ish constants only)."""
    if value is not None and not isinstance(value, (bool, int, float, str, list, tuple)):
        raise PlaceholderError(f"Unsupported value type for placeholder {{{name}}}")
    if isinstance(value, (list, tuple)):
        for item in value:
            value_to_node(item, name)
    return constant(value)


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
