"""The one decision function: may this principal do this action on this object here?

Every caller that needs permission — REST routes, MCP tools, flag definitions — builds a
:class:`Target` and asks :func:`authorize`. The resulting :class:`Decision` is what the audit
log records, allowed or denied, so the log and the behaviour can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from hedgerow.auth.access import level, noun
from hedgerow.auth.principal import Principal
from hedgerow.auth.scopes import Scope, grants
from hedgerow.errors import Exposed, PermissionDenied


@dataclass(frozen=True)
class Target:
    """What a call is about, resolved before the decision.

    ``project_id`` is the project the call names (even when no such project exists);
    ``organization_id`` is the organization it belongs to, when known. ``project_based``
    says whether the endpoint lives under a project; ``exempt_from_limits`` marks endpoints
    about the caller itself (``/api/users/@me/``), which key limits do not apply to.
    ``self_service`` marks the personal-API-key endpoints, where a key may only read itself
    (``key_ref`` is the key the call names: ``@current`` or an id).
    """

    method: str
    path: str
    scope: Scope | None
    project_id: int | None = None
    project_name: str | None = None
    organization_id: str | None = None
    organization_name: str | None = None
    project_based: bool = False
    exempt_from_limits: bool = False
    accepts_project_secret: bool = False
    extra_scopes: tuple[Scope, ...] = ()
    self_service: bool = False
    key_ref: str | None = None
    via: str = "rest"
    subject: str | None = None


@dataclass(frozen=True)
class Decision:
    """The outcome: allowed or not, why in plain words, and the error a denied caller gets."""

    allowed: bool
    reason: str
    target: Target
    principal: Principal | None
    error: Exposed | None = None


class Refused(PermissionDenied):
    """A refusal decided while the operation runs (what a query reads is known only once it
    is compiled): the audit records the call as denied, with ``reason``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


MANAGED_BY_PEOPLE = ("personal_api_key", "agent")


def _deny(principal: Principal | None, target: Target, reason: str, error: Exposed | None) -> Decision:
    return Decision(False, reason, target, principal, error)


def refused(principal: Principal | None, target: Target, error: Exposed | None, reason: str) -> Decision:
    """A call stopped before it could be decided (its body could not be read, the project
    token it names does not exist): recorded like a denial, with ``reason``."""
    return _deny(principal, target, reason, error)


SELF_SERVICE_ONLY = "This action does not support Personal API Key access"


def _self_service(principal: Principal, target: Target) -> Decision:
    """PostHog's rule for the key endpoints: a key may read itself, with no scope, and do
    nothing else (keys are managed by the operator), so no key can mint or widen a key."""
    own = target.key_ref in ("@current", principal.key_id)
    if target.method == "GET" and own:
        return Decision(True, "a key may read itself", target, principal)
    reason = (
        "a key may read only itself" if target.method == "GET" and target.key_ref else
        "keys are managed by the operator, never by a key"
    )
    return _deny(principal, target, reason, PermissionDenied(SELF_SERVICE_ONLY))


def authorize(principal: Principal | None, target: Target, credential_error: Exposed | None = None) -> Decision:
    """Decide. ``principal`` is None when no valid key was presented (``credential_error`` says why)."""
    if principal is None:
        error = credential_error or PermissionDenied()
        reason = "no API key was provided" if error.status == 401 and error.code == "not_authenticated" else "the key is not valid"
        return _deny(None, target, reason, error)

    if principal.is_operator:
        return Decision(True, "the operator may do anything", target, principal)

    if principal.agent is not None and target.scope is not None and target.scope.object in MANAGED_BY_PEOPLE:
        return _deny(
            principal, target, "agents never manage keys or agents",
            PermissionDenied("This action does not support agent access."),
        )  # fmt: skip

    if target.scope is None and not target.self_service:
        return _deny(
            principal,
            target,
            "this action does not accept personal API keys",
            PermissionDenied("This action does not support personal API key access"),
        )

    if principal.kind == "project_secret" and not target.accepts_project_secret:
        return _deny(
            principal,
            target,
            "a project secret key only reads flag definitions",
            PermissionDenied("This action does not support project secret API key access"),
        )

    if target.self_service:
        return _self_service(principal, target)

    if not target.exempt_from_limits:
        if principal.scoped_teams:
            if not target.project_based:
                return _deny(
                    principal,
                    target,
                    "the key is limited to certain projects and this endpoint is not part of a project",
                    PermissionDenied("API keys with scoped projects are only supported on project-based endpoints."),
                )
            # A project that could not be named (bad id) is a 404 later, not a refusal here.
            if target.project_id is not None and target.project_id not in principal.scoped_teams:
                return _deny(
                    principal,
                    target,
                    "the key is limited to other projects",
                    PermissionDenied(
                        f"API key does not have access to the requested project: ID {target.project_id}."
                    ),
                )
        if principal.scoped_organizations and target.organization_id is not None:
            if target.organization_id not in principal.scoped_organizations:
                return _deny(
                    principal,
                    target,
                    "the key is limited to other organizations",
                    PermissionDenied(
                        "API key does not have access to the requested organization: "
                        f"ID {target.organization_id}."
                    ),
                )

    for required in (target.scope, *target.extra_scopes):
        if principal.agent is not None and not grants(principal.scopes, required):
            reason = f"{noun(required.object)} access is {level(principal.agent.access, required.object)}"
            return _deny(
                principal, target, reason, PermissionDenied(f"API key missing required scope '{required}': {reason}")
            )
        if not grants(principal.scopes, required):
            return _deny(
                principal,
                target,
                f"the key lacks {required}",
                PermissionDenied(f"API key missing required scope '{required}'"),
            )

    if target.organization_id is not None and target.organization_id not in principal.memberships:
        detail = (
            "You don't have access to the project."
            if target.project_based
            else "You do not have permission to perform this action."
        )
        return _deny(
            principal, target, "the key's user is not a member of that organization", PermissionDenied(detail)
        )

    return Decision(True, f"the key holds {target.scope}", target, principal)
