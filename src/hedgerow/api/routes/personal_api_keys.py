"""Personal API keys: ``/api/personal_api_keys/``.

As in PostHog, a personal API key may only read itself here (``@current`` or its own id, no
scope needed); listing, creating, changing, rolling and deleting keys answer 403 to a key,
whatever its scopes, so no key can mint or widen a key. Keys are managed by the operator
(``hedgerow keys``). The handlers stay declared for principals that may manage keys.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from hedgerow import clock
from hedgerow.api.call import Call
from hedgerow.api.responses import empty
from hedgerow.api.routing import RouteTable
from hedgerow.services.records import PersonalAPIKeyRecord

routes = RouteTable()


def key_json(record: PersonalAPIKeyRecord, value: str | None = None) -> dict[str, Any]:
    """A key as the API shows it; ``value`` only in the answer that created or rolled it."""
    return {
        "id": record.id,
        "label": record.label,
        "value": value,
        "mask_value": record.mask_value,
        "created_at": clock.iso(record.created_at),
        "last_used_at": clock.iso(record.last_used_at),
        "last_rolled_at": clock.iso(record.last_rolled_at),
        "user_id": record.user_id,
        "scopes": record.scopes or ["*"],
        "scoped_teams": record.scoped_teams or [],
        "scoped_organizations": record.scoped_organizations or [],
    }


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    label: str
    scopes: list[str]
    scoped_teams: list[int] | None = None
    scoped_organizations: list[str] | None = None


class KeyUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    label: str | None = None
    scopes: list[str] | None = None
    scoped_teams: list[int] | None = None
    scoped_organizations: list[str] | None = None


def _key_id(call: Call) -> str:
    assert call.principal is not None
    raw = call.path_params["key_id"]
    return call.principal.key_id if raw == "@current" else raw


@routes.get(
    "/api/personal_api_keys/", name="personal_api_keys_list", scope="personal_api_key:read", self_service=True
)
def list_keys(call: Call) -> list[dict[str, Any]]:
    """The caller's keys, newest first (not paginated)."""
    assert call.principal is not None
    return [key_json(k) for k in call.services.keys.list(call.principal.user_id)]


@routes.post(
    "/api/personal_api_keys/",
    name="personal_api_keys_create",
    scope="personal_api_key:write",
    self_service=True,
    status=201,
    body=KeyCreate,
)
def create_key(call: Call) -> dict[str, Any]:
    """A new key; its value is in this answer and nowhere else, ever."""
    assert call.principal is not None
    data: KeyCreate = call.data
    record, value = call.services.keys.create(
        call.principal.user_id, data.label, data.scopes, data.scoped_teams, data.scoped_organizations
    )
    return key_json(record, value)


@routes.get(
    "/api/personal_api_keys/{key_id}/",
    name="personal_api_keys_retrieve",
    scope="personal_api_key:read",
    self_service=True,
)
def retrieve_key(call: Call) -> dict[str, Any]:
    """The calling key itself (``@current`` or its id): its scopes and limits."""
    assert call.principal is not None
    return key_json(call.services.keys.get(_key_id(call), call.principal.user_id))


@routes.update("/api/personal_api_keys/{key_id}/", name="personal_api_keys", scope="personal_api_key:write",
               body=KeyUpdate, self_service=True)
def update_key(call: Call) -> dict[str, Any]:
    """Change a key's label, scopes or limits."""
    assert call.principal is not None
    changes = call.data.model_dump(exclude_unset=True)
    return key_json(call.services.keys.update(_key_id(call), call.principal.user_id, changes))


@routes.delete(
    "/api/personal_api_keys/{key_id}/",
    name="personal_api_keys_destroy",
    scope="personal_api_key:write",
    self_service=True,
    status=204,
)
def delete_key(call: Call) -> Any:
    """Revoke a key; it stops working at once."""
    assert call.principal is not None
    call.services.keys.revoke(_key_id(call), call.principal.user_id)
    return empty(204)


@routes.post(
    "/api/personal_api_keys/{key_id}/roll/",
    name="personal_api_keys_roll_create",
    scope="personal_api_key:write",
    self_service=True,
)
def roll_key(call: Call) -> dict[str, Any]:
    """Give a key a new secret value; the old one stops working at once."""
    assert call.principal is not None
    record, value = call.services.keys.roll(_key_id(call), call.principal.user_id)
    return key_json(record, value)
