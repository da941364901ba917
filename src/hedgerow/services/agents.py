"""Agents: personal API keys marked as agents, with a name, an owner, the projects they may
reach, an optional expiry and an access matrix (``off`` unless granted).

Whoever manages an agent (the operator, or a person's key holding ``agent:write``) can never
grant it more than they hold: each resource level, and each project, is checked against the
grantor's own scopes and project limits.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from hedgerow import clock
from hedgerow.auth.access import LEVELS, RESOURCES, full_matrix, scopes_for
from hedgerow.auth.keys import hash_key, mask_key, new_personal_key
from hedgerow.auth.principal import Principal
from hedgerow.auth.scopes import Scope, grants
from hedgerow.errors import NotFound, PermissionDenied, ValidationError
from hedgerow.services.keys import validate_label
from hedgerow.store.meta import agents as agent_store
from hedgerow.store.meta import keys as key_store
from hedgerow.store.meta import tenancy
from hedgerow.store.meta.agents import AgentRecord
from hedgerow.store.meta.db import MetaDB
from hedgerow.store.meta.keys import PersonalAPIKeyRecord

__all__ = ["AgentRecord", "AgentService"]


class AgentService:
    """Use cases over an organization's agents."""

    def __init__(self, db: MetaDB) -> None:
        self._db = db

    def create(self, grantor: Principal, organization_id: str, name: Any, access: Any, projects: Any,
               expires_at: datetime | None) -> tuple[AgentRecord, PersonalAPIKeyRecord, str]:  # fmt: skip
        """A new agent and its key's value (shown once)."""
        label = validate_label(name)
        matrix = _check_access(grantor, access)
        now = clock.now()
        _check_expiry(expires_at, now)
        with self._db.write() as conn:
            chosen = _check_projects(conn, grantor, organization_id, projects)
            if agent_store.by_name(conn, organization_id, label) is not None:
                raise ValidationError("An agent with this name already exists.", code="unique", attr="name")
            owner_id = grantor.user_id
            if owner_id is None:
                owner = tenancy.organization_owner(conn, organization_id)
                assert owner is not None, "every organization has an owner"
                owner_id = owner.id
            value = new_personal_key()
            key = PersonalAPIKeyRecord(
                id=str(uuid.uuid4()), user_id=owner_id, label=label, mask_value=mask_key(value),
                scopes=list(scopes_for(matrix)), scoped_teams=chosen, scoped_organizations=[organization_id],
                created_at=now, last_used_at=None, last_rolled_at=None,
            )  # fmt: skip
            key_store.insert(conn, key, hash_key(value))
            agent = AgentRecord(
                key_id=key.id, organization_id=organization_id, name=label, owner_id=owner_id,
                created_by_key_id=None if grantor.is_operator else grantor.key_id, access=matrix,
                projects=chosen, expires_at=expires_at, created_at=now,
            )  # fmt: skip
            agent_store.insert(conn, agent)
        return agent, key, value

    def list(self, organization_id: str) -> list[tuple[AgentRecord, PersonalAPIKeyRecord | None]]:
        with self._db.read() as conn:
            found = agent_store.in_organization(conn, organization_id)
            return [(agent, key_store.get(conn, agent.key_id)) for agent in found]

    def get(self, organization_id: str, ref: str) -> tuple[AgentRecord, PersonalAPIKeyRecord | None]:
        """An agent by its id or its name."""
        with self._db.read() as conn:
            agent = agent_store.get(conn, ref) or agent_store.by_name(conn, organization_id, ref)
            if agent is None or agent.organization_id != organization_id or agent.revoked_at is not None:
                raise NotFound()
            return agent, key_store.get(conn, agent.key_id)

    def update(self, grantor: Principal, organization_id: str, ref: str, changes: dict[str, Any]) -> AgentRecord:
        """Change an agent's name, access, projects or expiry; its key follows at once."""
        agent, _ = self.get(organization_id, ref)
        values: dict[str, Any] = {}
        if "name" in changes:
            values["name"] = validate_label(changes["name"])
        if "access" in changes:
            values["access"] = _check_access(grantor, {**agent.access, **(changes["access"] or {})})
        if "expires_at" in changes:
            _check_expiry(changes["expires_at"], clock.now())
            values["expires_at"] = changes["expires_at"]
        with self._db.write() as conn:
            if "projects" in changes:
                values["projects"] = _check_projects(conn, grantor, organization_id, changes["projects"])
            if "name" in values and values["name"] != agent.name:
                if agent_store.by_name(conn, organization_id, values["name"]) is not None:
                    raise ValidationError("An agent with this name already exists.", code="unique", attr="name")
            agent_store.update(conn, agent.key_id, **values)
            key_changes: dict[str, Any] = {}
            if "name" in values:
                key_changes["label"] = values["name"]
            if "access" in values:
                key_changes["scopes"] = list(scopes_for(values["access"]))
            if "projects" in values:
                key_changes["scoped_teams"] = values["projects"]
            key_store.update(conn, agent.key_id, **key_changes)
        return replace(agent, **values)

    def revoke(self, organization_id: str, ref: str) -> AgentRecord:
        """The agent's key stops working at once; the agent stays in the audit trail."""
        agent, _ = self.get(organization_id, ref)
        now = clock.now()
        with self._db.write() as conn:
            agent_store.update(conn, agent.key_id, revoked_at=now)
            key_store.delete(conn, agent.key_id)
        return replace(agent, revoked_at=now)


def _check_access(grantor: Principal, access: Any) -> dict[str, str]:
    if access is None:
        access = {}
    if not isinstance(access, dict):
        raise ValidationError('Expected a dictionary of items but got type "%s".' % type(access).__name__,
                              code="not_a_dict", attr="access")  # fmt: skip
    for resource, given in access.items():
        if resource not in RESOURCES:
            raise ValidationError(f'"{resource}" is not a resource agents can be given.', code="invalid_choice",
                                  attr="access")  # fmt: skip
        if given not in LEVELS:
            raise ValidationError(f'"{given}" is not a valid choice.', code="invalid_choice", attr="access")
        for action in {"read": ("read",), "full": ("read", "write")}.get(given, ()):
            if not grantor.is_operator and not grants(grantor.scopes, Scope(resource, action)):
                raise PermissionDenied(f"You cannot give an agent {resource}:{action}: you do not hold it.")
    return {resource: level for resource, level in full_matrix(access).items() if level != "off"}


def _check_projects(conn: Any, grantor: Principal, organization_id: str, projects: Any) -> list[int] | None:
    if projects in (None, []):
        if grantor.scoped_teams and not grantor.is_operator:
            raise PermissionDenied("You cannot give an agent every project: your key is limited to some.")
        return None
    if not isinstance(projects, list) or not all(isinstance(p, int) and not isinstance(p, bool) for p in projects):
        raise ValidationError("Expected a list of project ids.", code="not_a_list", attr="projects")
    for project_id in projects:
        project = tenancy.get_project(conn, project_id)
        if project is None or project.organization_id != organization_id:
            raise ValidationError(f"Project {project_id} is not in this organization.", attr="projects")
        if grantor.scoped_teams and project_id not in grantor.scoped_teams and not grantor.is_operator:
            raise PermissionDenied(f"You cannot give an agent project {project_id}: your key cannot reach it.")
    return list(dict.fromkeys(projects))


def _check_expiry(expires_at: datetime | None, now: datetime) -> None:
    if expires_at is not None and expires_at <= now:
        raise ValidationError("The expiry must be in the future.", attr="expires_at")
