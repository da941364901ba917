"""Running a route: authenticate, decide, audit, limit, validate, call the handler, render.

Key-authenticated routes take one hop to a worker thread, where everything that touches a
database happens in order. Whatever the outcome, the decision is recorded with the status the
client got.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from hedgerow.api.call import Call
from hedgerow.api.errors import render_error
from hedgerow.api.paths import ORIGINAL_PATH
from hedgerow.api.responses import JSONResponse
from hedgerow.api.routing import Route
from hedgerow.api.validation import parse_json, validate
from hedgerow.auth.authenticate import authenticate
from hedgerow.auth.authorize import Decision, Target, authorize
from hedgerow.auth.principal import Principal
from hedgerow.errors import AuthenticationFailed, NotFound, ParseError, PayloadTooLarge
from hedgerow.services.container import Services
from hedgerow.store.meta.tenancy import Project

log = logging.getLogger("hedgerow.api")

MAX_BODY_BYTES = 20 * 1024 * 1024
CURRENT = "@current"

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


def _run(route: Route, request: Request, raw: bytes, services: Services, parsed: Any = _JSON) -> Response:
    decision: Decision | None = None
    try:
        body = parse_json(raw) if parsed is _JSON else parsed
        principal, credential_error = authenticate(
            services.meta, request.headers.get("authorization"), body, request.query_params
        )
        target, project = _target(route, request, principal, services)
        decision = authorize(principal, target, credential_error)
        if not decision.allowed:
            assert decision.error is not None
            raise decision.error
        assert principal is not None
        if route.project_based and project is None:
            raise NotFound("Project not found.")
        bucket = target.organization_id or (principal.organization_ids or [principal.key_id])[0]
        services.limiter.charge(bucket, route.rate)
        call = Call(
            method=request.method,
            url=request.url,
            path_params=dict(request.path_params),
            query=request.query_params,
            data=validate(route.body, body) if route.body else body,
            principal=principal,
            project=project,
            services=services,
            headers=dict(request.headers),
        )
        result = route.handler(call)
        response = result if isinstance(result, Response) else JSONResponse(result, status_code=route.status)
    except Exception as error:  # noqa: BLE001 - every failure becomes a PostHog-shaped answer
        response = render_error(error)
    if decision is not None:
        try:
            services.audit.record(decision, response.status_code)
        except Exception:  # noqa: BLE001 - a failed audit write must not hide the answer
            log.exception("could not write audit entry")
    return response


def _target(
    route: Route, request: Request, principal: Principal | None, services: Services
) -> tuple[Target, Project | None]:
    """What the call is about: the project (if any) it names and that project's organization."""
    path = request.scope.get(ORIGINAL_PATH, request.url.path)
    project: Project | None = None
    project_id: int | None = None
    organization_id: str | None = None
    organization_name: str | None = None
    if route.project_from_token and (request.query_params.get("token") or request.query_params.get("api_key")):
        token = request.query_params.get("token") or request.query_params.get("api_key") or ""
        project = services.projects.by_token(token)
        if project is None:
            raise AuthenticationFailed(
                "Project API key invalid. You can find your project API key in PostHog project settings."
            )
        project_id = project.id
    elif route.project_based:
        raw = request.path_params.get("project_id", CURRENT)
        if raw == CURRENT:
            project_id = services.projects.current_project_id(principal) if principal else None
        elif raw.isdigit():
            project_id = int(raw)
    elif "organization_id" in request.path_params and principal is not None:
        raw = request.path_params["organization_id"]
        if raw == CURRENT:
            organization_id = services.projects.home_organization(principal).id
        else:
            organization_id = raw
    if project_id is not None:
        found = services.projects.with_organization(project_id)
        if found is not None:
            project, organization = found
            organization_id, organization_name = organization.id, organization.name
    elif organization_id is not None:
        org = services.projects.organization(organization_id)
        organization_name = org.name if org else None
    target = Target(
        method=request.method,
        path=path,
        scope=route.scope,
        project_id=project_id,
        project_name=project.name if project else None,
        organization_id=organization_id,
        organization_name=organization_name,
        project_based=route.project_based,
        exempt_from_limits=route.exempt_from_limits,
        accepts_project_secret=route.accepts_project_secret,
        extra_scopes=route.extra_scopes,
        via="rest",
    )
    return target, project
