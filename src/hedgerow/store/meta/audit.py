"""The audit table: one row per authorization decision, hash-chained.

Each row stores the hash of the row before it (``prev_hash``) and its own (``row_hash``, over
its fields and ``prev_hash``), so an altered row no longer matches its hash and a removed one
breaks the chain at the next row. Rows are chained in id order, under the writer's lock.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hedgerow import clock
from hedgerow.store.meta.tables import audit_log

GENESIS = "0" * 64
_CHAINED = ("created_at", "via", "key_id", "key_label", "user_id", "method", "path", "object", "action",
            "project_id", "organization_id", "decision", "reason", "status", "sentence", "agent_id",
            "args_digest")  # fmt: skip
VERIFY_BATCH = 5000


@dataclass(frozen=True)
class AuditEntry:
    created_at: datetime
    via: str
    key_id: str | None
    key_label: str | None
    user_id: int | None
    method: str
    path: str
    object: str | None
    action: str | None
    project_id: int | None
    organization_id: str | None
    decision: str
    reason: str
    status: int | None
    sentence: str
    agent_id: str | None = None
    args_digest: str | None = None
    prev_hash: str | None = None
    row_hash: str | None = None
    id: int | None = None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = clock.iso(self.created_at)
        return data


@dataclass(frozen=True)
class Verification:
    """The chain's state: ``ok``, the rows checked, and where it first breaks."""

    ok: bool
    checked: int
    first_bad_id: int | None = None
    problem: str | None = None


def row_hash(values: dict[str, Any], prev_hash: str) -> str:
    canonical = {name: values.get(name) for name in _CHAINED}
    created = canonical["created_at"]
    canonical["created_at"] = clock.iso(clock.as_utc(created)) if isinstance(created, datetime) else created
    return hashlib.sha256(prev_hash.encode() + orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _last_hash(conn: Connection) -> str:
    if conn.dialect.name == "postgresql":  # several servers share the chain: one writer at a time
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(4242001)"))
    elif conn.dialect.name == "sqlite":
        # The same on SQLite (a server and the CLI, or two servers, on one file): the driver
        # begins the transaction only at the first write, so the read below would run before
        # it and two writers could chain onto the same row. A write that changes nothing takes
        # the database's write lock first.
        conn.execute(sa.text("UPDATE audit_log SET id = id WHERE 0"))
    found = conn.execute(sa.select(audit_log.c.row_hash).order_by(audit_log.c.id.desc()).limit(1)).scalar()
    return found or GENESIS


def insert_many(conn: Connection, entries: list[AuditEntry]) -> None:
    previous = _last_hash(conn)
    rows = []
    for entry in entries:
        row = asdict(entry)
        row.pop("id")
        row["prev_hash"] = previous
        row["row_hash"] = previous = row_hash(row, previous)
        rows.append(row)
    conn.execute(audit_log.insert(), rows)


def _entry(row: Any) -> AuditEntry:
    data = dict(row._mapping)
    data["created_at"] = clock.as_utc(data["created_at"])
    return AuditEntry(**{f.name: data.get(f.name) for f in fields(AuditEntry)})


def newest(
    conn: Connection,
    limit: int = 50,
    key_id: str | None = None,
    decision: str | None = None,
    *,
    organization_id: str | None = None,
    agent_id: str | None = None,
    object: str | None = None,
    via: str | None = None,
    project_id: int | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
    below_id: int | None = None,
) -> list[AuditEntry]:
    """Entries newest first, filtered; ``below_id`` continues a previous page."""
    query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    conditions = {
        audit_log.c.key_id: key_id, audit_log.c.decision: decision,
        audit_log.c.organization_id: organization_id, audit_log.c.agent_id: agent_id,
        audit_log.c.object: object, audit_log.c.via: via, audit_log.c.project_id: project_id,
    }  # fmt: skip
    for column, value in conditions.items():
        if value is not None:
            query = query.where(column == value)
    if after is not None:
        query = query.where(audit_log.c.created_at > after)
    if before is not None:
        query = query.where(audit_log.c.created_at < before)
    if below_id is not None:
        query = query.where(audit_log.c.id < below_id)
    return [_entry(row) for row in conn.execute(query)]


def verify(conn: Connection) -> Verification:
    """Recompute the chain in id order, in batches."""
    previous, checked, last_id = GENESIS, 0, 0
    while True:
        batch = conn.execute(
            sa.select(audit_log).where(audit_log.c.id > last_id).order_by(audit_log.c.id).limit(VERIFY_BATCH)
        ).all()
        if not batch:
            return Verification(True, checked)
        for row in batch:
            values = dict(row._mapping)
            if values["row_hash"] is None:  # written before the chain existed
                last_id = values["id"]
                continue
            if values["prev_hash"] != previous:
                return Verification(False, checked, values["id"], "a row before it was removed or altered")
            if row_hash(values, previous) != values["row_hash"]:
                return Verification(False, checked, values["id"], "this row was altered")
            previous, last_id = values["row_hash"], values["id"]
            checked += 1
