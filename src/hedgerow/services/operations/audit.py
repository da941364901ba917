"""The audit trail as an API: every decision in the organization, newest first."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hedgerow import clock
from hedgerow.errors import NotFound
from hedgerow.ids import MAX_ID
from hedgerow.services.catalogue import Catalogue, Context, Output, Tool
from hedgerow.services.catalogue.validation import IsoDatetime
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
    project: int | None = Field(default=None, ge=0, le=MAX_ID)
    after: IsoDatetime | None = None
    before: IsoDatetime | None = None
    cursor: int | None = Field(default=None, ge=0, le=MAX_ID, description="The `next_cursor` of the previous page")
    limit: int = Field(default=100, ge=1, le=MAX_PAGE)


class AuditAgent(Output):
    id: str
    name: str | None


class AuditRow(Output):
    """One decision: who, what, where, allowed or denied, and the sentence that says so."""

    id: int | None
    created_at: str | None
    channel: str
    decision: str
    sentence: str
    reason: str
    status: int | None
    object: str | None
    action: str | None
    project_id: int | None
    key_id: str | None
    key_label: str | None
    agent: AuditAgent | None
    method: str
    path: str
    args_digest: str | None
    row_hash: str | None

    @classmethod
    def of(cls, entry: AuditEntry, agents: dict[str, str]) -> "AuditRow":
        agent = None
        if entry.agent_id:
            agent = AuditAgent(id=entry.agent_id, name=agents.get(entry.agent_id, entry.key_label))
        return cls(
            id=entry.id, created_at=clock.iso(entry.created_at), channel=entry.via, decision=entry.decision,
            sentence=entry.sentence, reason=entry.reason, status=entry.status, object=entry.object,
            action=entry.action, project_id=entry.project_id, key_id=entry.key_id, key_label=entry.key_label,
            agent=agent, method=entry.method, path=entry.path, args_digest=entry.args_digest,
            row_hash=entry.row_hash,
        )  # fmt: skip


class AuditPage(Output):
    """A page of the trail, newest first; ``next_cursor`` asks for the next (older) page."""

    results: list[AuditRow]
    next_cursor: int | None
    has_more: bool


@operations.operation("audit.list", "activity_log:read", output=AuditPage, input=AuditQuery, place="organization",
                      tool=Tool("audit-log-list", "Read the audit trail", read_only=True))  # fmt: skip
def list_audit(ctx: Context, args: AuditQuery) -> AuditPage:
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
    return AuditPage(results=[AuditRow.of(e, named) for e in page], next_cursor=page[-1].id if more and page else None,
                     has_more=more)  # fmt: skip
