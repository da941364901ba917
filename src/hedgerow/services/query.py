"""The query use case: ``POST /query/`` and friends, for every query kind.

A request is validated (:mod:`.query_schema`), its kind looked up in :data:`KINDS` (model +
runner), and run according to PostHog's execution modes: answered from the result cache
when fresh, computed now, or queued as an async job whose status is polled. Every query runs
under one of the project's concurrency slots, with a time limit, on its own cursor of the
shared events database, and can be cancelled by id.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import pydantic
from pydantic import BaseModel

from hedgerow import clock
from hedgerow.errors import Exposed, NotFound, ParseError, ServiceUnavailable
from hedgerow.auth.authorize import Refused
from hedgerow.hogql import API_LIMITS, EXPORT_LIMITS, CompileContext, CompiledQuery, LimitContext, compile_hogql
from hedgerow.hogql.actions import ActionDefinition
from hedgerow.insights import events_query
from hedgerow.services.actions import ActionService, ActionSnapshot
from hedgerow.insights.kinds import KINDS as INSIGHT_KINDS
from hedgerow.insights.kinds import SOURCES as INSIGHT_SOURCES
from hedgerow.insights.models import DateRange
from hedgerow.services.experiment_queries import KINDS as EXPERIMENT_KINDS
from hedgerow.services.experiment_queries import state as experiment_state
from hedgerow.services.fields import shallow_json
from hedgerow.services.query_cache import ResultCache
from hedgerow.services.query_jobs import JobsBusy, ProjectSlots, QueryJobs, Running, SlotsBusy
from hedgerow.services.query_schema import (
    EventsQuery,
    HogQLFilters,
    HogQLQuery,
    HogQLVariable,
    Node,
    parse_request,
)
from hedgerow.store.events.duckdb_query import QueryResult
from hedgerow.store.events.protocol import EventStore
from hedgerow.store.meta import cohorts as cohort_store
from hedgerow.store.meta import definitions
from hedgerow.store.meta.db import MetaDB
from hedgerow.store.meta.tenancy import Project

CACHE_VERSION = 1
REFRESH_INTERVAL = dt.timedelta(minutes=1)
"""``next_allowed_client_refresh`` is this long after ``last_refresh`` (PostHog's default)."""

DEFAULT_MODIFIERS: Mapping[str, Any] = {
    "personsOnEventsMode": "person_id_override_properties_on_events",
    "personsArgMaxVersion": "auto",
    "inCohortVia": "auto",
    "materializationMode": "legacy_null_as_null",
    "bounceRatePageViewMode": "count_pageviews",
    "sessionTableVersion": "auto",
}
"""The modifiers a project runs with unless a query overrides them (echoed in responses)."""


class QueryThrottled(Exposed):
    """PostHog's 429 when a project already runs its maximum of concurrent queries."""

    status = 429
    type = "throttled_error"
    default_code = "throttled"


class RefusedData(Refused):
    """A query that reads data its caller may not read."""

    def __init__(self, kinds: list[str]) -> None:
        person_kinds = [k for k in kinds if k != "actions"]
        if person_kinds:
            what = " and ".join("cohort membership" if kind == "cohorts" else kind for kind in person_kinds)
            reason = f"the query reads {what}, and persons access is off"
            super().__init__(reason, f"This query reads {what}: it needs persons access (person:read).")
        else:
            super().__init__("the query matches actions, and actions access is off",
                             "This query matches events against actions: it needs actions access (action:read).")


def new_query_id() -> str:
    """A UUIDv7 as 32 hex digits (PostHog's ``uuid7().hex`` for query ids)."""
    millis = int(time.time() * 1000) & ((1 << 48) - 1)
    rand = secrets.randbits(74)
    value = (millis << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return f"{value:032x}"


# -- running one query -----------------------------------------------------------------------


@dataclass
class RunContext:
    """What a kind's runner may use: compile for this project, execute, record timings."""

    project: Project
    meta: MetaDB
    events: EventStore
    running: Running
    timeout_seconds: float
    action_source: ActionService
    refused: frozenset[str] = frozenset()
    actions_seen: Mapping[int, ActionDefinition] | None = None
    """The project's actions as the query's cache key saw them (read here when None)."""
    timings: list[dict[str, Any]] = field(default_factory=list)
    result_bytes: int = 0
    """Size of the rows fetched so far (JSON), for the cache and job registry bounds."""
    _property_types: dict | None = None
    _cohorts: dict | None = None
    _actions: dict | None = None

    def _lookups(self) -> None:
        if self._property_types is None:
            with self.meta.read() as conn:
                self._property_types = definitions.property_types(conn, self.project.id)
                self._cohorts = cohort_store.ids_by_name(conn, self.project.id)
            if self.actions_seen is not None:
                self._actions = self.actions_seen
            else:
                self._actions = self.action_source.definitions(self.project.id)

    def actions(self) -> Mapping[int, ActionDefinition]:
        """The project's actions by id (what ``matchesAction`` and ``ActionsNode`` resolve)."""
        self._lookups()
        return self._actions or {}

    def compile(
        self,
        query: Any,
        *,
        values: Mapping[str, Any] | None = None,
        filters: Mapping[str, Any] | None = None,
        modifiers: Mapping[str, Any] | None = None,
        limit_context: LimitContext = API_LIMITS,
    ) -> CompiledQuery:
        started = time.perf_counter()
        self._lookups()
        ctx = CompileContext(
            team_id=self.project.id,
            timezone=self.project.timezone or "UTC",
            values=values or {},
            filters=filters,
            property_types=self._property_types or {},
            cohort_lookup=self._cohorts or {},
            actions=self._actions or {},
            modifiers=modifiers or {},
            limit_context=limit_context,
            week_start_day=self.project.week_start_day or 0,
        )
        compiled = compile_hogql(query, ctx, engine=self.events.engine)
        self._time("./hogql", started)
        refused = compiled.reads & self.refused
        if refused:
            raise RefusedData(sorted(refused))
        return compiled

    def cohort_names(self, ids: Sequence[int]) -> dict[int, str]:
        """Names of the project's cohorts among ``ids`` (for cohort breakdown labels)."""
        self._lookups()
        wanted = set(ids)
        return {cohort_id: name for name, cohort_id in (self._cohorts or {}).items() if cohort_id in wanted}

    def execute(self, compiled: CompiledQuery) -> QueryResult:
        started = time.perf_counter()
        try:
            result = self.events.execute(compiled, self.timeout_seconds, running=self.running)
            self.result_bytes += result.nbytes
            return result
        finally:
            self._time("./execute", started)

    def explain(self, compiled: CompiledQuery) -> list[str]:
        return self.events.explain(compiled)

    def _time(self, key: str, started: float) -> None:
        self.timings.append({"k": key, "t": round(time.perf_counter() - started, 6)})


def _modifiers(node: Any) -> dict[str, Any]:
    return {**DEFAULT_MODIFIERS, **(getattr(node, "modifiers", None) or {})}


def run_hogql(ctx: RunContext, node: HogQLQuery) -> dict[str, Any]:
    """``HogQLQuery``: compile the text with its values, filters and variables, and run it."""
    values = dict(node.values or {})
    for variable in (node.variables or {}).values():
        values[f"variables.{variable.code_name}"] = None if variable.isNull else variable.value
    filters = node.filters.model_dump(exclude_none=True) if node.filters else None
    compiled = ctx.compile(node.query, values=values, filters=filters, modifiers=node.modifiers)
    result = ctx.execute(compiled)
    return {
        "results": result.results,
        "columns": list(result.columns),
        "types": [list(t) for t in result.types],
        "hogql": compiled.hogql,
        "clickhouse": compiled.sql,
        "query": node.query,
        "hasMore": result.has_more,
        "limit": result.limit,
        "offset": result.offset,
        "explain": ctx.explain(compiled) if node.explain else None,
        "metadata": None,
        "error": None,
        "modifiers": _modifiers(node),
        "timings": ctx.timings,
    }


def run_events(ctx: RunContext, node: EventsQuery) -> dict[str, Any]:
    """``EventsQuery``: plan it as HogQL, run it, shape ``*`` / ``person`` columns."""
    plan = events_query.plan(node, timezone=ctx.project.timezone or "UTC")
    limits = LimitContext(default=plan.limit, maximum=max(plan.limit, API_LIMITS.maximum))
    compiled = ctx.compile(plan.tree, modifiers=node.modifiers, limit_context=limits)
    result = ctx.execute(compiled)
    persons: dict[str, Any] = {}
    wanted = events_query.person_distinct_ids(plan, result.results)
    if wanted:
        lookup = ctx.compile(
            events_query.PERSONS_FOR_DISTINCT_IDS,
            values={"distinct_ids": wanted},
            limit_context=EXPORT_LIMITS,
        )
        persons = events_query.persons_by_distinct_id(ctx.execute(lookup).results)
    return {
        "results": events_query.shape(plan, result.results, team_id=ctx.project.id, persons=persons),
        "columns": events_query.result_columns(plan, compiled.columns),
        "types": events_query.result_types(plan, compiled.types),
        "hogql": compiled.hogql,
        "hasMore": bool(result.has_more),
        "limit": plan.limit,
        "offset": plan.offset,
        "error": None,
        "modifiers": _modifiers(node),
        "timings": ctx.timings,
    }


# -- dashboard overrides ---------------------------------------------------------------------


def _hogql_filters_override(node: HogQLQuery, override: Mapping[str, Any]) -> HogQLQuery:
    filters = node.filters.model_dump(exclude_none=True) if node.filters else {}
    if override.get("date_from") or override.get("date_to"):
        filters["dateRange"] = {"date_from": override.get("date_from"), "date_to": override.get("date_to")}
    if override.get("properties"):
        filters["properties"] = _as_list(filters.get("properties")) + _as_list(override["properties"])
    return node.model_copy(update={"filters": HogQLFilters.model_validate(filters)})


def _events_filters_override(node: EventsQuery, override: Mapping[str, Any]) -> EventsQuery:
    update: dict[str, Any] = {}
    if override.get("date_from") or override.get("date_to"):
        update["after"], update["before"] = override.get("date_from"), override.get("date_to")
    if override.get("properties"):
        update["properties"] = _as_list(node.properties) + _as_list(override["properties"])
    return node.model_copy(update=update)


def _as_list(filters: Any) -> list[Any]:
    if not filters:
        return []
    return list(filters) if isinstance(filters, list) else [filters]


def _hogql_variables_override(node: HogQLQuery, override: Mapping[str, Mapping[str, Any]]) -> HogQLQuery:
    variables = dict(node.variables or {})
    for variable_id, values in override.items():
        known = variables.get(variable_id)
        merged = {**(known.model_dump() if known else {}), **values, "variableId": variable_id}
        if merged.get("code_name"):
            variables[variable_id] = HogQLVariable.model_validate(merged)
    return node.model_copy(update={"variables": variables})


def _insight_filters_override(node: Any, override: Mapping[str, Any]) -> Any:
    """A dashboard's filters on an insight query (PostHog's ``apply_dashboard_filters``): its
    date range replaces the query's, its properties are AND-ed with the query's."""
    update: dict[str, Any] = {}
    if override.get("date_from") or override.get("date_to"):
        update["dateRange"] = DateRange(date_from=override.get("date_from"), date_to=override.get("date_to"),
                                        explicitDate=override.get("explicitDate"))  # fmt: skip
    added = _as_list(override.get("properties"))
    if added:
        current = node.properties
        if not current:
            update["properties"] = added
        else:
            group = current if isinstance(current, dict) else {"type": "AND", "values": list(current)}
            update["properties"] = {"type": "AND", "values": [group, {"type": "AND", "values": added}]}
    return node.model_validate({**node.model_dump(exclude_unset=True), **{
        k: v.model_dump(exclude_none=True) if isinstance(v, BaseModel) else v for k, v in update.items()}})


@dataclass(frozen=True)
class QueryKind:
    """A query kind: its request model, its runner, how dashboard overrides apply, and what
    else its results depend on (``state``: read from the metadata store, part of the cache key)."""

    model: type[Node]
    run: Callable[[RunContext, Any], dict[str, Any]]
    filters_override: Callable[[Any, Mapping[str, Any]], Any] | None = None
    variables_override: Callable[[Any, Mapping[str, Any]], Any] | None = None
    state: Callable[[MetaDB, Project, Any], Any] | None = None


KINDS: dict[str, QueryKind] = {
    "HogQLQuery": QueryKind(HogQLQuery, run_hogql, _hogql_filters_override, _hogql_variables_override),
    "EventsQuery": QueryKind(EventsQuery, run_events, _events_filters_override),
    **{name: QueryKind(model, run, _insight_filters_override) for name, (model, run) in INSIGHT_SOURCES.items()},
    **{name: QueryKind(model, run) for name, (model, run) in INSIGHT_KINDS.items() if name not in INSIGHT_SOURCES},
    **{name: QueryKind(model, run, state=experiment_state) for name, (model, run) in EXPERIMENT_KINDS.items()},
}
"""Query kind -> how to run it. Insights add their kinds here."""


# -- the service -----------------------------------------------------------------------------


def _mode(request: Any) -> str:
    refresh = request.refresh
    if request.async_:
        return "async"
    if refresh is True:
        return "force_blocking"
    if refresh in (None, False, "force_cache"):
        return "blocking"  # PostHog's query endpoint promotes cache-only to blocking
    return refresh


class QueryService:
    """Runs queries for projects (see module docstring)."""

    def __init__(
        self,
        meta: MetaDB,
        events: EventStore | None,
        *,
        slots_per_project: int = 3,
        concurrency_wait: float = 30.0,
        timeout_seconds: float = 60.0,
        fresh_for: dt.timedelta = dt.timedelta(seconds=60),
        workers: int = 4,
        actions: ActionService | None = None,
    ) -> None:
        self.meta = meta
        self.events = events
        self.actions = actions or ActionService(meta)
        self.slots = ProjectSlots(slots_per_project)
        self.concurrency_wait = concurrency_wait
        self.timeout_seconds = timeout_seconds
        self.fresh_for = fresh_for
        self.cache = ResultCache()
        self.jobs = QueryJobs(self.slots, workers=workers)

    @property
    def kinds(self) -> tuple[type[Node], ...]:
        return tuple(kind.model for kind in KINDS.values())

    # -- POST ------------------------------------------------------------------------------

    def run(self, project: Project, data: Any, *, refused: frozenset[str] = frozenset()) -> tuple[int, dict[str, Any]]:
        """Answer a ``QueryRequest`` body: ``(HTTP status, response body)``.

        ``refused`` names kinds of data the caller may not read (``persons``, ``cohorts``): a
        query that reads them is refused, decided from what the compiler resolved. Such a
        caller never gets a cached answer (the check happens while compiling), and runs now.
        """
        request, node, kind = self._prepare(data)
        mode = _mode(request)
        query_id = request.client_query_id or new_query_id()
        # One read of the project's actions per query: the cache key and the compiler see the
        # same snapshot (so an answer is cached under the key of the actions it was computed with).
        actions = self.actions.snapshot(project.id)
        cache_key = self.cache_key(project, node, actions)
        if refused:
            return 200, self._run_now(project, node, kind, query_id, cache_key, refused, actions)

        if mode == "force_async":
            return 202, {"query_status": self._enqueue(project, node, kind, query_id, cache_key, actions=actions)}
        cached = None if mode == "force_blocking" else self.cache.get(cache_key)
        if cached is not None:
            computed_at, response = cached
            response["is_cached"] = True
            if clock.now() - computed_at < self.fresh_for:
                response["query_status"] = None
                return 200, response
            if mode in ("async", "lazy_async", "async_except_on_cache_miss"):
                status = self._enqueue(project, node, kind, query_id, cache_key, rerun=True, actions=actions)
                response["query_status"] = status
                return 202, response
        elif mode in ("async", "lazy_async"):
            status = self._enqueue(project, node, kind, query_id, cache_key, rerun=False, actions=actions)
            return 202, {"cache_key": cache_key, "query_status": status}
        return 200, self._run_now(project, node, kind, query_id, cache_key, actions=actions)

    def _prepare(self, data: Any) -> tuple[Any, Any, QueryKind]:
        """The validated request, its node with the overrides applied, and its kind."""
        request = parse_request(shallow_json(data, "query"), self.kinds)
        node = request.query
        kind = KINDS[node.kind]
        try:
            if request.filters_override and kind.filters_override:
                node = kind.filters_override(node, request.filters_override)
            if request.variables_override and kind.variables_override:
                node = kind.variables_override(node, request.variables_override)
        except pydantic.ValidationError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        return request, node, kind

    def check(self, node: Any) -> None:
        """Refuse (PostHog's 400 ``parse_error``) a query node no kind here accepts."""
        self._prepare({"query": node})

    def saved(self, project: Project, data: dict[str, Any], *,
              refused: frozenset[str] = frozenset()) -> dict[str, Any] | None:  # fmt: skip
        """A saved insight's response under PostHog's insight refresh modes: ``force_cache``
        (``refresh`` absent) answers from the cache only (None on a miss); the other modes run
        as ``POST /query/`` does (an async mode's answer carries its ``query_status``)."""
        refresh = data.get("refresh")
        if refresh in (None, False, "force_cache"):
            _, node, _ = self._prepare({**data, "refresh": None})
            cached = None if refused else self.cache.get(self.cache_key(project, node))
            if cached is not None:
                response = cached[1]
                response["is_cached"] = True
                response["query_status"] = None
                return response
            if not refused:
                return None
            data = {**data, "refresh": "blocking"}  # a refused caller's check happens while compiling
        return self.run(project, data, refused=refused)[1]

    def cache_key(self, project: Project, node: BaseModel, actions: ActionSnapshot | None = None) -> str:
        """``cache_<32 hex>`` over everything that determines the result: the query, the
        project's settings it runs with, and the metadata it reads (the project's actions, which
        any query may match through ``matchesAction``, and its kind's ``state``), so a change to
        them reaches the next query instead of waiting for the cached answer to go stale.
        ``actions`` is the snapshot already read for this query (read here when None)."""
        kind = KINDS[node.kind]
        payload = {
            "kind": node.kind,
            "query": node.model_dump(mode="json", exclude={"name"}, exclude_none=True),
            "team_id": project.id,
            "timezone": project.timezone,
            "week_start_day": project.week_start_day,
            "test_account_filters": (project.settings or {}).get("test_account_filters"),
            "actions": (actions if actions is not None else self.actions.snapshot(project.id)).state,
            "state": kind.state(self.meta, project, node) if kind.state else None,
            "version": CACHE_VERSION,
        }
        digest = hashlib.blake2b(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS), digest_size=16)
        return "cache_" + digest.hexdigest()

    def _context(self, project: Project, running: Running, refused: frozenset[str] = frozenset(),
                 actions: ActionSnapshot | None = None) -> RunContext:  # fmt: skip
        if self.events is None:
            raise ServiceUnavailable()
        return RunContext(project, self.meta, self.events, running, self.timeout_seconds, self.actions, refused,
                          actions.definitions if actions is not None else None)  # fmt: skip

    def _compute(
        self, project: Project, node: Any, kind: QueryKind, running: Running, cache_key: str,
        refused: frozenset[str] = frozenset(), actions: ActionSnapshot | None = None,
    ) -> tuple[dict[str, Any], int]:
        """Run the query; ``(response body, size of its rows)``, the body cached."""
        started = clock.now()
        ctx = self._context(project, running, refused, actions)
        body = kind.run(ctx, node)
        body.update(
            is_cached=False,
            cache_key=cache_key,
            last_refresh=clock.iso(started),
            next_allowed_client_refresh=clock.iso(started + REFRESH_INTERVAL),
            cache_target_age=clock.iso(started + self.fresh_for),
            calculation_trigger=None,
            timezone=project.timezone or "UTC",
            query_status=None,
        )
        self.cache.put(cache_key, started, body, ctx.result_bytes)
        return body, ctx.result_bytes

    def _run_now(self, project: Project, node: Any, kind: QueryKind, query_id: str, cache_key: str,
                 refused: frozenset[str] = frozenset(),
                 actions: ActionSnapshot | None = None) -> dict[str, Any]:  # fmt: skip
        with self.jobs.track(project.id, query_id) as running:
            try:
                with self.slots.hold(project.id, self.concurrency_wait):
                    return self._compute(project, node, kind, running, cache_key, refused, actions)[0]
            except SlotsBusy:
                raise self._throttled(project, query_id) from None

    def _throttled(self, project: Project, query_id: str) -> QueryThrottled:
        return QueryThrottled(
            f"Exceeded maximum concurrency limit: {self.slots.limit} for key: "
            f"api:query:per-team:{project.id} and task: {query_id}"
        )

    def _enqueue(
        self, project: Project, node: Any, kind: QueryKind, query_id: str, cache_key: str, *, rerun: bool = True,
        actions: ActionSnapshot | None = None,
    ) -> dict[str, Any]:
        frozen = copy.deepcopy(node)

        def work(running: Running) -> tuple[dict[str, Any], int]:
            return self._compute(project, frozen, kind, running, cache_key, actions=actions)  # the queue holds its slot

        try:
            return self.jobs.start(project.id, query_id, work, rerun=rerun)
        except JobsBusy:
            raise self._throttled(project, query_id) from None

    # -- GET / DELETE ------------------------------------------------------------------------

    def status(self, project: Project, query_id: str) -> tuple[int, dict[str, Any]]:
        """PostHog's poll answer: 202 running, 200 done, 400 failed with a message, 500 without."""
        status = self.jobs.status(project.id, query_id)
        if status is None:
            raise NotFound(f"Query {query_id} not found for team {project.id}")
        if status["error"]:
            code = 400 if status["error_message"] else 500
        else:
            code = 200 if status["complete"] else 202
        return code, {"query_status": status}

    def cancel(self, project: Project, query_id: str, *, dequeue_only: bool = False) -> dict[str, Any]:
        return {"message": self.jobs.cancel(project.id, query_id, dequeue_only=dequeue_only)}

    def close(self) -> None:
        self.jobs.close()
