"""Personal API keys: minted here, shown once, stored as hashes, limited by scopes."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from hedgerow import clock
from hedgerow.auth.keys import hash_key, mask_key, new_personal_key
from hedgerow.auth.scopes import invalid_scopes
from hedgerow.errors import NotFound, ValidationError
from hedgerow.services.fields import name_text
from hedgerow.store.meta import keys as key_store
from hedgerow.store.meta import tenancy
from hedgerow.store.meta.db import MetaDB
from hedgerow.store.meta.keys import PersonalAPIKeyRecord

MAX_KEYS_PER_USER = 10


class KeyService:
    """Use cases over personal API keys."""

    def __init__(self, db: MetaDB) -> None:
        self._db = db

    def create(
        self,
        user_id: int,
        label: str,
        scopes: list[str],
        scoped_teams: list[int] | None = None,
        scoped_organizations: list[str] | None = None,
        *,
        enforce_limit: bool = True,
    ) -> tuple[PersonalAPIKeyRecord, str]:
        """A new key and its value (the only time the value exists outside the caller)."""
        label = validate_label(label)
        scopes = validate_scopes(scopes)
        with self._db.write() as conn:
            scoped_teams = _validate_teams(conn, user_id, scoped_teams)
            scoped_organizations = _validate_organizations(conn, user_id, scoped_organizations)
            if enforce_limit and key_store.count_for_user(conn, user_id) >= MAX_KEYS_PER_USER:
                raise ValidationError(
                    f"You can only have {MAX_KEYS_PER_USER} personal API keys. "
                    "Remove an existing key before creating a new one."
                )
            value = new_personal_key()
            record = PersonalAPIKeyRecord(
                id=str(uuid.uuid4()),
                user_id=user_id,
                label=label,
                mask_value=mask_key(value),
                scopes=scopes,
                scoped_teams=scoped_teams,
                scoped_organizations=scoped_organizations,
                created_at=clock.now(),
                last_used_at=None,
                last_rolled_at=None,
            )
            key_store.insert(conn, record, hash_key(value))
        return record, value

    def list(self, user_id: int | None = None) -> list[PersonalAPIKeyRecord]:
        with self._db.read() as conn:
            return key_store.list_all(conn, user_id)

    def get(self, key_id: str, user_id: int | None = None) -> PersonalAPIKeyRecord:
        with self._db.read() as conn:
            record = key_store.get(conn, key_id, user_id)
        if record is None:
            raise NotFound()
        return record

    def update(self, key_id: str, user_id: int, changes: dict[str, Any]) -> PersonalAPIKeyRecord:
        record = self.get(key_id, user_id)
        values: dict[str, Any] = {}
        with self._db.write() as conn:
            if "label" in changes:
                values["label"] = validate_label(changes["label"])
            if "scopes" in changes:
                values["scopes"] = validate_scopes(changes["scopes"])
            if "scoped_teams" in changes:
                values["scoped_teams"] = _validate_teams(conn, user_id, changes["scoped_teams"])
            if "scoped_organizations" in changes:
                values["scoped_organizations"] = _validate_organizations(
                    conn, user_id, changes["scoped_organizations"]
                )
            key_store.update(conn, key_id, **values)
        return replace(record, **values)

    def roll(self, key_id: str, user_id: int) -> tuple[PersonalAPIKeyRecord, str]:
        """Replace the key's secret; the old value stops working at once."""
        record = self.get(key_id, user_id)
        value = new_personal_key()
        now = clock.now()
        with self._db.write() as conn:
            key_store.update(
                conn, key_id, secure_value=hash_key(value), mask_value=mask_key(value), last_rolled_at=now
            )
        return replace(record, mask_value=mask_key(value), last_rolled_at=now), value

    def revoke(self, key_id: str, user_id: int | None = None) -> None:
        self.get(key_id, user_id)
        with self._db.write() as conn:
            key_store.delete(conn, key_id)


def validate_label(label: Any) -> str:
    return name_text(label, "label", 40)


def validate_scopes(scopes: Any) -> list[str]:
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise ValidationError("Expected a list of items.", code="not_a_list", attr="scopes")
    if not scopes:
        raise ValidationError("This list may not be empty.", code="empty", attr="scopes")
    bad = invalid_scopes(scopes)
    if bad:
        raise ValidationError(f"Invalid scope: {bad[0]}", attr="scopes")
    return list(dict.fromkeys(scopes))


def _validate_teams(conn: Any, user_id: int, teams: list[int] | None) -> list[int] | None:
    if not teams:
        return None
    orgs = tenancy.memberships(conn, user_id)
    for team_id in teams:
        project = tenancy.get_project(conn, team_id) if isinstance(team_id, int) else None
        if project is None or project.organization_id not in orgs:
            raise ValidationError(
                "You must be a member of all teams that you are scoping the key to.",
                attr="scoped_teams",
            )
    return list(dict.fromkeys(teams))


def _validate_organizations(conn: Any, user_id: int, orgs: list[str] | None) -> list[str] | None:
    if not orgs:
        return None
    member_of = tenancy.memberships(conn, user_id)
    for org_id in orgs:
        try:
            canonical = str(uuid.UUID(str(org_id)))
        except ValueError:
            raise ValidationError("Invalid organization UUID", attr="scoped_organizations") from None
        if canonical not in member_of:
            raise ValidationError(
                "You must be a member of all organizations that you are scoping the key to.",
                attr="scoped_organizations",
            )
    return [str(uuid.UUID(str(o))) for o in dict.fromkeys(orgs)]
