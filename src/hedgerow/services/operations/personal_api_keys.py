"""Personal API keys.

As in PostHog, a personal API key may only read itself (``@current`` or its own id, no scope
needed); listing, creating, changing, rolling and deleting keys are refused to every key,
whatever its scopes, so no key can mint or widen a key (``self_service``: the rule is
``authorize``'s). Keys are managed by the operator (``hedgerow keys``) and agents by whoever
holds ``agent:write``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from hedgerow import clock
from hedgerow.services.catalogue import EMPTY, Catalogue, Context, NoInput, Output, Reply
from hedgerow.services.records import PersonalAPIKeyRecord

operations = Catalogue()


class PersonalAPIKey(Output):
    """A key as the API shows it; ``value`` only in the answer that created or rolled it."""

    id: str
    label: str
    value: str | None
    mask_value: str
    created_at: str | None
    last_used_at: str | None
    last_rolled_at: str | None
    user_id: int
    scopes: list[str]
    scoped_teams: list[int]
    scoped_organizations: list[str]

    @classmethod
    def of(cls, record: PersonalAPIKeyRecord, value: str | None = None) -> "PersonalAPIKey":
        return cls(
            id=record.id,
            label=record.label,
            value=value,
            mask_value=record.mask_value,
            created_at=clock.iso(record.created_at),
            last_used_at=clock.iso(record.last_used_at),
            last_rolled_at=clock.iso(record.last_rolled_at),
            user_id=record.user_id,
            scopes=record.scopes or ["*"],
            scoped_teams=record.scoped_teams or [],
            scoped_organizations=record.scoped_organizations or [],
        )


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    label: str
    scopes: list[str]
    scoped_teams: list[int] | None = None
    scoped_organizations: list[str] | None = None


class KeyId(BaseModel):
    model_config = ConfigDict(extra="ignore")
    key_id: str


class KeyUpdate(KeyId):
    label: str | None = None
    scopes: list[str] | None = None
    scoped_teams: list[int] | None = None
    scoped_organizations: list[str] | None = None


def _key_id(ctx: Context, raw: str) -> str:
    return ctx.principal.key_id if raw == "@current" else raw


@operations.operation("personal_api_key.list", "personal_api_key:read", output=PersonalAPIKey, input=NoInput, place="global", self_service=True)
def list_keys(ctx: Context, args: NoInput) -> list[PersonalAPIKey]:
    """The caller's keys, newest first (not paginated)."""
    return [PersonalAPIKey.of(k) for k in ctx.services.keys.list(ctx.user_id)]


@operations.operation("personal_api_key.create", "personal_api_key:write", output=PersonalAPIKey, input=KeyCreate, place="global", self_service=True)
def create_key(ctx: Context, args: KeyCreate) -> PersonalAPIKey:
    """A new key; its value is in this answer and nowhere else, ever."""
    record, value = ctx.services.keys.create(
        ctx.user_id, args.label, args.scopes, args.scoped_teams, args.scoped_organizations
    )
    return PersonalAPIKey.of(record, value)


@operations.operation("personal_api_key.retrieve", "personal_api_key:read", output=PersonalAPIKey, input=KeyId, place="global", self_service=True)
def retrieve_key(ctx: Context, args: KeyId) -> PersonalAPIKey:
    """The calling key itself (``@current`` or its id): its scopes and limits."""
    return PersonalAPIKey.of(ctx.services.keys.get(_key_id(ctx, args.key_id), ctx.user_id))


@operations.operation("personal_api_key.update", "personal_api_key:write", output=PersonalAPIKey, input=KeyUpdate, place="global", self_service=True)
def update_key(ctx: Context, args: KeyUpdate) -> PersonalAPIKey:
    """Change a key's label, scopes or limits."""
    changes = args.model_dump(exclude_unset=True, exclude={"key_id"})
    return PersonalAPIKey.of(ctx.services.keys.update(_key_id(ctx, args.key_id), ctx.user_id, changes))


@operations.operation("personal_api_key.delete", "personal_api_key:write", input=KeyId, output=EMPTY, place="global", self_service=True)
def delete_key(ctx: Context, args: KeyId) -> Reply:
    """Revoke a key; it stops working at once."""
    ctx.services.keys.revoke(_key_id(ctx, args.key_id), ctx.user_id)
    return Reply(204)


@operations.operation("personal_api_key.roll", "personal_api_key:write", output=PersonalAPIKey, input=KeyId, place="global", self_service=True)
def roll_key(ctx: Context, args: KeyId) -> PersonalAPIKey:
    """Give a key a new secret value; the old one stops working at once."""
    record, value = ctx.services.keys.roll(_key_id(ctx, args.key_id), ctx.user_id)
    return PersonalAPIKey.of(record, value)
