"""Running an operation: resolve where, decide, limit, validate, handle, audit — every door.

Whatever the outcome, the decision is recorded with the status the caller got, so the audit
log and the behaviour cannot disagree, and REST, MCP and the CLI decide the same way.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, replace
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from hedgerow.auth.authorize import Decision, Refused, Target, authorize, refused
from hedgerow.auth.principal import Principal
from hedgerow.errors import AuthenticationFailed, Exposed, NotFound
from hedgerow.ids import parse_id
from hedgerow.services.catalogue.operation import Channel, Context, Operation
from hedgerow.services.catalogue.subjects import Named, read_name, subject
from hedgerow.services.catalogue.validation import validate

if TYPE_CHECKING:
    from hedgerow.services.container import Services
    from hedgerow.store.meta.tenancy import Project

log = logging.getLogger("hedgerow.operations")

CURRENT = "@current"


@dataclass(frozen=True)
class Where:
    """Where the caller says the call is, as the door received it: a project reference
    (``@current`` or an id as text), a project token, or an organization reference."""

    project: str | None = None
    project_token: str | None = None
    organization: str | None = None


@dataclass(frozen=True)
class Detail:
    """How the call arrived, for the audit row only (never for the decision)."""

    method: str
    path: str


@dataclass
class Admission:
    """A decided call. Allowed: ``context`` is what the handler gets. Denied (or stopped before
    a decision could be made): ``error`` is the answer, and its audit row is written."""

    operation: Operation
    decision: Decision
    context: Context | None = None
    error: Exposed | None = None
    recorded: bool = False


def invoke(
    services: "Services",
    principal: Principal | None,
    operation: Operation,
    args: Any,
    *,
    channel: Channel,
    where: Where = Where(),
    detail: Detail | None = None,
    credential_error: Exposed | None = None,
    status: int = 200,
) -> Any:
    """Run ``operation`` for ``principal`` (None when its credentials failed, with
    ``credential_error`` saying why). Returns the handler's result or raises an
    :class:`~hedgerow.errors.Exposed` error; either way one audit row is written."""
    admission = admit(services, principal, operation, channel=channel, where=where, detail=detail,
                      credential_error=credential_error, named=subject(args))  # fmt: skip
    if admission.error is not None:
        raise admission.error
    return perform(services, admission, args, status=status)


def admit(
    services: "Services",
    principal: Principal | None,
    operation: Operation,
    *,
    channel: Channel,
    where: Where = Where(),
    detail: Detail | None = None,
    credential_error: Exposed | None = None,
    named: Named | None = None,
) -> Admission:
    """Resolve where the call is, decide, and charge the rate limit — before any input is
    read, so a refused caller's upload is never taken. A refusal is audited here."""
    decision: Decision | None = None
    target = _bare_target(operation, detail, channel, named)
    try:
        try:
            target, project = _target(services, principal, operation, where, target)
            target = replace(target, subject=read_name(services, project, named))
        except UnknownProjectToken as error:
            decision = Decision(False, "the project token is not valid", target, principal, error)
        else:
            decision = authorize(principal, target, credential_error)
        if not decision.allowed:
            assert decision.error is not None
            raise decision.error
        assert principal is not None
        if operation.place == "project" and project is None:
            raise NotFound("Project not found.")
        if operation.place == "organization" and target.organization_id is None:
            raise NotFound("Organization not found.")
        bucket = target.organization_id or (principal.organization_ids or [principal.key_id])[0]
        services.limiter.charge(bucket, operation.rate)
    except Exposed as error:  # answered in PostHog's shape, and audited
        if decision is None:
            decision = refused(principal, target, error, "the call could not be decided")
        admission = Admission(operation, decision, error=error)
        _record(services, admission, error.status, None)
        return admission
    except Exception:
        if decision is None:
            decision = refused(principal, target, None, "the call could not be decided")
        _record(services, Admission(operation, decision), 500, None)
        raise
    context = Context(principal=principal, services=services, channel=channel, project=project,
                      organization_id=target.organization_id)  # fmt: skip
    return Admission(operation, decision, context)


def perform(services: "Services", admission: Admission, args: Any, *,
            status: int | Callable[[Any], int] = 200) -> Any:  # fmt: skip
    """Validate the input and run the handler of an admitted call; audit it with the outcome
    (``status`` may be worked out from the result, as the door will answer it)."""
    assert admission.context is not None and admission.error is None
    outcome = status if isinstance(status, int) else 500
    try:
        parsed = validate(admission.operation.input, args)
        result = admission.operation.handler(admission.context, parsed)
        outcome = status if isinstance(status, int) else status(result)
        return result
    except Refused as error:
        outcome = error.status
        admission.decision = replace(admission.decision, allowed=False, reason=error.reason, error=error)
        raise
    except Exposed as error:
        outcome = error.status
        raise
    except Exception:
        outcome = 500
        raise
    finally:
        _record(services, admission, outcome, digest(args))


def abandon(services: "Services", admission: Admission, status: int) -> None:
    """An admitted call whose input could not be read (too large, malformed): audit it."""
    _record(services, admission, status, None)


def _record(services: "Services", admission: Admission, status: int, args_digest: str | None) -> None:
    if admission.recorded:
        return
    admission.recorded = True
    try:
        services.audit.record(admission.decision, status, args_digest)
    except Exception:  # noqa: BLE001 - a failed audit write must not hide the answer
        log.exception("could not write audit entry")


class UnknownProjectToken(AuthenticationFailed):
    """A ``token`` query parameter that names no project."""

    def __init__(self) -> None:
        super().__init__(
            "Project API key invalid. You can find your project API key in PostHog project settings."
        )


def digest(args: Any) -> str | None:
    """A SHA-256 of the call's arguments: the audit keeps this, never the arguments."""
    if args is None:
        return None
    try:
        canonical = orjson.dumps(args, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=_opaque)
    except TypeError:
        canonical = repr(args).encode()
    return hashlib.sha256(canonical).hexdigest()


def _opaque(value: Any) -> str:
    if isinstance(value, bytes):
        return "sha256:" + hashlib.sha256(value).hexdigest()
    return repr(value)


def _bare_target(operation: Operation, detail: Detail | None, channel: Channel, named: Named | None) -> Target:
    """What the call is about before anything is looked up: the operation and how it came."""
    return Target(
        method=detail.method if detail else channel.upper(),
        path=detail.path if detail else operation.name,
        scope=operation.scope,
        project_based=operation.place == "project",
        exempt_from_limits=operation.about_caller,
        accepts_project_secret=operation.accepts_project_secret,
        extra_scopes=operation.also,
        self_service=operation.self_service,
        key_ref=named.value if operation.self_service and named else None,
        via=channel,
        subject=named.value if named else None,
    )


def _target(
    services: "Services", principal: Principal | None, operation: Operation, where: Where, target: Target
) -> tuple[Target, "Project | None"]:
    """The project (if any) the call names, and that project's organization.

    An id that cannot be one (``²``, letters, beyond 64 bits) names no project: the call is
    decided without one and answered 404. Raises 401 for an unknown project token.
    """
    project: Project | None = None
    project_id: int | None = None
    organization_id: str | None = None
    organization_name: str | None = None
    if operation.place == "project" and where.project_token is not None:
        project = services.projects.by_token(where.project_token)
        if project is None:
            raise UnknownProjectToken()
        project_id = project.id
    elif operation.place == "project":
        raw = where.project or CURRENT
        if raw == CURRENT:
            project_id = services.projects.current_project_id(principal) if principal else None
        else:
            project_id = parse_id(raw)
    elif operation.place == "organization" and principal is not None:
        organization_id = _organization_id(where.organization or CURRENT, principal, services)
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


def _organization_id(raw: str, principal: Principal, services: "Services") -> str | None:
    """The organization a call names (``@current`` or a UUID); None when it names none."""
    if raw == CURRENT:
        try:
            return services.projects.home_organization(principal).id
        except NotFound:
            return None
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None
