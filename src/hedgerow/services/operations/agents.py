"""Agents: ``/api/organizations/@current/agents/`` — list, create (the key shown once),
retrieve, change, revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hedgerow import clock
from hedgerow.control_chars import NAME_PATTERN
from hedgerow.auth.access import full_matrix
from hedgerow.services.agents import AgentRecord
from hedgerow.services.catalogue import EMPTY, Catalogue, Context, Listed, Reply
from hedgerow.services.catalogue.paging import Paged, sliced
from hedgerow.services.records import PersonalAPIKeyRecord

operations = Catalogue()


def agent_json(ctx: Context, agent: AgentRecord, key: PersonalAPIKeyRecord | None) -> dict[str, Any]:
    owner = ctx.services.projects.user(agent.owner_id)
    return {
        "id": agent.key_id,
        "name": agent.name,
        "owner": {"id": agent.owner_id, "email": owner.email if owner else None},
        "access": full_matrix(agent.access),
        "projects": agent.projects,
        "expires_at": clock.iso(agent.expires_at),
        "created_at": clock.iso(agent.created_at),
        "mask_value": key.mask_value if key else None,
        "last_used_at": clock.iso(key.last_used_at) if key else None,
    }


class AgentFields(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: Any = Field(default=None, json_schema_extra={"type": "string", "maxLength": 40, "pattern": NAME_PATTERN})
    access: dict[str, str] | None = None
    projects: list[int] | None = None
    expires_at: datetime | None = None


class AgentRef(BaseModel):
    model_config = ConfigDict(extra="ignore")
    agent_id: str


class AgentUpdate(AgentFields, AgentRef):
    pass


@operations.operation("agent.list", "agent:read", input=Paged, place="organization")
def list_agents(ctx: Context, args: Paged) -> Listed:
    """The organization's agents (not revoked), newest first."""
    assert ctx.organization_id is not None
    page = sliced(args, ctx.services.agents.list(ctx.organization_id))
    return Listed([agent_json(ctx, a, k) for a, k in page.results], page.count, page.limit, page.offset)


@operations.operation("agent.create", "agent:write", input=AgentFields, place="organization")
def create_agent(ctx: Context, args: AgentFields) -> dict[str, Any]:
    """A new agent; its key is in this answer (``key``) and nowhere else, ever."""
    assert ctx.organization_id is not None
    agent, key, value = ctx.services.agents.create(
        ctx.principal, ctx.organization_id, args.name, args.access, args.projects, args.expires_at
    )
    return {**agent_json(ctx, agent, key), "key": value}


@operations.operation("agent.retrieve", "agent:read", input=AgentRef, place="organization")
def retrieve_agent(ctx: Context, args: AgentRef) -> dict[str, Any]:
    """One agent, by id or name."""
    assert ctx.organization_id is not None
    return agent_json(ctx, *ctx.services.agents.get(ctx.organization_id, args.agent_id))


@operations.operation("agent.update", "agent:write", input=AgentUpdate, place="organization")
def update_agent(ctx: Context, args: AgentUpdate) -> dict[str, Any]:
    """Change an agent's name, access (merged into its matrix), projects or expiry."""
    assert ctx.organization_id is not None
    changes = args.model_dump(exclude_unset=True, exclude={"agent_id"})
    agent = ctx.services.agents.update(ctx.principal, ctx.organization_id, args.agent_id, changes)
    return agent_json(ctx, *ctx.services.agents.get(ctx.organization_id, agent.key_id))


@operations.operation("agent.revoke", "agent:write", input=AgentRef, output=EMPTY, place="organization")
def revoke_agent(ctx: Context, args: AgentRef) -> Reply:
    """Revoke an agent: its key stops working at once."""
    assert ctx.organization_id is not None
    ctx.services.agents.revoke(ctx.organization_id, args.agent_id)
    return Reply(204)
