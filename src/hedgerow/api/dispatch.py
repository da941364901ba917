"""REST's door onto the catalogue: read the body, authenticate, invoke the bound operation,
render its result in PostHog's shapes.

Key-authenticated routes take one hop to a worker thread, where everything that touches a
database happens in order (:func:`~hedgerow.services.catalogue.invoke` decides, limits,
validates, runs and audits).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from hedgerow.api.errors import render_error
from hedgerow.api.paths import ORIGINAL_PATH
from hedgerow.api.pagination import envelope
from hedgerow.api.responses import JSONResponse
from hedgerow.api.routing import Route
from hedgerow.api.validation import parse_json
from hedgerow.auth.authenticate import authenticate
from hedgerow.errors import ParseError, PayloadTooLarge
from hedgerow.services.catalogue import Detail, Listed, Reply, Where, invoke
from hedgerow.services.container import Services

log = logging.getLogger("hedgerow.api")

MAX_BODY_BYTES = 20 * 1024 * 1024

Endpoint = Callable[[Request], Awaitable[Response]]


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refusing more than ``limit`` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge()
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def keyed_endpoint(route: Route) -> Endpoint:
    """The ASGI endpoint for a route that personal API keys call."""

    async def endpoint(request: Request) -> Response:
        services: Services = request.app.state.services
        body: Any = _JSON
        try:
            if request.method in ("POST", "PUT", "PATCH", "DELETE"):
                if request.headers.get("content-type", "").startswith("multipart/form-data"):
                    body = await read_form(request)
                    raw = b""
                else:
                    raw = await read_body(request)
            else:
                raw = b""
        except Exception as error:  # noqa: BLE001 - rendered, never raised to the server
            return render_error(error)
        return await run_in_threadpool(_run, route, request, raw, services, body)

    return endpoint


def public_endpoint(route: Route) -> Endpoint:
    """The ASGI endpoint for a public route (project token or no credentials at all)."""

    async def endpoint(request: Request) -> Response:
        assert route.handler is not None
        try:
            return await route.handler(request, request.app.state.services)
        except Exception as error:  # noqa: BLE001 - rendered, never raised to the server
            return render_error(error)

    return endpoint


async def read_form(request: Request) -> dict[str, Any]:
    """A multipart body as a dict: text fields as strings, files as their bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLarge()
    try:
        form = await request.form(max_files=4, max_fields=200)
    except Exception:  # noqa: BLE001 - malformed multipart bodies are the client's problem
        raise ParseError("Multipart form parse error - Invalid boundary in multipart: None") from None
    found: dict[str, Any] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            found[key] = await value.read()
        else:
            found.setdefault(key, value)
    return found


_JSON = object()  # marker: the body is JSON, parse the raw bytes
_PLACE_PARAMS = ("project_id", "organization_id")


def _run(route: Route, request: Request, raw: bytes, services: Services, parsed: Any = _JSON) -> Response:
    """Translate the request into an operation's input, invoke it, and render the result."""
    operation = route.operation
    assert operation is not None
    principal = None
    credential_error = None
    where = Where()
    detail = Detail(request.method, request.scope.get(ORIGINAL_PATH, request.url.path))
    try:
        body = parse_json(raw) if parsed is _JSON else parsed
        principal, credential_error = authenticate(
            services.meta, request.headers.get("authorization"), body, request.query_params
        )
        where = _where(route, request)
        result = invoke(
            services, principal, operation, _arguments(request, body),
            channel="rest", where=where, detail=detail, credential_error=credential_error,
            status=route.status,
        )  # fmt: skip
    except Exception as error:  # noqa: BLE001 - every failure becomes a PostHog-shaped answer
        return render_error(error)
    return render(result, route.status, request)


def _where(route: Route, request: Request) -> Where:
    """The project or organization the path names (or the ``token`` query parameter)."""
    if route.project_from_token:
        token = request.query_params.get("token") or request.query_params.get("api_key")
        if token:
            return Where(project_token=token)
    return Where(
        project=request.path_params.get("project_id"),
        organization=request.path_params.get("organization_id"),
    )


def _arguments(request: Request, body: Any) -> Any:
    """The operation's input: the query's parameters, the body's fields over them, and the
    ids the path names over both."""
    path = {k: v for k, v in request.path_params.items() if k not in _PLACE_PARAMS}
    if body is not None and not isinstance(body, dict):
        return body  # not an object: the input model refuses it in DRF's words
    return {**dict(request.query_params.items()), **(body or {}), **path}


def _unchanged(reply: Reply, request: Request) -> bool:
    """A weak-ETag match between the reply and the request's ``If-None-Match``."""
    tag = reply.headers.get("ETag")
    presented = request.headers.get("if-none-match", "")
    if not tag or not presented:
        return False
    return tag.removeprefix("W/") in {t.strip().removeprefix("W/") for t in presented.split(",")}


def render(result: Any, status: int, request: Request) -> Response:
    """An operation's result as PostHog answers it (304 when the client holds its ETag)."""
    if isinstance(result, Reply):
        if _unchanged(result, request):
            return Response(status_code=304, headers=result.headers)
        if result.body is None:
            return Response(status_code=result.status, headers=result.headers)
        return JSONResponse(result.body, status_code=result.status, headers=result.headers)
    if isinstance(result, Listed):
        return JSONResponse(envelope(request.url, result), status_code=status)
    if result is None:
        return Response(status_code=status)
    return JSONResponse(result, status_code=status)
