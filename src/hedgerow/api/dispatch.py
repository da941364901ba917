"""Running a route: authenticate, decide, limit, read the body, validate, call the handler,
render, audit.

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
too large or malformed, a handler error — the call leaves exactly one audit row, with the
status the client got.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from hedgerow.api.bodies import MAX_BODY_BYTES, is_form, read_body, read_form
from hedgerow.api.call import Call
from hedgerow.api.errors import http_exception, render_error
from hedgerow.api.paths import ORIGINAL_PATH
from hedgerow.api.responses import JSONResponse
from hedgerow.api.routing import Route
from hedgerow.api.validation import parse_json, validate
from hedgerow.auth.authenticate import authenticate, find_key
from hedgerow.auth.authorize import Decision, Target, authorize, refused
from hedgerow.auth.principal import Principal
from hedgerow.errors import AuthenticationFailed, Exposed, NotFound, ValidationError
from hedgerow.ids import parse_id
from hedgerow.services.container import Services
from hedgerow.services.records import Project

__all__ = ["MAX_BODY_BYTES", "keyed_endpoint", "public_endpoint", "read_body", "unrouted"]

log = logging.getLogger("hedgerow.api")

CURRENT = "@current"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
INVALID_PROJECT_TOKEN = "Project API key invalid. You can find your project API key in PostHog project settings."

Endpoint = Callable[[Request], Awaitable[Response]]
_NULL = object()  # a body that is the JSON literal null (an empty body parses to None)


@dataclass
class _Admission:
    """A decided call: allowed (``response`` is None) or answered already (and audited)."""

    decision: Decision
    project: Project | None
    response: Response | None


def keyed_endpoint(route: Route) -> Endpoint:
    """The ASGI endpoint for a route that personal API keys call."""

    async def endpoint(request: Request) -> Response:
        services: Services = request.app.state.services
        if request.method not in BODY_METHODS:
            return await run_in_threadpool(_run_whole, route, request, services, None)
        authorization = request.headers.get("authorization")
        if find_key(authorization, None, request.query_params) is None and not is_form(request):
            # The key can only be in the body: read it, capped, to look (PostHog's order).
            try:
                body = _json_body(await read_body(request))
            except Exposed as error:
                return await run_in_threadpool(_refuse_unreadable, route, request, services, error)
            return await run_in_threadpool(_run_whole, route, request, services, body)
        admission = await run_in_threadpool(_admit, route, request, services, None)
        if admission.response is not None:
            return admission.response
        try:
            body = await read_form(request) if is_form(request) else _json_body(await read_body(request))
        except Exception as error:  # noqa: BLE001 - rendered and audited, never raised to the server
            return await run_in_threadpool(_finish, services, admission.decision, render_error(error))
        return await run_in_threadpool(_handle, route, request, services, admission, body)

    return endpoint


def public_endpoint(route: Route) -> Endpoint:
    """The ASGI endpoint for a public route (project token or no credentials at all)."""

    async def endpoint(request: Request) -> Response:
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
    target = Target(method=request.method, path=request.scope.get(ORIGINAL_PATH, request.url.path), scope=None)
    reason = "there is no such endpoint" if response.status_code == 404 else "the endpoint does not take this method"
    return _finish(services, refused(principal, target, credential_error, reason), response)


def _run_whole(route: Route, request: Request, services: Services, body: Any) -> Response:
    """Decide and handle in one hop (the body, if any, is already read)."""
    admission = _admit(route, request, services, body)
    if admission.response is not None:
        return admission.response
    return _handle(route, request, services, admission, body)


def _admit(route: Route, request: Request, services: Services, body: Any) -> _Admission:
    """Authenticate, resolve the target, decide and charge the rate limit."""
    target = _base_target(route, request)
    principal: Principal | None = None
    project: Project | None = None
    decision: Decision | None = None
    try:
        principal, credential_error = authenticate(
            services.meta, request.headers.get("authorization"), body, request.query_params
        )
        try:
            target, project = _resolve(route, request, principal, services, target)
        except Exposed as error:
            if principal is not None:
                decision = refused(principal, target, error, "the project token is not valid")
                return _Admission(decision, None, _finish(services, decision, render_error(error)))
        decision = authorize(principal, target, credential_error)
        if not decision.allowed:
            assert decision.error is not None
            return _Admission(decision, project, _finish(services, decision, render_error(decision.error)))
        assert principal is not None
        if route.project_based and project is None:
            raise NotFound("Project not found.")
        bucket = target.organization_id or (principal.organization_ids or [principal.key_id])[0]
        services.limiter.charge(bucket, route.rate)
    except Exception as error:  # noqa: BLE001 - every failure becomes a PostHog-shaped answer
        if decision is None:
            reason = "the call could not be decided"
            decision = refused(principal, target, error if isinstance(error, Exposed) else None, reason)
        return _Admission(decision, project, _finish(services, decision, render_error(error)))
    return _Admission(decision, project, None)


def _handle(route: Route, request: Request, services: Services, admission: _Admission, body: Any) -> Response:
    """Validate the body, run the handler, render; audit the decision with the status sent."""
    decision = admission.decision
    try:
        if body is _NULL:
            if route.body is not None:  # an object is expected: DRF refuses null, not "no body"
                raise ValidationError("This field may not be null.", code="null", attr="non_field_errors")
            body = None
        call = Call(
            method=request.method,
            url=request.url,
            path_params=dict(request.path_params),
            query=request.query_params,
            data=validate(route.body, body) if route.body else body,
            principal=decision.principal,
            project=admission.project,
            services=services,
            headers=dict(request.headers),
        )
        result = route.handler(call)
        response = result if isinstance(result, Response) else JSONResponse(result, status_code=route.status)
    except Exception as error:  # noqa: BLE001 - every failure becomes a PostHog-shaped answer
        response = render_error(error)
    return _finish(services, decision, response)


def _json_body(raw: bytes) -> Any:
    """The body as JSON: None when empty, :data:`_NULL` for a literal ``null``."""
    body = parse_json(raw)
    return _NULL if body is None and raw.strip() else body


def _refuse_unreadable(route: Route, request: Request, services: Services, error: Exposed) -> Response:
    """A call with no key outside its body, and a body that could not be read to find one."""
    decision = refused(None, _base_target(route, request), error, "its body could not be read")
    return _finish(services, decision, render_error(error))


def _finish(services: Services, decision: Decision, response: Response) -> Response:
    """Record the decision with the status the client gets, then hand the answer back."""
    try:
        services.audit.record(decision, response.status_code)
    except Exception:  # noqa: BLE001 - a failed audit write must not hide the answer
        log.exception("could not write audit entry")
    return response


def _base_target(route: Route, request: Request) -> Target:
    """What the call is about before anything is looked up: the route and the path called."""
    return Target(
        method=request.method,
        path=request.scope.get(ORIGINAL_PATH, request.url.path),
        scope=route.scope,
        project_based=route.project_based,
        exempt_from_limits=route.exempt_from_limits,
        accepts_project_secret=route.accepts_project_secret,
        extra_scopes=route.extra_scopes,
        self_service=route.self_service,
        key_ref=request.path_params.get("key_id"),
        via="rest",
    )


def _resolve(
    route: Route, request: Request, principal: Principal | None, services: Services, target: Target
) -> tuple[Target, Project | None]:
    """The project (if any) the call names, and that project's organization.

    An id that cannot be one (``²``, letters, beyond 64 bits) names no project: the call is
    decided without one and answered 404. Raises 401 for an unknown project token.
    """
    project: Project | None = None
    project_id: int | None = None
    organization_id: str | None = None
    organization_name: str | None = None
    token = request.query_params.get("token") or request.query_params.get("api_key")
    if route.project_from_token and token:
        project = services.projects.by_token(token)
        if project is None:
            raise AuthenticationFailed(INVALID_PROJECT_TOKEN)
        project_id = project.id
    elif route.project_based:
        raw = request.path_params.get("project_id", CURRENT)
        if raw == CURRENT:
            project_id = services.projects.current_project_id(principal) if principal else None
        else:
            project_id = parse_id(raw)
    elif "organization_id" in request.path_params and principal is not None:
        organization_id = _organization_id(request.path_params["organization_id"], principal, services)
    if project_id is not None:
        found = services.projects.with_organization(project_id)
        if found is not None:
            project, organization = found
            organization_id, organization_name = organization.id, organization.name
    elif organization_id is not None:
        org = services.projects.organization(organization_id)
        organization_name = org.name if org else None
    resolved = replace(
        target,
        project_id=project_id,
        project_name=project.name if project else None,
        organization_id=organization_id,
        organization_name=organization_name,
    )
    return resolved, project


def _organization_id(raw: str, principal: Principal, services: Services) -> str | None:
    """The organization a path names (``@current`` or a UUID); None when it names none."""
    if raw == CURRENT:
        try:
            return services.projects.home_organization(principal).id
        except NotFound:
            return None
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None
