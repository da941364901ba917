"""From a request's credentials to a :class:`Principal`, in PostHog's order.

Candidates are looked for in order — ``Authorization: Bearer``, then the body's
``personal_api_key``, then the query's ``personal_api_key`` — and only the first one found is
tried: a bad header is not rescued by a good query parameter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from hedgerow import clock
from hedgerow.auth.access import full_matrix, scopes_for
from hedgerow.auth.keys import PROJECT_SECRET_PREFIX, hash_key
from hedgerow.auth.principal import Agent, Principal
from hedgerow.errors import AuthenticationFailed, Exposed, NotAuthenticated
from hedgerow.store.meta import keys as key_store
from hedgerow.store.meta import tenancy
from hedgerow.store.meta.agents import AgentRecord
from hedgerow.store.meta.db import MetaDB

_BEARER = re.compile(r"^Bearer\s+(\S.+)$")
_TOUCH_EVERY = timedelta(hours=1)


def find_key(
    authorization: str | None, body: Any, query: Mapping[str, str]
) -> tuple[str, str] | None:
    """The first personal-API-key candidate and where it was found, or None."""
    if authorization:
        match = _BEARER.match(authorization)
        if match and not match.group(1).startswith("pha_"):
            return match.group(1).strip(), "Authorization header"
    if isinstance(body, dict) and isinstance(body.get("personal_api_key"), str):
        return body["personal_api_key"], "body"
    if query.get("personal_api_key"):
        return query["personal_api_key"], "query string"
    return None


def authenticate(
    db: MetaDB, authorization: str | None, body: Any, query: Mapping[str, str]
) -> tuple[Principal | None, Exposed | None]:
    """The caller's principal, or None with the 401 the caller should get."""
    found = find_key(authorization, body, query)
    if found is None:
        return None, NotAuthenticated()
    value, source = found
    if value.startswith(PROJECT_SECRET_PREFIX) and source == "Authorization header":
        return principal_for_project_secret(db, value)
    return principal_for_key(db, value, source)


def principal_for_project_secret(db: MetaDB, value: str) -> tuple[Principal | None, Exposed | None]:
    """A project's secret key: it may read that project's flag definitions and nothing else."""
    with db.read() as conn:
        project = tenancy.project_by_secret_token(conn, value)
    if project is None:
        return None, AuthenticationFailed("Project secret API key is invalid.")
    return (
        Principal(
            key_id=f"project-secret-{project.id}",
            key_label="project secret key",
            user_id=None,
            scopes=("feature_flag:read",),
            scoped_teams=(project.id,),
            scoped_organizations=None,
            memberships={project.organization_id: 1},
            current_project_id=project.id,
            kind="project_secret",
        ),
        None,
    )


def principal_for_key(
    db: MetaDB, value: str, source: str = "Authorization header"
) -> tuple[Principal | None, Exposed | None]:
    """Look a key value up by its hash; None plus the 401 when it is not a live key."""
    invalid = AuthenticationFailed(f"Personal API key found in request {source} is invalid.")
    now = clock.now()
    with db.read() as conn:
        found = key_store.with_owner(conn, hash_key(value))
        if found is None or not _live(found.agent, now):
            return None, invalid
        record, current_project_id = found.key, found.current_project_id
        memberships = tenancy.memberships(conn, record.user_id)
    if record.last_used_at is None or now - record.last_used_at > _TOUCH_EVERY:
        with db.write() as conn:
            key_store.update(conn, record.id, last_used_at=now)
    if found.agent is not None:
        return agent_principal(found.agent, record.label, found.owner_email, memberships, current_project_id), None
    return (
        Principal(
            key_id=record.id,
            key_label=record.label,
            user_id=record.user_id,
            scopes=tuple(record.scopes or ["*"]),
            scoped_teams=tuple(record.scoped_teams) if record.scoped_teams else None,
            scoped_organizations=tuple(record.scoped_organizations)
            if record.scoped_organizations
            else None,
            memberships=memberships,
            current_project_id=current_project_id,
        ),
        None,
    )


def _live(agent: AgentRecord | None, now: datetime) -> bool:
    """An agent's key works until it is revoked or expires."""
    if agent is None:
        return True
    return agent.revoked_at is None and (agent.expires_at is None or agent.expires_at > now)


def agent_principal(agent: AgentRecord, label: str, owner_email: str, memberships: dict[str, int],
                    current_project_id: int | None) -> Principal:  # fmt: skip
    """An agent: its matrix's scopes, its projects, its organization only."""
    projects = tuple(agent.projects) if agent.projects else None
    current = current_project_id if projects is None or current_project_id in projects else projects[0]
    return Principal(
        key_id=agent.key_id,
        key_label=label,
        user_id=agent.owner_id,
        scopes=scopes_for(agent.access),
        scoped_teams=projects,
        scoped_organizations=(agent.organization_id,),
        memberships={k: v for k, v in memberships.items() if k == agent.organization_id},
        current_project_id=current,
        agent=Agent(name=agent.name, owner_email=owner_email, access=full_matrix(agent.access)),
    )
