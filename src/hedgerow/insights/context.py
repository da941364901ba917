"""What an insight runner needs from the query service, as a protocol (no import of it)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol, Sequence

from sqlglot import exp

from hedgerow import clock
from hedgerow.errors import ValidationError
from hedgerow.hogql import LimitContext
from hedgerow.insights import date_range as ranges
from hedgerow.insights.templates import select

INSIGHT_LIMITS = LimitContext(default=100_000, maximum=100_000)
"""Row limit of insight queries: they return aggregates (buckets x breakdown values)."""
PER_PERSON_LIMITS = LimitContext(default=1_000_000, maximum=1_000_000)
"""Row limit of queries returning one row per person (funnel and path sequences)."""


class Runner(Protocol):
    """The query service's run context (:class:`hedgerow.services.query.RunContext`)."""

    project: Any
    timings: list[dict[str, Any]]

    def compile(self, query: Any, *, limit_context: LimitContext = ..., **kw: Any) -> Any: ...

    def execute(self, compiled: Any) -> Any: ...

    def actions(self) -> Any: ...
    def cohort_names(self, ids: Sequence[int]) -> dict[int, str]: ...


class TooManyRows(ValidationError):
    default_code = "too_many_rows"


def run_rows(ctx: Runner, tree: exp.Expression, limits: LimitContext | None = None) -> tuple[list[Sequence[Any]], str]:
    """Compile ``tree`` for the project and run it: (every row, printed HogQL). A result cut by
    the row limit (:data:`INSIGHT_LIMITS` unless given) would be a wrong answer, so it is an error."""
    limits = limits or INSIGHT_LIMITS
    compiled = ctx.compile(tree, limit_context=limits)
    result = ctx.execute(compiled)
    if result.has_more:
        raise TooManyRows(f"The insight needs more than {limits.maximum:,} rows; narrow its date range or filters")
    return result.results, compiled.hogql


def timezone(ctx: Runner) -> str:
    return ctx.project.timezone or "UTC"


def week_start_day(ctx: Runner) -> int:
    return ctx.project.week_start_day or 0


def now() -> dt.datetime:
    """The current instant (aware), from the server clock (tests pin it)."""
    value = clock.now()
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def resolve_range(ctx: Runner, date_range: Any, interval: str, exact: bool = False) -> ranges.DateRange:
    """The query's date range for ``interval`` in the project's zone and week start; ``all``
    starts at the project's earliest event (``exact``: see :func:`.date_range.resolve`)."""
    earliest = None
    if getattr(date_range, "date_from", None) == "all":
        rows, _ = run_rows(ctx, select("SELECT min(timestamp) FROM events"))
        if rows and rows[0][0] is not None:
            earliest = dt.datetime.fromisoformat(str(rows[0][0]).replace("Z", "+00:00"))
    return ranges.resolve(date_range, interval=interval, timezone=timezone(ctx), week_start_day=week_start_day(ctx),
                          now=now(), earliest=earliest, exact=exact)


def global_properties(ctx: Runner, query: Any) -> Any:
    """The query's ``properties`` and, with ``filterTestAccounts``, the project's test-account
    filters: one AND of both (None when there are none)."""
    parts = [query.properties] if query.properties else []
    test_filters = (getattr(ctx.project, "settings", None) or {}).get("test_account_filters") or []
    if query.filterTestAccounts and test_filters:
        parts.append(list(test_filters))
    return parts or None
