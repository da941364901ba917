"""The query API: run a query (HogQLQuery, EventsQuery...), poll or cancel an async one.

All count as reads (``query:read``), as in PostHog, and share the ``query`` budget.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel

from hedgerow.auth.scopes import Scope, grants
from hedgerow.services.catalogue import Catalogue, Context, Reply, Tool
from hedgerow.services.query import KINDS
from hedgerow.services.query_schema import REFRESH_MODES

operations = Catalogue()
PERSON_READ = Scope("person", "read")
ACTION_READ = Scope("action", "read")

QUERY_RUN_SCHEMA = {
    "type": "object",
    "properties": {
        "query": {
            "type": "object",
            "description": "A query node: {'kind': 'HogQLQuery', 'query': '...'}, {'kind': 'EventsQuery', ...},"
                           " an insight query (TrendsQuery, FunnelsQuery...), or an ActorsQuery for the persons"
                           " behind an insight's data point (needs person read)",
            "properties": {"kind": {"enum": list(KINDS)}},
            "required": ["kind"],
        },
        "refresh": {"description": "blocking, force_blocking, async, ... (or a boolean)",
                    "anyOf": [{"enum": list(REFRESH_MODES)}, {"type": "boolean"}]},
        "client_query_id": {"type": "string"},
    },
    "required": ["query"],
    "examples": [{"query": {"kind": "HogQLQuery", "query": "select event, count() from events group by event"}}],
}


class QueryRequest(RootModel[Any]):
    """PostHog's query request: ``query`` (a query node) plus ``refresh``, ``client_query_id``,
    ``filters_override``, ``variables_override``... (checked by the query service, which
    answers malformed requests in PostHog's words)."""

    model_config = ConfigDict(json_schema_extra=QUERY_RUN_SCHEMA)


class SQLRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    query: str = Field(description="A HogQL query, e.g. select event, count() from events group by event")


class QueryId(BaseModel):
    model_config = ConfigDict(extra="ignore")
    query_id: str
    dequeue_only: str | None = None


def refused_data(ctx: Context) -> frozenset[str]:
    """What a query may not read: for agents without ``person`` read, persons and cohort
    membership; without ``action`` read, matches against actions. Other keys keep PostHog's
    rule (``query:read`` reads the whole project)."""
    if ctx.principal.agent is None:
        return frozenset()
    refused = set()
    if not grants(ctx.principal.scopes, PERSON_READ):
        refused |= {"persons", "cohorts"}
    if not grants(ctx.principal.scopes, ACTION_READ):
        refused.add("actions")
    return frozenset(refused)


@operations.operation("query.run", "query:read", input=QueryRequest, rate="query",
                      tool=Tool("query-run", "Run a query", read_only=True, input_schema=QUERY_RUN_SCHEMA))  # fmt: skip
def run_query(ctx: Context, args: QueryRequest) -> Reply:
    """Run a query: 200 with results, or 202 with a query_status."""
    assert ctx.project is not None
    status, body = ctx.services.query.run(ctx.project, args.root, refused=refused_data(ctx))
    return Reply(status, body)


@operations.operation("query.sql", "query:read", input=SQLRequest, rate="query",
                      tool=Tool("execute-sql", "Run a HogQL query", read_only=True))  # fmt: skip
def run_sql(ctx: Context, args: SQLRequest) -> Reply:
    """Run one HogQL query (a ``HogQLQuery``) and answer its columns and rows."""
    assert ctx.project is not None
    request = {"query": {"kind": "HogQLQuery", "query": args.query}}
    status, body = ctx.services.query.run(ctx.project, request, refused=refused_data(ctx))
    return Reply(status, body)


@operations.operation("query.status", "query:read", input=QueryId, rate="query")
def query_status(ctx: Context, args: QueryId) -> Reply:
    """An async query's status: 202 running, 200 done (results inside), 400/500 failed."""
    assert ctx.project is not None
    status, body = ctx.services.query.status(ctx.project, args.query_id)
    return Reply(status, body)


@operations.operation("query.cancel", "query:read", input=QueryId, rate="query")
def cancel_query(ctx: Context, args: QueryId) -> Any:
    """Cancel a running or queued query by id."""
    assert ctx.project is not None
    return ctx.services.query.cancel(ctx.project, args.query_id, dequeue_only=args.dequeue_only == "true")
