"""``ActorsQuery`` and the insight actors kinds: the persons behind a data point, paginated.

``ActorsQuery{source}`` takes its persons from ``source``: an ``InsightActorsQuery`` (trends,
retention, lifecycle, paths, stickiness), a ``FunnelsActorsQuery`` or a
``StickinessActorsQuery``, each wrapping an insight query (or its ``InsightVizNode``); the
insight kind turns the data point into an :class:`~hedgerow.insights.actor_source.ActorSource`.
Without a source it lists every person. The persons are then read from ``persons`` (so
personless actors are left out, counted in ``missing_actors_count``), filtered by ``search``
(email, name, id or a distinct id), ``properties`` and ``fixedProperties`` (person scope),
ordered, and cut to one page of ``limit`` (default 100, at most 10,000) from ``offset``.

Columns follow PostHog's ``select``: ``person``/``actor`` is the person object (``id``,
``properties``, ``is_identified``, ``created_at``, ``distinct_ids``), ``id`` and
``created_at`` the person's, ``person.$delete`` the constant 1, source columns (such as
``event_count``) by name, anything else a HogQL expression over ``persons``. The insight
actors kinds posted directly answer as an ``ActorsQuery`` with that source.

Persons are personal data: the persons table is compiled first, so a caller refused
``persons`` is refused before anything is computed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import orjson
import pydantic
from pydantic import Field
from sqlglot import exp

from hedgerow.errors import ParseError, ValidationError
from hedgerow.hogql import LimitContext
from hedgerow.hogql.parse import parse_expr, parse_order
from hedgerow.hogql.property_filters import FilterEnv, property_filter
from hedgerow.insights import actors_page, funnels, group_actors, lifecycle, paths, retention, stickiness, trends
from hedgerow.insights.actor_source import ActorPoint, ActorSource
from hedgerow.insights.context import Runner, run_rows, timezone
from hedgerow.insights.series import bind_actions
from hedgerow.insights.models import (
    Filters,
    FunnelsQuery,
    InsightNode,
    LifecycleQuery,
    PathsQuery,
    RetentionQuery,
    StickinessQuery,
    TrendsQuery,
)
from hedgerow.insights.templates import and_, expr, select

DEFAULT_LIMIT, MAX_LIMIT = 100, 10_000
MAX_LISTED = 20_000
"""A source given as person ids (funnels) is passed to the engine whole up to this many ids;
past it, only the page is (ids in order), which needs the default order and no filters."""
DEFAULT_SELECT = ("person", "id", "person.$delete")
PERSON_COLUMNS = ("id", "properties", "is_identified", "created_at")
SPECIAL = {"person": "persons.id", "actor": "persons.id", "id": "persons.id", "created_at": "persons.created_at",
           "person.$delete": "1"}  # fmt: skip
PERSON_OBJECTS = ("person", "actor")

SourceRunner = Callable[[Runner, Any, ActorPoint], ActorSource]
ACTOR_KINDS: dict[str, tuple[type[InsightNode], SourceRunner]] = {
    "TrendsQuery": (TrendsQuery, trends.actors),
    "FunnelsQuery": (FunnelsQuery, funnels.actors),
    "RetentionQuery": (RetentionQuery, retention.actors),
    "StickinessQuery": (StickinessQuery, stickiness.actors),
    "LifecycleQuery": (LifecycleQuery, lifecycle.actors),
    "PathsQuery": (PathsQuery, paths.actors),
}
"""Insight kind -> (its model, the runner of its actors)."""
WRAPPERS = {
    "InsightActorsQuery": tuple(ACTOR_KINDS),
    "FunnelsActorsQuery": ("FunnelsQuery",),
    "StickinessActorsQuery": ("StickinessQuery",),
}
"""Actors kind -> the insight kinds it may wrap."""


class InsightActorsQuery(ActorPoint):
    kind: Literal["InsightActorsQuery", "FunnelsActorsQuery", "StickinessActorsQuery"]
    source: dict[str, Any]


class ActorsQuery(InsightNode):
    kind: Literal["ActorsQuery"]
    source: dict[str, Any] | None = None
    select: list[str] | None = Field(None, max_length=50)
    orderBy: list[str] | None = Field(None, max_length=10)
    limit: int | None = Field(None, ge=0)
    offset: int | None = Field(None, ge=0, le=10_000_000)
    search: str | None = Field(None, max_length=1000)
    properties: Filters = None
    fixedProperties: Filters = None


def _validated(model: type[InsightNode], data: Any, what: str) -> Any:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as error:
        raise ParseError(f"JSON parse error - {what}: {error}") from None


def source_of(ctx: Runner, data: dict[str, Any]) -> ActorSource:
    """The actors a source node (``InsightActorsQuery``...) names."""
    wrapper = _validated(InsightActorsQuery, data, "source")
    inner = wrapper.source
    if inner.get("kind") == "InsightVizNode":
        inner = inner.get("source") if isinstance(inner.get("source"), dict) else {}
    kind = inner.get("kind")
    if kind not in WRAPPERS[wrapper.kind]:
        raise ValidationError(f"{wrapper.kind} cannot take the actors of {kind!r}", attr="source")
    model, actors = ACTOR_KINDS[kind]
    return actors(ctx, bind_actions(ctx, _validated(model, inner, "source.source")), wrapper)


def _columns(source: ActorSource | None) -> set[str]:
    return {"actor_id", *source.columns} if source is not None else set()


def _column(text: str, names: set[str]) -> exp.Expression:
    return actors_page.column(text, names, SPECIAL)


def _order(query: ActorsQuery, selected: list[str], names: set[str]) -> list[exp.Expression]:
    if query.orderBy:
        if query.orderBy in (["person"], ["person ASC"], ["person DESC"], ["actor"]):
            return [exp.Ordered(this=parse_expr("persons.properties.email"), desc=query.orderBy[0] == "person DESC")]
        return [actors_page.qualify(parse_order(text), names) for text in query.orderBy]
    if "created_at" in selected:
        return [exp.Ordered(this=parse_expr("persons.created_at"), desc=True)]
    return [exp.Ordered(this=_column(selected[0], names), desc=False)] if selected else []


def _filters(ctx: Runner, query: ActorsQuery) -> exp.Expression:
    env = FilterEnv(scope="person", timezone=timezone(ctx))
    parts = [property_filter(p, env) for p in (query.properties, query.fixedProperties)
             if p and (not isinstance(p, dict) or p.get("values") or "key" in p)]
    if query.search:
        parts.append(expr(
            "toString(persons.properties.email) ILIKE {q} OR toString(persons.properties.name) ILIKE {q}"
            " OR toString(persons.id) ILIKE {q}"
            " OR persons.id IN (SELECT person_id FROM person_distinct_ids WHERE distinct_id ILIKE {q})",
            q=f"%{query.search}%"))
    return and_(*parts)


def _source_tree(source: ActorSource, query: ActorsQuery, offset: int, limit: int) -> tuple[exp.Expression, int]:
    """The source as a SELECT of ``actor_id``; (tree, offset left to apply). A long id list is
    cut to its page here (see :data:`MAX_LISTED`)."""
    if source.tree is not None:
        return source.tree, offset
    ids = sorted(set(source.ids or ()))
    if len(ids) > MAX_LISTED:
        if query.search or query.properties or query.fixedProperties or query.orderBy:
            raise ValidationError(f"The data point has more than {MAX_LISTED:,} persons: search, filter or order "
                                  "them in a smaller one", attr="source")
        ids, offset = ids[offset:offset + limit + 1], 0
    if not ids:  # no persons: a typed id that is filtered out (an empty list has no item type)
        return select("SELECT actor_id FROM (SELECT arrayJoin({ids}) AS actor_id) WHERE 0",
                      ids=["00000000-0000-0000-0000-000000000000"]), offset
    return select("SELECT arrayJoin({ids}) AS actor_id", ids=ids), offset


def run(ctx: Runner, query: ActorsQuery) -> dict[str, Any]:
    """Compute an ActorsQuery in PostHog's response shape."""
    # persons are read whatever the source: decide access before computing anything
    ctx.compile(select("SELECT id FROM persons"), limit_context=LimitContext(default=1, maximum=1))
    limit = min(query.limit or DEFAULT_LIMIT, MAX_LIMIT)
    offset = query.offset or 0
    source = source_of(ctx, query.source) if query.source is not None else None
    names = _columns(source)
    if source is not None and source.group_type_index is not None:
        source_tree, offset = _source_tree(source, query, offset, limit)
        return group_actors.run(ctx, query, source_tree, names, source.group_type_index, limit, offset)
    selected = list(query.select or DEFAULT_SELECT)
    if not query.select and "event_distinct_ids" in names:  # PostHog's default for trends
        selected.append("event_distinct_ids")
    columns = [_column(text, names) for text in selected]
    tree = select("SELECT 1 FROM persons")
    if source is not None:
        source_tree, offset = _source_tree(source, query, offset, limit)
        joined = exp.Subquery(this=source_tree, alias=exp.TableAlias(this=exp.to_identifier("source")))
        tree = tree.join(joined, on=parse_expr("persons.id = source.actor_id"), join_type="inner", copy=False)
    tree.set("expressions", [*columns, *(parse_expr(f"persons.{name}") for name in PERSON_COLUMNS)])
    tree = tree.where(_filters(ctx, query)) if query.search or query.properties or query.fixedProperties else tree
    order = _order(query, selected, names) + [exp.Ordered(this=parse_expr("persons.id"), desc=False)]
    tree.set("order", exp.Order(expressions=order))
    compiled, result = actors_page.fetch(ctx, tree, offset, limit)
    rows = [list(row) for row in result.results]
    width = len(selected)
    persons = _persons(ctx, [row[width:] for row in rows]) if any(s in PERSON_OBJECTS for s in selected) else {}
    for row in rows:
        for index, name in enumerate(selected):
            if name in PERSON_OBJECTS:
                row[index] = persons.get(str(row[width]), {"id": str(row[width])})
        del row[width:]
    return actors_page.response(ctx, query, selected, rows, compiled, result.has_more, limit)


def _persons(ctx: Runner, rows: list[list[Any]]) -> dict[str, dict[str, Any]]:
    """Person objects of a page's rows (their trailing person columns), with distinct ids."""
    if not rows:
        return {}
    ids = [str(row[0]) for row in rows]
    found, _ = run_rows(ctx, select("SELECT person_id, groupArray(distinct_id) FROM person_distinct_ids"
                                    " WHERE toString(person_id) IN {ids} GROUP BY person_id", ids=ids))
    distinct_ids = {str(person): sorted(values) for person, values in found}
    out = {}
    for person_id, properties, identified, created_at in rows:
        key = str(person_id)
        props = orjson.loads(properties) if isinstance(properties, (str, bytes)) else properties or {}
        out[key] = {"id": key, "properties": props, "is_identified": bool(identified), "created_at": created_at,
                    "distinct_ids": distinct_ids.get(key, [])}
    return out


def run_point(ctx: Runner, query: InsightActorsQuery) -> dict[str, Any]:
    """An insight actors kind posted directly: an ActorsQuery with it as source."""
    return run(ctx, ActorsQuery(kind="ActorsQuery", source=query.model_dump(exclude_none=True)))
