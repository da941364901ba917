"""The insight query kinds: request model and runner of each, for the query service's table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hedgerow.insights import funnels, lifecycle, retention, stickiness, trends
from hedgerow.insights.models import (
    FunnelsQuery,
    InsightNode,
    LifecycleQuery,
    RetentionQuery,
    StickinessQuery,
    TrendsQuery,
)

KINDS: dict[str, tuple[type[InsightNode], Callable[[Any, Any], dict[str, Any]]]] = {
    "TrendsQuery": (TrendsQuery, trends.run),
    "FunnelsQuery": (FunnelsQuery, funnels.run),
    "RetentionQuery": (RetentionQuery, retention.run),
    "StickinessQuery": (StickinessQuery, stickiness.run),
    "LifecycleQuery": (LifecycleQuery, lifecycle.run),
}
"""Query kind -> (request model, runner(run context, query))."""
