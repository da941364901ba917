"""What a compilation takes in (:class:`CompileContext`) and gives out (:class:`CompiledQuery`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from hedgerow.hogql.actions import ActionDefinition
from hedgerow.hogql.errors import HogQLError


@dataclass(frozen=True)
class LimitContext:
    """Row limits for the outermost SELECT: ``default`` when it has none, capped at ``maximum``."""

    default: int = 100
    maximum: int = 50_000

    def __post_init__(self) -> None:
        if not 0 < self.default <= self.maximum:
            raise ValueError("LimitContext needs 0 < default <= maximum")


API_LIMITS = LimitContext()
EXPORT_LIMITS = LimitContext(default=50_000, maximum=50_000)


@dataclass(frozen=True)
class CompileContext:
    """Inputs of one compilation. Frozen; holds no connections and does no lookups.

    ``property_types`` maps ``(scope, property name)`` (scope ``event``/``person``/``group``/
    ``session``) to a PostHog property type (``Numeric``, ``Boolean``, ``DateTime``,
    ``String``). ``cohort_lookup`` maps cohort names to ids for ``IN COHORT 'name'``.
    ``actions`` holds the project's actions by id for ``matchesAction(id | 'name')``: only
    this project's, so another project's action is "not found".
    ``filters`` is a ``HogQLFilters`` mapping (``dateRange``, ``properties``).
    ``modifiers`` is a ``HogQLQueryModifiers`` mapping; ``personsOnEventsMode`` and
    ``convertToProjectTimezone`` are honoured, the rest accepted and ignored.
    ``week_start_day`` is 0 for Sunday, 1 for Monday (PostHog's team setting).
    ``now`` pins ``now()``/``today()`` and relative dates (tests); None means the clock.
    """

    team_id: int
    timezone: str = "UTC"
    values: Mapping[str, Any] = field(default_factory=dict)
    filters: Mapping[str, Any] | None = None
    property_types: Mapping[tuple[str, str], str] = field(default_factory=dict)
    cohort_lookup: Mapping[str, int] = field(default_factory=dict)
    actions: Mapping[int, "ActionDefinition"] = field(default_factory=dict)
    modifiers: Mapping[str, Any] = field(default_factory=dict)
    limit_context: LimitContext = API_LIMITS
    week_start_day: int = 0
    now: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.team_id, int) or isinstance(self.team_id, bool):
            raise ValueError("team_id must be an int")
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise HogQLError(f"Unknown timezone {self.timezone!r}") from exc

    @property
    def persons_on_events_mode(self) -> str | None:
        mode = self.modifiers.get("personsOnEventsMode")
        return mode if isinstance(mode, str) else None

    @property
    def output_timezone(self) -> str:
        """The zone DateTime values are shown in (UTC when ``convertToProjectTimezone`` is off)."""
        if self.modifiers.get("convertToProjectTimezone") is False:
            return "UTC"
        return self.timezone


@dataclass(frozen=True)
class CompiledQuery:
    """The result of compiling one HogQL query for one engine.

    ``sql`` has no inlined values: ``params`` are bound positionally (``$1``, ``$2``...).
    ``columns``/``types`` describe the result (ClickHouse type strings). ``hogql`` is the
    normalised query with the effective LIMIT. When the user gave no LIMIT, ``limit`` is the
    page size, the SQL fetches ``limit + 1`` rows and ``paginated`` is True so the caller can
    set ``hasMore``; ``offset`` is the user's OFFSET or 0. ``reads`` names the kinds of data
    the query reads (``events``, ``persons``, ``cohorts``), for access decisions.
    """

    sql: str
    params: Sequence[Any]
    columns: Sequence[str]
    types: Sequence[tuple[str, str]]
    hogql: str
    timezone: str
    limit: int | None
    offset: int
    paginated: bool
    reads: frozenset[str] = frozenset()
