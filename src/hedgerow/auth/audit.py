"""Audit: every decision becomes a row with a sentence a person can read.

"Key 'release-bot' tried to change feature flags in project 'Shop' — denied: the key lacks
feature_flag:write." Secrets never reach this module: it sees key ids and labels only.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Any

from hedgerow import clock
from hedgerow.auth.authorize import Decision
from hedgerow.control_chars import escape_controls
from hedgerow.store.meta import audit as audit_store
from hedgerow.store.meta.audit import AuditEntry
from hedgerow.store.meta.db import MetaDB

WRITE_TIMEOUT_SECONDS = 30.0
MAX_GROUP = 500

# How objects read in a sentence; anything missing reads as "<object with spaces>s".
_NOUNS = {
    "activity_log": "the activity log",
    "query": "queries",
    "person": "persons",
    "user": "their user profile",
    "organization": "organization settings",
    "project": "projects",
    "property_definition": "property definitions",
    "event_definition": "event definitions",
    "personal_api_key": "personal API keys",
    "feature_flag": "feature flags",
    "session_recording": "session recordings",
}

_CHANNELS = {"rest": " over REST", "mcp": " over MCP", "cli": " from the command line"}

# Verbs by action, with per-object exceptions.
_VERBS = {"read": "read", "write": "change"}
_OBJECT_VERBS = {("query", "read"): "run"}


def _phrase(decision: Decision) -> str:
    target = decision.target
    if target.scope is None:
        return f"call {target.method} {escape_controls(target.path)}"
    noun = _NOUNS.get(target.scope.object, target.scope.object.replace("_", " ") + "s")
    verb = _OBJECT_VERBS.get((target.scope.object, target.scope.action), _VERBS[target.scope.action])
    if target.subject is not None and noun.endswith("s") and not noun.startswith("the "):
        return f"{verb} {noun[:-1]} '{target.subject}'"
    return f"{verb} {noun}"


def _place(decision: Decision) -> str:
    target = decision.target
    if target.project_id is not None:
        if target.project_name:
            return f" in project '{target.project_name}'"
        return f" in project {target.project_id}"
    if target.organization_name:
        return f" in organization '{target.organization_name}'"
    return ""


def _who(decision: Decision) -> str:
    principal = decision.principal
    if principal is not None and principal.agent is not None:
        return f"Agent '{principal.agent.name}' (owner {principal.agent.owner_email})"
    if principal is not None and principal.is_operator:
        return "The operator"
    if principal is not None:
        return f"Key '{principal.key_label}'"
    if decision.error is not None and decision.error.code == "authentication_failed":
        return "A request with an invalid API key"
    return "A request without an API key"


def sentence(decision: Decision, status: int | None) -> str:
    """The plain-English record of ``decision`` (and of the answer, when it was not a success)."""
    what = _phrase(decision) + _place(decision) + _CHANNELS.get(decision.target.via, "")
    if not decision.allowed:
        return f"{_who(decision)} tried to {what} — denied: {decision.reason}."
    if status == 429:
        return f"{_who(decision)} tried to {what} — allowed, but throttled by the rate limit."
    if status is not None and status >= 400:
        return f"{_who(decision)} tried to {what} — allowed, but the request failed ({status})."
    return f"{_who(decision)} {_past(what)} — allowed."


def _past(what: str) -> str:
    verb, _, rest = what.partition(" ")
    past = {"read": "read", "change": "changed", "run": "ran", "call": "called"}.get(verb, verb)
    return f"{past} {rest}"


class AuditLog:
    """Writes decisions to the metadata database, grouped.

    A call returns once its entry is committed (a decision is never lost), but entries from
    concurrent calls share one transaction: SQLite allows one writer at a time, and writers
    waiting on its lock back off by sleeping, so many small writes from many threads are far
    slower than a few grouped ones. The calling thread writes (group commit): it queues its
    entry and takes the writer's lock; whoever holds the lock writes every entry queued so
    far, so a caller that finds its entry already written returns at once. With no dedicated
    writer thread, an unhurried call costs no hand-over between threads (two per call when a
    writer thread did the writing, each a wait for the scheduler on a busy machine).
    """

    def __init__(self, db: MetaDB) -> None:
        self._db = db
        self._queue: queue.SimpleQueue[tuple[AuditEntry, Future]] = queue.SimpleQueue()
        self._writing = threading.Lock()

    def record(self, decision: Decision, status: int | None, args_digest: str | None = None) -> AuditEntry:
        target = decision.target
        principal = decision.principal
        entry = AuditEntry(
            created_at=clock.now(),
            via=target.via,
            key_id=principal.key_id if principal else None,
            key_label=principal.key_label if principal else None,
            user_id=principal.user_id if principal else None,
            method=target.method,
            path=escape_controls(target.path)[:2000],  # a NUL cannot be stored in PostgreSQL text
            object=target.scope.object if target.scope else None,
            action=target.scope.action if target.scope else None,
            project_id=target.project_id,
            organization_id=target.organization_id,
            decision="allowed" if decision.allowed else "denied",
            reason=decision.reason,
            status=status,
            sentence=sentence(decision, status),
            agent_id=principal.key_id if principal and principal.agent else None,
            args_digest=args_digest,
        )
        done: Future = Future()
        self._queue.put((entry, done))
        if not self._writing.acquire(timeout=WRITE_TIMEOUT_SECONDS):
            raise TimeoutError("the audit log could not be written in time")
        try:
            self._write_until(done)
        finally:
            self._writing.release()
        done.result()
        return entry

    def _write_until(self, done: Future) -> None:
        """Write what is queued, :data:`MAX_GROUP` entries per transaction, until ``done`` (this
        call's entry) is written: at once when a caller before it wrote it (under the lock)."""
        while not done.done():
            group = []
            while len(group) < MAX_GROUP:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if not group:  # only a writer that died mid-group can have taken it unwritten
                done.set_exception(RuntimeError("the audit entry was not written"))
                return
            try:
                with self._db.write() as conn:
                    audit_store.insert_many(conn, [entry for entry, _ in group])
            except Exception as error:  # noqa: BLE001 - handed to every waiting caller
                for _, waiter in group:
                    waiter.set_exception(error)
            else:
                for _, waiter in group:
                    waiter.set_result(None)

    def close(self) -> None:
        """Nothing to stop: every call has written its entry before returning."""

    def newest(self, limit: int = 50, key_id: str | None = None, **filters: Any) -> list[AuditEntry]:
        """Entries newest first; ``filters`` as :func:`hedgerow.store.meta.audit.newest` takes."""
        with self._db.read() as conn:
            return audit_store.newest(conn, limit=limit, key_id=key_id, **filters)

    def verify(self) -> audit_store.Verification:
        """Walk the hash chain from the first row: the first row altered or removed, if any."""
        with self._db.read() as conn:
            return audit_store.verify(conn)
