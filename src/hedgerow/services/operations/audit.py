"""The audit trail as an API: every decision in the organization, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hedgerow.errors import NotFound
from hedgerow.services.catalogue import Catalogue, Context, Tool
from hedgerow.store.meta.audit import AuditEntry

operations = Catalogue()
MAX_PAGE = 500


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    agent: str | None = Field(default=None, description="An agent's name or id")
    key: str | None = Field(default=None, description="A key's id")
    decision: Literal["allowed", "denied"] | None = None
    object: str | None = Field(default=None, description="e.g. feature_flag, query, person")
    channel: Literal["rest", "mcp", "cli"] | None = None
    project: int | None = None
    after: datetime | None = None
    before: datetime | None = None
    cursor: int | None = Field(default=None, description="The `next_cursor` of the previous page")
    limit: int = Field(default=100, ge=1, le=MAX_PAGE)


def entry_json(entry: AuditEntry, agents: dict[str, str]) -> dict[str, Any]:
    body = entry.as_json()
    return {
        "id": body["id"],
        "created_at": body["created_at"],
        "channel": entry.via,
        "decision": entry.decision,
        "sentence": entry.sentence,
        "reason": entry.reason,
        "status": entry.status,
        "object": entry.object,
        "action": entry.action,
        "project_id": entry.project_id,
        "key_id": entry.key_id,
        "key_label": entry.key_label,
        "agent": {"id": entry.agent_id, "name": agents.get(entry.agent_id, entry.key_label)} if entry.agent_id else None,
        "method": entry.method,
        "path": entry.path,
        "args_digest": entry.args_digest,
        "row_hash": entry.row_hash,
    }


@operations.operation("audit.list", "activity_log:read", input=AuditQuery, place="organization",
                      tool=Tool("audit-log-list", "Read the audit trail", read_only=True))  # fmt: skip
def list_audit(ctx: Context, args: AuditQuery) -> dict[str, Any]:
    """Every call's decision, allowed or denied, with its plain-English sentence."""
    assert ctx.organization_id is not None
    named = {a.key_id: a.name for a, _ in ctx.services.agents.list(ctx.organization_id)}
    agent_id = None
    if args.agent is not None:
        agent_id = args.agent if args.agent in named else next((k for k, n in named.items() if n == args.agent), None)
        if agent_id is None:
            raise NotFound("No such agent.")
    entries = ctx.services.audit.newest(
        args.limit + 1, key_id=args.key, decision=args.decision, organization_id=ctx.organization_id,
        agent_id=agent_id, object=args.object, via=args.channel, project_id=args.project, after=args.after,
        before=args.before, below_id=args.cursor,
    )  # fmt: skip
    page = entries[: args.limit]
    more = len(entries) > args.limit
    return {
        "results": [entry_json(e, named) for e in page],
        "next_cursor": page[-1].id if more and page else None,
        "has_more": more,
    }
