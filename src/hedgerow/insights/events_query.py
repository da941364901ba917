"""``EventsQuery``: PostHog's events table query, planned as a HogQL tree.

Pure: no I/O. :func:`plan` turns the query node into a HogQL SELECT over ``events`` (user
``select``/``where``/``orderBy`` strings are parsed one expression at a time, property filters
go through :mod:`hedgerow.hogql.property_filters`), and records how each requested column maps
onto result columns. :func:`shape` turns the engine rows back into PostHog's answer: ``*``
becomes an event object, ``person`` a person object, ``person_display_name`` a small object.

Defaults follow PostHog's EventsQueryRunner: events after ``-24h`` and before now + 5 s, the
first aggregate (or ``count()``) descending, else ``timestamp`` descending, else the first
column ascending; with an aggregate, every other column is grouped by.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import orjson
from sqlglot import exp

from hedgerow.hogql.dialect import ParametricCall
from hedgerow.hogql.errors import HogQLError
from hedgerow.hogql.functions.registry import lookup
from hedgerow.hogql.functions.windows import WINDOW_NAMES
from hedgerow.hogql.nodes import Value
from hedgerow.hogql.parse import parse_expr, parse_order
from hedgerow.hogql.passes.filters import parse_date
from hedgerow.hogql.property_filters import FilterEnv, field as hogql_field, literal, property_filter

STAR_FIELDS = (
    "uuid", "event", "properties", "timestamp", "team_id", "distinct_id", "elements_chain",
    "created_at", "person_mode",
)  # fmt: skip
"""The keys of a ``*`` event object, in PostHog's order."""

_STAR_SELECTED = ("uuid", "event", "properties", "timestamp", "distinct_id", "elements_chain", "created_at")
DISPLAY_NAME_PROPERTIES = ("email", "Email", "$email", "name", "Name", "username", "Username", "UserName")
DEFAULT_LIMIT = 100
MAX_LIMIT = 50_000


@dataclass(frozen=True)
class Column:
    """One requested column: its kind and how many result columns it spans."""

    label: str
    kind: str  # "expr" | "star" | "person" | "display_name"
    width: int = 1
    aliased: bool = False


@dataclass
class EventsPlan:
    tree: exp.Select
    columns: list[Column]
    limit: int
    offset: int
    aggregated: bool
    notes: list[str] = field(default_factory=list)

    @property
    def has_person_column(self) -> bool:
        return any(c.kind == "person" for c in self.columns)


def is_aggregation(node: exp.Expression) -> bool:
    """True when ``node`` aggregates rows (not counting subqueries and window functions)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current is not node and isinstance(current, (exp.Select, exp.Subquery, exp.Union)):
            continue
        if isinstance(current, exp.Window):
            continue
        if isinstance(current, (exp.Anonymous, ParametricCall)):
            spec = lookup(current.name)
            if spec is not None and spec.aggregate and spec.name not in WINDOW_NAMES:
                return True
        stack.extend(current.iter_expressions())
    return False


def _label(text: str) -> str:
    return text.split("--")[0].strip()


def _display_name_items() -> list[exp.Expression]:
    names = [hogql_field("person", "properties", key) for key in DISPLAY_NAME_PROPERTIES]
    name = exp.Anonymous(this="coalesce", expressions=[*names, hogql_field("distinct_id")])
    person_id = exp.Anonymous(this="toString", expressions=[hogql_field("person", "id")])
    return [name, person_id, hogql_field("distinct_id")]


def _select(select_input: Sequence[str]) -> tuple[list[Column], list[exp.Expression]]:
    columns: list[Column] = []
    items: list[exp.Expression] = []
    for raw in select_input:
        label = _label(raw)
        if raw.strip() == "*":
            columns.append(Column(raw, "star", len(_STAR_SELECTED)))
            items.extend(hogql_field(name) for name in _STAR_SELECTED)
        elif label == "person":
            columns.append(Column(raw, "person"))
            items.append(hogql_field("distinct_id"))
        elif label == "person_display_name":
            columns.append(Column(raw, "display_name", 3))
            items.extend(_display_name_items())
        else:
            item = parse_expr(raw, what="select expression", alias=True)
            columns.append(Column(raw, "expr", aliased=isinstance(item, exp.Alias)))
            items.append(item)
    return columns, items


def _date(text: str, timezone: str, now: Any) -> dt.datetime:
    parsed = parse_date(text, timezone, now)
    if parsed is None:
        raise HogQLError(f"Invalid date '{text}'")
    return parsed


def _now(now: Any) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.timezone.utc)
    return now if now.tzinfo else now.replace(tzinfo=dt.timezone.utc)


def _person_condition(person_id: str) -> exp.Expression:
    """Events of any distinct id of the person (by UUID)."""
    try:
        uuid.UUID(person_id)
    except ValueError:
        raise HogQLError(f"personId must be a person's UUID, got '{person_id}'") from None
    pdi = (
        exp.Select(expressions=[hogql_field("distinct_id")])
        .from_(exp.Table(this=exp.Identifier(this="person_distinct_ids", quoted=True)))
        .where(exp.EQ(this=hogql_field("person_id"), expression=exp.Anonymous(this="toUUID", expressions=[literal(person_id)])))
    )
    return exp.In(this=hogql_field("distinct_id"), query=exp.Subquery(this=pdi))


def plan(query: Any, *, timezone: str = "UTC", now: Any = None) -> EventsPlan:
    """The HogQL SELECT (and result layout) for an EventsQuery node."""
    select_input = list(query.select) if query.select else ["*"]
    columns, items = _select(select_input)
    plain = [i.this if isinstance(i, exp.Alias) else i for i in items]
    aggregates = [i for i in plain if is_aggregation(i)]
    env = FilterEnv(scope="event", timezone=timezone, now=now)

    conditions: list[exp.Expression] = [parse_expr(w, what="where expression") for w in query.where or []]
    for filters in (query.properties, query.fixedProperties):
        if filters:
            conditions.append(property_filter(filters, env))
    events = [e for e in [query.event, *(query.events or [])] if e]
    if len(events) == 1:
        conditions.append(exp.EQ(this=hogql_field("event"), expression=literal(events[0])))
    elif events:
        conditions.append(exp.In(this=hogql_field("event"), expressions=[literal(e) for e in events]))
    if query.personId:
        conditions.append(_person_condition(str(query.personId)))
    if query.actionId is not None:  # the project's action, resolved by the compiler
        conditions.append(exp.Anonymous(this="matchesAction", expressions=[exp.Literal.number(query.actionId)]))
    before = _date(query.before, timezone, now) if query.before else (
        _now(now) + dt.timedelta(seconds=5)
    ).astimezone(dt.timezone.utc).replace(tzinfo=None)
    conditions.append(exp.LT(this=hogql_field("timestamp"), expression=Value(this=before)))
    after = query.after or "-24h"
    if after != "all":
        conditions.append(exp.GT(this=hogql_field("timestamp"), expression=Value(this=_date(after, timezone, now))))

    where = [c for c in conditions if not is_aggregation(c)]
    having = [c for c in conditions if is_aggregation(c)]

    tree = exp.Select(expressions=items).from_(exp.Table(this=exp.Identifier(this="events", quoted=True)))
    if where:
        tree = tree.where(exp.and_(*where) if len(where) > 1 else where[0], copy=False)
    if having:
        tree = tree.having(exp.and_(*having) if len(having) > 1 else having[0], copy=False)
    if aggregates:
        group = [e.copy() for e in plain if not is_aggregation(e)]
        if group:
            tree.set("group", exp.Group(expressions=group))
    tree.set("order", exp.Order(expressions=_order(query, select_input, plain, aggregates)))

    limit = query.limit if query.limit and query.limit > 0 else DEFAULT_LIMIT
    limit = min(limit, MAX_LIMIT)
    offset = query.offset if query.offset and query.offset > 0 else 0
    if offset:
        tree.set("offset", exp.Offset(expression=exp.Literal.number(offset)))
    return EventsPlan(tree=tree, columns=columns, limit=limit, offset=offset, aggregated=bool(aggregates))


def _order(query: Any, select_input: list[str], plain: list[exp.Expression], aggregates: list) -> list[exp.Ordered]:
    if query.orderBy is not None:
        ordered = []
        for text in query.orderBy:
            if _label(text).startswith("person_display_name"):
                desc = text.rstrip().upper().endswith("DESC")
                name = _display_name_items()[0]
                ordered.append(exp.Ordered(this=name, desc=desc))
            else:
                ordered.append(parse_order(text))
        return ordered
    if "count()" in select_input:
        return [exp.Ordered(this=exp.Anonymous(this="count", expressions=[]), desc=True)]
    if aggregates:
        return [exp.Ordered(this=aggregates[0].copy(), desc=True)]
    if "timestamp" in select_input:
        return [exp.Ordered(this=hogql_field("timestamp"), desc=True)]
    if plain:
        return [exp.Ordered(this=plain[0].copy(), desc=False)]
    return []


def result_columns(events_plan: EventsPlan, compiled_columns: Sequence[str]) -> list[str]:
    """PostHog's ``columns``: each requested column as written, or its alias."""
    names, index = [], 0
    for column in events_plan.columns:
        names.append(compiled_columns[index] if column.aliased else column.label)
        index += column.width
    return names


def result_types(events_plan: EventsPlan, compiled_types: Sequence[Sequence[str]]) -> list[str]:
    """PostHog's ``types`` for EventsQuery: one ClickHouse type string per requested column."""
    types, index = [], 0
    for column in events_plan.columns:
        span = [t for _, t in compiled_types[index : index + column.width]]
        if column.kind == "star":
            inner = [*span[:4], "Int64", *span[4:], "String"]
            types.append(f"Tuple({', '.join(inner)})")
        elif column.kind == "display_name":
            types.append(f"Tuple({', '.join(span)})")
        else:
            types.append(span[0])
        index += column.width
    return types


def person_distinct_ids(events_plan: EventsPlan, rows: Sequence[Sequence[Any]]) -> list[str]:
    """The distinct ids the ``person`` columns of ``rows`` need looked up."""
    wanted: set[str] = set()
    index = 0
    for column in events_plan.columns:
        if column.kind == "person":
            wanted.update(row[index] for row in rows if row[index] is not None)
        index += column.width
    return sorted(wanted)


def shape(
    events_plan: EventsPlan,
    rows: Sequence[Sequence[Any]],
    *,
    team_id: int,
    persons: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[list[Any]]:
    """Engine rows (already JSON-ready) as PostHog's EventsQuery rows."""
    persons = persons or {}
    out = []
    for row in rows:
        shaped: list[Any] = []
        index = 0
        for column in events_plan.columns:
            values = row[index : index + column.width]
            index += column.width
            if column.kind == "star":
                event = dict(zip(_STAR_SELECTED, values))
                event["properties"] = _json(event["properties"])
                shaped.append({name: event.get(name) for name in STAR_FIELDS} | {"team_id": team_id, "person_mode": "full"})
            elif column.kind == "person":
                distinct_id = values[0]
                person = persons.get(distinct_id)
                shaped.append({**person, "distinct_id": distinct_id} if person else {"distinct_id": distinct_id})
            elif column.kind == "display_name":
                shaped.append({"display_name": values[0], "id": values[1], "distinct_id": values[2]})
            else:
                shaped.append(values[0])
        out.append(shaped)
    return out


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


PERSONS_FOR_DISTINCT_IDS = (
    "select distinct_id, person_id, person.created_at, person.properties "
    "from person_distinct_ids where distinct_id in {distinct_ids}"
)
"""HogQL for the follow-up lookup behind ``person`` columns (values: ``distinct_ids``)."""


def persons_by_distinct_id(rows: Sequence[Sequence[Any]]) -> dict[str, dict[str, Any]]:
    """Rows of :data:`PERSONS_FOR_DISTINCT_IDS` as ``distinct_id -> person object``."""
    return {
        distinct_id: {"uuid": person_id, "created_at": created_at, "properties": _json(properties) or {}}
        for distinct_id, person_id, created_at, properties in rows
    }
