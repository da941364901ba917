"""One place that turns errors into responses: PostHog's ``{"type","code","detail","attr"}``."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from hedgerow.api.responses import JSONResponse
from hedgerow.errors import SERVER_ERROR_BODY, Exposed, MethodNotAllowed, NotFound

log = logging.getLogger("hedgerow.api")


def render_error(error: BaseException) -> Response:
    """The response for any error; unexpected ones become an opaque 500 (and are logged)."""
    if isinstance(error, Exposed):
        return JSONResponse(error.body(), status_code=error.status, headers=error.headers)
    log.error("unhandled error", exc_info=error)
    return JSONResponse(SERVER_ERROR_BODY, status_code=500)


async def http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own routing errors (unknown path, wrong method) in PostHog's shape."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return render_error(NotFound("Endpoint not found."))
    if exc.status_code == 405:
        allow = ", ".join(_allowed(request)) or (exc.headers or {}).get("Allow")
        return render_error(MethodNotAllowed(request.method, headers={"Allow": allow} if allow else None))
    return JSONResponse(
        {"type": "invalid_request", "code": "error", "detail": exc.detail, "attr": None},
        status_code=exc.status_code,
    )


def _allowed(request: Request) -> list[str]:
    """Every method the path takes (RFC 9110's ``Allow``): one route per method here, so
    Starlette's own header names only the first route that matched the path."""
    methods: set[str] = set()
    for route in getattr(request.app, "routes", []):
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE and getattr(route, "methods", None):
            methods |= set(route.methods)
    return sorted(methods)


async def unexpected(request: Request, exc: Exception) -> Response:
    return render_error(exc)
