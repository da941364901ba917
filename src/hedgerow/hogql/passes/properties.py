"""Property reads: JSON path extraction with HogQL's string semantics, typed when declared.

Default (``Nullable(String)``): ``json_extract_string(doc, '/a/b')`` — missing key or JSON null
give NULL, strings come unquoted, numbers as their JSON text, booleans as ``true``/``false``,
objects and arrays as JSON text. Typed reads cast with NULL on failure. A hot event property
(:data:`~hedgerow.hogql.hot_properties.DUCKDB_MATERIALIZED`) of the storage ``events``
table reads its materialised column instead, which holds that same text.
"""

from __future__ import annotations

from typing import Callable, Mapping

from sqlglot import exp

from hedgerow.hogql.compilation import Compilation
from hedgerow.hogql.functions.json import json_pointer
from hedgerow.hogql.functions.spec import fn
from hedgerow.hogql.nodes import Property, inline_string, type_of, typed
from hedgerow.hogql.hot_properties import DUCKDB_MATERIALIZED

HotColumns = Mapping[str, Mapping[str, str]]
"""{JSON column of the storage ``events`` table: {property key: its materialised column}}."""
_DUCKDB_HOT: HotColumns = {"properties": DUCKDB_MATERIALIZED}


def _events_table_alias(column: exp.Expression, hot: HotColumns) -> bool:
    """Whether ``column`` is a JSON column of the storage ``events`` table of its own SELECT
    (not of a subquery or CTE that happens to expose a column of that name)."""
    if not isinstance(column, exp.Column) or column.name not in hot or not column.table:
        return False
    select = column.find_ancestor(exp.Select)
    if select is None:
        return False
    sources = [select.args.get("from_")] + list(select.args.get("joins") or [])
    for source in sources:
        table = source.this if source is not None else None
        if isinstance(table, exp.Table) and table.alias_or_name == column.table:
            return table.name == "events" and isinstance(table.this, exp.Identifier) and not _a_cte(table)
    return False


def _a_cte(table: exp.Table) -> bool:
    """Whether ``table`` may name a CTE of an enclosing ``WITH`` (a CTE named ``events``
    shadows the storage table and has no materialised columns; inside that CTE's own body
    the name is the storage table's, a case left to the JSON read too)."""
    ancestor = table.parent
    while ancestor is not None:
        ctes = ancestor.args.get("with_")
        if isinstance(ctes, exp.With) and any(cte.alias == table.name for cte in ctes.expressions):
            return True
        ancestor = ancestor.parent
    return False


def materialized_read(node: Property, hot: HotColumns) -> exp.Column | None:
    """The materialised column a property read can read instead of parsing its document: a
    single-key read of a hot key of a JSON column of the storage ``events`` table. None
    for any other read (nested keys, persons, groups, subqueries)."""
    doc = node.this
    if not (_events_table_alias(doc, hot) and len(node.keys) == 1 and node.keys[0] in hot[doc.name]):
        return None
    return exp.Column(this=exp.Identifier(this=hot[doc.name][node.keys[0]], quoted=True),
                      table=exp.Identifier(this=doc.table, quoted=True))  # fmt: skip


def extraction(node: Property) -> exp.Expression:
    raw = materialized_read(node, _DUCKDB_HOT) or fn(
        "json_extract_string", node.this, inline_string(json_pointer(node.keys))
    )
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
