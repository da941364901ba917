"""The query API: ``/api/projects/:id/query/`` (run), ``.../query/:query_id/`` (poll, cancel).

All three count as reads (``query:read``), as in PostHog, and share the ``query`` budget.
"""

from __future__ import annotations

from typing import Any

from hedgerow.api.call import Call
from hedgerow.api.responses import JSONResponse
from hedgerow.api.routing import RouteTable

routes = RouteTable()

BASE = "/api/projects/{project_id}/query/"
ONE = BASE + "{query_id}/"


@routes.post(BASE, name="query_create", scope="query:read", rate="query")
def create_query(call: Call) -> Any:
    """Run a query (HogQLQuery, EventsQuery...): 200 with results, or 202 with a query_status."""
    assert call.project is not None
    status, body = call.services.query.run(call.project, call.data)
    return JSONResponse(body, status_code=status)


@routes.get(ONE, name="query_retrieve", scope="query:read", rate="query")
def retrieve_query(call: Call) -> Any:
    """An async query's status: 202 running, 200 done (results inside), 400/500 failed."""
    assert call.project is not None
    status, body = call.services.query.status(call.project, call.path_params["query_id"])
    return JSONResponse(body, status_code=status)


@routes.delete(ONE, name="query_destroy", scope="query:read", rate="query")
def cancel_query(call: Call) -> Any:
    """Cancel a running or queued query by id."""
    assert call.project is not None
    dequeue_only = call.query.get("dequeue_only") == "true"
    return call.services.query.cancel(call.project, call.path_params["query_id"], dequeue_only=dequeue_only)
