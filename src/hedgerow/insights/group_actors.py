"""The groups behind a data point of an insight that counts groups, as an ``ActorsQuery`` page.

What PostHog's group actor strategy answers: rows of the ``groups`` of the counted type whose
keys the source lists (a key with no group row is left out), the ``group`` column (default
select, also ``actor``) holding the group object (``id`` and ``group_key`` the key, ``type``
``group``, ``group_type_index``, ``created_at``, ``properties`` and ``group_properties``),
``id``/``key``/``created_at`` the group's, source columns (``active_intervals``...) by name,
anything else a HogQL expression over ``groups``. ``search`` matches the key or the ``name``
property; ``orderBy: ["group"]`` orders by ``name``; then by key.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlglot import exp

from hedgerow.errors import ValidationError
from hedgerow.hogql.parse import parse_expr, parse_order
from hedgerow.insights import actors_page
from hedgerow.insights.context import Runner
from hedgerow.insights.templates import expr, select

DEFAULT_SELECT = ("group",)
GROUP_COLUMNS = ("key", "index", "created_at", "properties")
SPECIAL = {"group": "groups.key", "actor": "groups.key", "id": "groups.key", "key": "groups.key",
           "created_at": "groups.created_at"}
GROUP_OBJECTS = ("group", "actor")
BY_NAME = (["group"], ["group ASC"], ["group DESC"])


def _group(key: Any, index: Any, created_at: Any, properties: Any) -> dict[str, Any]:
    props = orjson.loads(properties) if isinstance(properties, (str, bytes)) else properties or {}
    return {"id": key, "type": "group", "group_key": key, "group_type_index": index, "created_at": created_at,
            "properties": props, "group_properties": props}


def run(ctx: Runner, query: Any, source: exp.Expression, names: set[str], group_type_index: int,
        limit: int, offset: int) -> dict[str, Any]:
    """One page of the groups of type ``group_type_index`` whose keys ``source`` selects as
    ``actor_id`` (``query`` is the ``ActorsQuery``: its select, orderBy, search, offset)."""
    if query.properties or query.fixedProperties:
        raise ValidationError("Person property filters do not apply to group actors", attr="properties")
    selected = list(query.select or DEFAULT_SELECT)
    columns = [actors_page.column(text, names, SPECIAL) for text in selected]
    tree = select("SELECT 1 FROM groups WHERE groups.index = {index}", index=group_type_index)
    joined = exp.Subquery(this=source, alias=exp.TableAlias(this=exp.to_identifier("source")))
    tree = tree.join(joined, on=parse_expr("groups.key = source.actor_id"), join_type="inner", copy=False)
    tree.set("expressions", [*columns, *(parse_expr(f"groups.{name}") for name in GROUP_COLUMNS)])
    if query.search:
        tree = tree.where(expr("toString(groups.properties.name) ILIKE {q} OR groups.key ILIKE {q}",
                               q=f"%{query.search}%"))
    order: list[exp.Expression] = []
    if query.orderBy in BY_NAME:
        order = [exp.Ordered(this=parse_expr("groups.properties.name"), desc=query.orderBy[0] == "group DESC")]
    elif query.orderBy:
        order = [actors_page.qualify(parse_order(text), names) for text in query.orderBy]
    tree.set("order", exp.Order(expressions=[*order, exp.Ordered(this=parse_expr("groups.key"), desc=False)]))
    compiled, result = actors_page.fetch(ctx, tree, offset, limit)
    width = len(selected)
    rows = []
    for row in result.results:
        out = list(row[:width])
        for index, name in enumerate(selected):
            if name in GROUP_OBJECTS:
                out[index] = _group(*row[width:])
        rows.append(out)
    return actors_page.response(ctx, query, selected, rows, compiled, result.has_more, limit)
