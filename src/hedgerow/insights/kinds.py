"""The insight query kinds: request model and runner of each, for the query service's table.

``InsightVizNode`` (what saved insights store and PostHog's MCP tools post) wraps one of them
in ``source``: it is unwrapped and run as that kind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import pydantic

from hedgerow.errors import ParseError
from hedgerow.insights import actors, funnels, lifecycle, paths, retention, stickiness, trends
from hedgerow.insights.models import (
    FunnelsQuery,
    InsightNode,
    LifecycleQuery,
    PathsQuery,
    RetentionQuery,
    StickinessQuery,
    TrendsQuery,
)
from hedgerow.insights.series import bind_actions

Runner = Callable[[Any, Any], dict[str, Any]]


def _with_actions(run: Runner) -> Runner:
    """``run`` after the query's ``ActionsNode`` series are bound to the project's actions."""

    def run_bound(ctx: Any, query: Any) -> dict[str, Any]:
        return run(ctx, bind_actions(ctx, query))

    return run_bound


SOURCES: dict[str, tuple[type[InsightNode], Runner]] = {
    "TrendsQuery": (TrendsQuery, trends.run),
    "FunnelsQuery": (FunnelsQuery, funnels.run),
    "RetentionQuery": (RetentionQuery, retention.run),
    "StickinessQuery": (StickinessQuery, stickiness.run),
    "LifecycleQuery": (LifecycleQuery, lifecycle.run),
    "PathsQuery": (PathsQuery, paths.run),
}
SOURCES = {kind: (model, _with_actions(run)) for kind, (model, run) in SOURCES.items()}


class InsightVizNode(InsightNode):
    kind: Literal["InsightVizNode"]
    source: dict[str, Any]


def run_viz(ctx: Any, node: InsightVizNode) -> dict[str, Any]:
    """Run the insight query an ``InsightVizNode`` wraps."""
    kind = node.source.get("kind")
    if kind not in SOURCES:
        raise ParseError(f"JSON parse error - InsightVizNode source kind {kind!r} is not supported")
    model, run = SOURCES[kind]
    try:
        source = model.model_validate(node.source)
    except pydantic.ValidationError as error:
        raise ParseError(f"JSON parse error - {error}") from None
    return run(ctx, source)


KINDS: dict[str, tuple[type[InsightNode], Runner]] = {
    **SOURCES,
    "InsightVizNode": (InsightVizNode, run_viz),
    "ActorsQuery": (actors.ActorsQuery, actors.run),
    **{kind: (actors.InsightActorsQuery, actors.run_point) for kind in actors.WRAPPERS},
}
"""Query kind -> (request model, runner(run context, query))."""
