"""Running an operation: resolve where, decide, limit, validate, handle, audit — every door.

Whatever the outcome, the decision is recorded with the status the caller got, so the audit
log and the behaviour cannot disagree, and REST, MCP and the CLI decide the same way.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import orjson

from hedgerow.auth.authorize import Decision, Refused, Target, authorize
from hedgerow.auth.principal import Principal
from hedgerow.errors import AuthenticationFailed, Exposed, NotFound
from hedgerow.services.catalogue.operation import Channel, Context, Operation
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
    decision: Decision | None = None
    outcome = status
    try:
        try:
            target, project = _target(services, principal, operation, where, detail, channel, subject(args))
        except UnknownProjectToken as error:
            target, project = error.target(operation, detail, channel), None
            decision = Decision(False, "the project token is not valid", target, principal, error)
        else:
            decision = authorize(principal, target, credential_error)
        if not decision.allowed:
            assert decision.error is not None
            raise decision.error
        assert principal is not None
        if operation.place == "project" and project is None:
            raise NotFound("Project not found.")
        bucket = target.organization_id or (principal.organization_ids or [principal.key_id])[0]
        services.limiter.charge(bucket, operation.rate)
        parsed = validate(operation.input, args)
        context = Context(
            principal=principal,
            services=services,
            channel=channel,
            project=project,
            organization_id=target.organization_id,
        )
        return operation.handler(context, parsed)
    except Refused as error:
        outcome = error.status
        if decision is not None:
            decision = replace(decision, allowed=False, reason=error.reason, error=error)
        raise
    except Exposed as error:
        outcome = error.status
        raise
    except Exception:
        outcome = 500
        raise
    finally:
        if decision is not None:
            try:
                services.audit.record(decision, outcome, digest(args))
            except Exception:  # noqa: BLE001 - a failed audit write must not hide the answer
                log.exception("could not write audit entry")


class UnknownProjectToken(AuthenticationFailed):
    """A ``token`` query parameter that names no project."""

    def __init__(self) -> None:
        super().__init__(
            "Project API key invalid. You can find your project API key in PostHog project settings."
        )

    def target(self, operation: Operation, detail: Detail | None, channel: Channel) -> Target:
        return Target(
            method=detail.method if detail else channel.upper(),
            path=detail.path if detail else operation.name,
            scope=operation.scope,
            project_based=True,
            via=channel,
        )


SUBJECT_FIELDS = ("flag_id", "flagId", "flag_key", "flagKey", "cohort_id", "person_id", "agent_id",
                  "definition_id", "query_id", "flag_ref", "key_id", "key")  # fmt: skip


def subject(args: Any) -> str | None:
    """What the call names, for the audit sentence (a flag's key, an id...)."""
    if not isinstance(args, dict):
        return None
    for name in SUBJECT_FIELDS:
        value = args.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            return str(value)[:200]
    return None


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


def _digits(raw: str) -> int | None:
    """An id written in ASCII digits (``str.isdigit`` also accepts '²')."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


def _target(
    services: "Services",
    principal: Principal | None,
    operation: Operation,
    where: Where,
    detail: Detail | None,
    channel: Channel,
    named: str | None = None,
) -> tuple[Target, "Project | None"]:
    """What the call is about: the project (if any) it names and that project's organization."""
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
            project_id = _digits(raw)
    elif operation.place == "organization" and principal is not None:
        raw = where.organization or CURRENT
        organization_id = services.projects.home_organization(principal).id if raw == CURRENT else raw
    if project_id is not None:
        found = services.projects.with_organization(project_id)
        if found is not None:
            project, organization = found
            organization_id, organization_name = organization.id, organization.name
    elif organization_id is not None:
        org = services.projects.organization(organization_id)
        organization_name = org.name if org else None
    target = Target(
        method=detail.method if detail else channel.upper(),
        path=detail.path if detail else operation.name,
        scope=operation.scope,
        project_id=project_id,
        project_name=project.name if project else None,
        organization_id=organization_id,
        organization_name=organization_name,
        project_based=operation.place == "project",
        exempt_from_limits=operation.about_caller,
        accepts_project_secret=operation.accepts_project_secret,
        extra_scopes=operation.also,
        via=channel,
        subject=named,
    )
    return target, project
