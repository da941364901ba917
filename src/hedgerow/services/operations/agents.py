"""Agents: ``/api/organizations/@current/agents/`` — list, create (the key shown once),
retrieve, change, revoke."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hedgerow import clock
from hedgerow.control_chars import NAME_PATTERN
from hedgerow.auth.access import full_matrix
from hedgerow.services.agents import AgentRecord
from hedgerow.services.catalogue import EMPTY, Catalogue, Context, Listed, Output, Reply
from hedgerow.services.catalogue.paging import Paged, shown
from hedgerow.services.catalogue.validation import IsoDatetime
from hedgerow.services.records import PersonalAPIKeyRecord

operations = Catalogue()


class AgentOwner(Output):
    id: int
    email: str | None


class Agent(Output):
    """An agent: its name, owner, access matrix (every resource), projects and expiry."""

    id: str
    name: str
    owner: AgentOwner
    access: dict[str, str]
    projects: list[int] | None
    expires_at: str | None
    created_at: str | None
    mask_value: str | None
    last_used_at: str | None

    @classmethod
    def of(cls, ctx: Context, agent: AgentRecord, key: PersonalAPIKeyRecord | None) -> "Agent":
        owner = ctx.services.projects.user(agent.owner_id)
        return cls(
            id=agent.key_id,
            name=agent.name,
            owner=AgentOwner(id=agent.owner_id, email=owner.email if owner else None),
            access=full_matrix(agent.access),
            projects=agent.projects,
            expires_at=clock.iso(agent.expires_at),
            created_at=clock.iso(agent.created_at),
            mask_value=key.mask_value if key else None,
            last_used_at=clock.iso(key.last_used_at) if key else None,
        )


class CreatedAgent(Agent):
    """A new agent, with its key: shown in this answer and nowhere else, ever."""

    key: str


class AgentFields(BaseModel):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [
        {"name": "release-bot", "access": {"feature_flag": "read", "query": "read"}},
    ]})  # fmt: skip
    name: Any = Field(default=None, json_schema_extra={"type": "string", "maxLength": 40, "pattern": NAME_PATTERN})
    access: dict[str, str] | None = None
    projects: list[int] | None = None
    expires_at: IsoDatetime | None = None


class AgentRef(BaseModel):
    model_config = ConfigDict(extra="ignore")
    agent_id: str


class AgentUpdate(AgentFields, AgentRef):
    pass


@operations.operation("agent.list", "agent:read", output=Agent, input=Paged, place="organization")
def list_agents(ctx: Context, args: Paged) -> Listed:
    """The organization's agents (not revoked), newest first."""
    assert ctx.organization_id is not None
    return shown(args, ctx.services.agents.list(ctx.organization_id), lambda row: Agent.of(ctx, *row))


@operations.operation("agent.create", "agent:write", output=CreatedAgent, input=AgentFields, place="organization")
def create_agent(ctx: Context, args: AgentFields) -> CreatedAgent:
    """A new agent; its key is in this answer (``key``) and nowhere else, ever."""
    assert ctx.organization_id is not None
    agent, key, value = ctx.services.agents.create(
        ctx.principal, ctx.organization_id, args.name, args.access, args.projects, args.expires_at
    )
    return CreatedAgent(**dict(Agent.of(ctx, agent, key)), key=value)


@operations.operation("agent.retrieve", "agent:read", output=Agent, input=AgentRef, place="organization")
def retrieve_agent(ctx: Context, args: AgentRef) -> Agent:
    """One agent, by id or name."""
    assert ctx.organization_id is not None
    return Agent.of(ctx, *ctx.services.agents.get(ctx.organization_id, args.agent_id))


@operations.operation("agent.update", "agent:write", output=Agent, input=AgentUpdate, place="organization")
def update_agent(ctx: Context, args: AgentUpdate) -> Agent:
    """Change an agent's name, access (merged into its matrix), projects or expiry."""
    assert ctx.organization_id is not None
    changes = args.model_dump(exclude_unset=True, exclude={"agent_id"})
    agent = ctx.services.agents.update(ctx.principal, ctx.organization_id, args.agent_id, changes)
    return Agent.of(ctx, *ctx.services.agents.get(ctx.organization_id, agent.key_id))


@operations.operation("agent.revoke", "agent:write", input=AgentRef, output=EMPTY, place="organization")
def revoke_agent(ctx: Context, args: AgentRef) -> Reply:
    """Revoke an agent: its key stops working at once."""
    assert ctx.organization_id is not None
    ctx.services.agents.revoke(ctx.organization_id, args.agent_id)
    return Reply(204)
