"""Series of insight queries: which events a series matches, and its math as HogQL.

A series' events are those of its event name (all events for ``event: null``) passing the
query's global properties (with the project's test-account filters under ``filterTestAccounts``,
see :func:`hedgerow.insights.context.global_properties`) and the series' own ``properties``, all
through :mod:`hedgerow.hogql.property_filters`.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from hedgerow.errors import ValidationError
from hedgerow.hogql.parse import parse_expr
from hedgerow.hogql.property_filters import FilterEnv, field, literal, property_filter
from hedgerow.insights.events_query import is_aggregation
from hedgerow.insights.models import PROPERTY_MATHS, ActionsNode, EventsNode
from hedgerow.insights.templates import and_, expr


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def filters(properties: Any, timezone: str) -> exp.Expression | None:
    """Property filters (list or AND/OR group) as one condition over events, or None."""
    if not properties:
        return None
    if isinstance(properties, dict) and not properties.get("values") and "key" not in properties:
        return None
    return property_filter(properties, FilterEnv(scope="event", timezone=timezone))


def event_condition(event: str | None) -> exp.Expression | None:
    """``event = <name>`` (None for all events)."""
    if event is None:
        return None
    return exp.EQ(this=field("event"), expression=literal(event))


def node_condition(node: Any) -> exp.Expression | None:
    """Which events a series node is about: its event name, or its action's ``matchesAction``
    (no event at all for an action the project does not have)."""
    if isinstance(node, ActionsNode):
        if node._missing:
            return exp.false()
        return _call("matchesAction", exp.Literal.number(node.id))
    return event_condition(node.event)


def node_id(node: Any) -> Any:
    """The series' ``id`` in results: the action id, or the event name."""
    return node.id if isinstance(node, ActionsNode) else node.event


def node_type(node: Any) -> str:
    """The series' entity ``type`` in results."""
    return "actions" if isinstance(node, ActionsNode) else "events"


def _action_id(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, (int, str)) or not str(raw).isdigit() or len(str(raw)) > 18:
        raise ValidationError(f"Action ID {str(raw)[:40]} is not a valid action id", attr="id")
    return int(raw)


def entity_node(entity: Any, default_event: str) -> Any:
    """A retention entity (``{id, type, properties}``) as a series node."""
    if entity is None:
        return EventsNode(event=default_event)
    if entity.type == "actions":
        return ActionsNode(kind="ActionsNode", id=_action_id(entity.id), properties=entity.properties)
    if entity.id is not None and not isinstance(entity.id, str):
        raise ValidationError("An events entity's id is an event name", attr="id")
    return EventsNode(event=entity.id, properties=entity.properties)


def bind_actions(ctx: Any, query: Any) -> Any:
    """Give each ``ActionsNode`` of ``query`` its action's name, from the project's actions.

    An action the project does not have makes trends, stickiness and lifecycle series match
    nothing, and is a 400 in funnels and retention, as in PostHog."""
    funnel = getattr(query, "funnelsFilter", None)
    exclusions = (funnel.exclusions or []) if funnel is not None else []
    nodes = [n for n in [*(getattr(query, "series", None) or []), *exclusions] if isinstance(n, ActionsNode)]
    options = getattr(query, "retentionFilter", None)
    for entity in (options.targetEntity, options.returningEntity) if options is not None else ():
        if entity is not None and entity.type == "actions":
            nodes.append(ActionsNode(kind="ActionsNode", id=_action_id(entity.id)))
    if not nodes:
        return query
    known = ctx.actions()
    for node in nodes:
        action = known.get(node.id)
        if action is not None:
            node.name = action.name
        elif getattr(query, "kind", None) in ("FunnelsQuery", "RetentionQuery"):
            raise ValidationError(f"Action ID {node.id} does not exist!")
        else:
            node._missing = True
    return query


def condition(series: Any, global_properties: Any, timezone: str) -> exp.Expression:
    """Everything a series' events must satisfy besides the date window (and, for unique
    groups, having a group of the type counted)."""
    return and_(
        node_condition(series),
        filters(global_properties, timezone),
        filters(series.properties, timezone),
        expr("{group} != ''", group=group_key(series)) if counts_groups(series) else None,
    )


GROUP_MATHS = ("unique_group", "dau", "weekly_active", "monthly_active")


def counts_groups(series: Any) -> bool:
    """Whether the series counts groups rather than persons: unique groups, and, as in PostHog,
    (daily, weekly, monthly) active users given a ``math_group_type_index``."""
    math = series.math or "total"
    return math == "unique_group" or math in GROUP_MATHS and series.math_group_type_index is not None


def actor(series: Any) -> exp.Expression:
    """What the series' unique counts count: its group key, or ``person_id``."""
    return group_key(series) if counts_groups(series) else field("person_id")


def group_key(series: Any) -> exp.Expression:
    """``$group_<n>`` of a ``unique_group`` math's group type."""
    if series.math_group_type_index is None:
        raise ValidationError("Math 'unique_group' needs math_group_type_index", attr="math_group_type_index")
    return field(f"$group_{series.math_group_type_index}")


def label(series: Any) -> str:
    """The series' name in results (``All events`` for ``event: null``, an action's name)."""
    if isinstance(series, ActionsNode):
        return series.name if series.name is not None else str(series.id)
    return series.event if series.event is not None else "All events"


def math_property(series: Any) -> exp.Expression:
    """``toFloat(<property>)`` of the series' math property (event or person scope)."""
    if not series.math_property:
        raise ValidationError(f"Math '{series.math}' needs a math_property", attr="math_property")
    if series.math_property == "$session_duration":  # PostHog aggregates it once per session
        raise ValidationError("Math on $session_duration is not supported", attr="math_property")
    if series.math_property_type == "person_properties":
        target = field("person", "properties", series.math_property)
    else:
        target = field("properties", series.math_property)
    return _call("toFloat", target)


AGGREGATES = {
    "total": "count()",
    "dau": "count(DISTINCT person_id)",
    "weekly_active": "count(DISTINCT person_id)",
    "monthly_active": "count(DISTINCT person_id)",
    # PostHog's $session_id is a non-null string: events without a session count as one '' session
    "unique_session": "count(DISTINCT ifNull($session_id, ''))",
    "unique_group": "count(DISTINCT {group})",
    "sum": "sum({target})",
    "avg": "avg({target})",
    "min": "min({target})",
    "max": "max({target})",
    "median": "quantile(0.5)({target})",
    "p75": "quantile(0.75)({target})",
    "p90": "quantile(0.9)({target})",
    "p95": "quantile(0.95)({target})",
    "p99": "quantile(0.99)({target})",
}
"""Math -> HogQL aggregate (``{target}``: the math property as a float; ``{group}``: the group key)."""


def per_actor(series: Any) -> exp.Expression:
    """For a ``<m>_count_per_actor`` math: the aggregate ``m`` of the per-actor event counts ``n``."""
    return expr(AGGREGATES[series.math.removesuffix("_count_per_actor")], target=expr("n"))


def hogql_math(series: Any) -> exp.Expression:
    """A ``hogql`` math: the user's aggregate expression, parsed like any HogQL they send."""
    if not series.math_hogql:
        raise ValidationError("Math 'hogql' needs math_hogql", attr="math_hogql")
    tree = parse_expr(series.math_hogql, what="math_hogql")
    if not is_aggregation(tree):
        raise ValidationError("math_hogql must be an aggregate expression such as sum(...)", attr="math_hogql")
    return tree


def aggregate(series: Any) -> exp.Expression:
    """The per-bucket aggregate of a series' math (not the count-per-actor ones)."""
    math = series.math or "total"
    if math == "hogql":
        return hogql_math(series)
    if math not in AGGREGATES:
        raise ValidationError(f"Math '{math}' is not supported", attr="math")
    holes = {"target": math_property(series)} if math in PROPERTY_MATHS else {}
    if counts_groups(series):
        return expr("count(DISTINCT {group})", group=group_key(series))
    return expr(AGGREGATES[math], **holes)
