"""``GET /api/schema/``: the OpenAPI document for every route."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hedgerow.api.openapi import document
from hedgerow.api.responses import JSONResponse
from hedgerow.api.routing import RouteTable
from hedgerow.services.container import Services

routes = RouteTable()


@routes.public("GET", "/api/schema/", name="schema_retrieve")
async def schema(request: Request, services: Services) -> Response:
    """The OpenAPI 3.1 description of this server."""
    return JSONResponse(document())
