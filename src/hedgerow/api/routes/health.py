"""Liveness: ``GET /_health`` answers 200 once the server is ready."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hedgerow.api.responses import JSONResponse
from hedgerow.api.routing import RouteTable
from hedgerow.services.container import Services

routes = RouteTable()


@routes.public("GET", "/_health/", name="health")
async def health(request: Request, services: Services) -> Response:
    """Whether the server is up."""
    return JSONResponse({"status": "ok"})
