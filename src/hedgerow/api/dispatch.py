"""REST's door onto the catalogue: authenticate, admit (decide, limit), read the body,
perform the bound operation, render its result in PostHog's shapes.

Nothing of a keyed call's body is read before the call is decided when the key is in the
``Authorization`` header or the query string: a caller without a valid key, or without the
right, gets its answer without the server taking its upload. PostHog also accepts the key
in the body (after the header, before the query); a call that has no key in the header or
the query is therefore read — as JSON only, under the byte cap, while streaming — to look
for one there. A multipart body is never searched for a key. When the query carries a key,
the body is not searched either (the one departure from PostHog's order, which would
require reading the body first).

Database work happens on worker threads: one hop for a call without a body, two for a call
whose body is read after the decision. Whatever the outcome — refused, throttled, a body
too large or malformed, a handler error — the call leaves exactly one audit row
(:mod:`hedgerow.services.catalogue.invoke` writes it), with the status the client got.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pydantic
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from hedgerow.api.bodies import MAX_BODY_BYTES, is_form, read_body, read_form
from hedgerow.api.errors import http_exception, render_error
from hedgerow.api.pagination import envelope
from hedgerow.api.paths import ORIGINAL_PATH
from hedgerow.api.responses import JSONResponse
from hedgerow.api.routing import Route
from hedgerow.api.validation import parse_json
from hedgerow.auth.authenticate import authenticate, find_key
from hedgerow.auth.authorize import Target, refused
from hedgerow.errors import Exposed, ValidationError
from hedgerow.services.catalogue import Admission, Detail, Listed, Reply, Where, abandon, admit, perform, wire
from hedgerow.services.catalogue.invoke import subject
from hedgerow.services.container import Services

__all__ = ["MAX_BODY_BYTES", "keyed_endpoint", "public_endpoint", "read_body", "unrouted"]

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PLACE_PARAMS = ("project_id", "organization_id")
_NULL = object()  # a body that is the JSON literal null (an empty body parses to None)

Endpoint = Callable[[Request], Awaitable[Response]]


def keyed_endpoint(route: Route) -> Endpoint:
    """The ASGI endpoint for a route that personal API keys call."""

    async def endpoint(request: Request) -> Response:
        services: Services = request.app.state.services
        if request.method not in BODY_METHODS:
            return await run_in_threadpool(_run_whole, route, request, services, None)
        if find_key(request.headers.get("authorization"), None, request.query_params) is None and not is_form(request):
            # The key can only be in the body: read it, capped, to look (PostHog's order).
            try:
                body = _json_body(await read_body(request))
            except Exposed as error:
                return await run_in_threadpool(_refuse_unreadable, route, request, services, error)
            return await run_in_threadpool(_run_whole, route, request, services, body)
        admission = await run_in_threadpool(_admit, route, request, services, None)
        if admission.error is not None:
            return render_error(admission.error)
        try:
            body = await read_form(request) if is_form(request) else _json_body(await read_body(request))
        except Exception as error:  # noqa: BLE001 - rendered and audited, never raised to the server
            response = render_error(error)
            await run_in_threadpool(abandon, services, admission, response.status_code)
            return response
        return await run_in_threadpool(_perform, route, request, services, admission, body)

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


async def unrouted(request: Request, exc: Exception) -> Response:
    """Starlette's routing errors (no such path, a method the path does not take), in
    PostHog's shape; a call that carries a key (header or query) leaves its audit row too."""
    response = await http_exception(request, exc)
    if find_key(request.headers.get("authorization"), None, request.query_params) is None:
        return response
    return await run_in_threadpool(_record_unrouted, request, response)


def _record_unrouted(request: Request, response: Response) -> Response:
    services: Services = request.app.state.services
    principal, credential_error = authenticate(
        services.meta, request.headers.get("authorization"), None, request.query_params
    )
    target = Target(method=request.method, path=_path(request), scope=None)
    reason = "there is no such endpoint" if response.status_code == 404 else "the endpoint does not take this method"
    decision = refused(principal, target, credential_error, reason)
    try:
        services.audit.record(decision, response.status_code)
    except Exception:  # noqa: BLE001 - a failed audit write must not hide the answer
        pass
    return response


def _admit(route: Route, request: Request, services: Services, body: Any) -> Admission:
    """Authenticate (the body, when already read, may hold the key), resolve, decide, limit."""
    assert route.operation is not None
    principal, credential_error = authenticate(
        services.meta, request.headers.get("authorization"), body if isinstance(body, dict) else None,
        request.query_params,
    )  # fmt: skip
    return admit(
        services, principal, route.operation, channel="rest", where=_where(route, request),
        detail=Detail(request.method, _path(request)), credential_error=credential_error,
        named=subject(_arguments(request, None)),
    )  # fmt: skip


def _run_whole(route: Route, request: Request, services: Services, body: Any) -> Response:
    """Decide and perform in one hop (the body, if any, is already read)."""
    admission = _admit(route, request, services, body)
    if admission.error is not None:
        return render_error(admission.error)
    return _perform(route, request, services, admission, body)


def _perform(route: Route, request: Request, services: Services, admission: Admission, body: Any) -> Response:
    """Validate the input, run the operation, render; the audit row follows the answer."""
    operation = route.operation
    assert operation is not None
    if request.method == "DELETE":
        body = None  # a deletion names what it deletes in its path and query; a body is ignored
    if body is _NULL:
        if not issubclass(operation.input, pydantic.RootModel):  # DRF refuses null, not "no body"
            error = ValidationError("This field may not be null.", code="null", attr="non_field_errors")
            abandon(services, admission, error.status)
            return render_error(error)
        body = None
    try:
        result = perform(services, admission, _arguments(request, body),
                         status=lambda found: _status(found, route.status, request))  # fmt: skip
    except Exception as error:  # noqa: BLE001 - every failure becomes a PostHog-shaped answer
        return render_error(error)
    return render(result, route.status, request)


def _refuse_unreadable(route: Route, request: Request, services: Services, error: Exposed) -> Response:
    """A call with no key outside its body, and a body that could not be read to find one."""
    assert route.operation is not None
    target = Target(method=request.method, path=_path(request), scope=route.operation.scope)
    try:
        services.audit.record(refused(None, target, error, "its body could not be read"), error.status)
    except Exception:  # noqa: BLE001 - a failed audit write must not hide the answer
        pass
    return render_error(error)


def _json_body(raw: bytes) -> Any:
    """The body as JSON: None when empty, :data:`_NULL` for a literal ``null``."""
    body = parse_json(raw)
    return _NULL if body is None and raw.strip() else body


def _path(request: Request) -> str:
    return request.scope.get(ORIGINAL_PATH, request.url.path)


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


def _status(result: Any, status: int, request: Request) -> int:
    """The status :func:`render` will answer ``result`` with."""
    if isinstance(result, Reply):
        return 304 if _unchanged(result, request) else result.status
    return status


def render(result: Any, status: int, request: Request) -> Response:
    """An operation's result as PostHog answers it (304 when the client holds its ETag)."""
    result = wire(result)
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
