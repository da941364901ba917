"""Property reads: JSON path extraction with HogQL's string semantics, typed when declared.

Default (``Nullable(String)``): ``json_extract_string(doc, '/a/b')`` — missing key or JSON null
give NULL, strings come unquoted, numbers as their JSON text, booleans as ``true``/``false``,
objects and arrays as JSON text. Typed reads cast with NULL on failure.
"""

from __future__ import annotations

from typing import Callable

from sqlglot import exp

from hedgerow.hogql.compilation import Compilation
from hedgerow.hogql.functions.json import json_pointer
from hedgerow.hogql.functions.spec import fn
from hedgerow.hogql.nodes import Property, inline_string, type_of, typed


def extraction(node: Property) -> exp.Expression:
    raw = fn("json_extract_string", node.this, inline_string(json_pointer(node.keys)))
    hog_type = type_of(node)
    if hog_type.name == "Float64":
        return exp.TryCast(this=raw, to=exp.DataType.build("DOUBLE"))
    if hog_type.name == "Bool":
        return exp.TryCast(this=raw, to=exp.DataType.build("BOOLEAN"))
    if hog_type.name == "DateTime64":
        parsed = exp.TryCast(this=raw, to=exp.DataType.build("TIMESTAMPTZ"))
        return fn("timezone", exp.Literal.string("UTC"), parsed)
    return raw


def rewrite(c: Compilation, extract: Callable[[Property], exp.Expression]) -> None:
    """Replace every property read with ``extract(read)``, keeping its type."""
    for node in list(c.tree.find_all(Property)):
        replacement = typed(extract(node), type_of(node))
        if node is c.tree:
            c.tree = replacement
        else:
            node.replace(replacement)


def run(c: Compilation) -> None:
    rewrite(c, extraction)
