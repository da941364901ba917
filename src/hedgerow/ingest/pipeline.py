"""The capture pipeline the HTTP routes call: decode -> parse -> normalise -> dedup ->
persons -> definitions -> durable write, answered only once the events are committed.

Stages run in the order below; all but the last run synchronously on the caller's thread (the
event loop), so the in-memory identity state changes atomically per request, then the request
waits for the writer's group commit::

    decode_body -> parse_request -> resolve token -> normalise_event (all events first, so a
    bad event fails the request before any state changes) -> Deduplicator.check ->
    PersonIndex.process / group_slots -> DefinitionTracker.observe -> GroupWriter.submit
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Mapping, Union

import orjson

from hedgerow.ingest.decode import BATCH_ROUTE_LIMIT, EVENT_ROUTE_LIMIT, decode_body
from hedgerow.ingest.dedup import DUPLICATE, MAYBE, Deduplicator
from hedgerow.ingest.definitions import DefinitionSink, DefinitionTracker, MemoryDefinitionSink
from hedgerow.ingest.errors import InvalidToken
from hedgerow.ingest.normalise import NormalEvent, normalise_event, parse_time
from hedgerow.ingest.parse import CaptureRequest, extract_distinct_id, parse_request
from hedgerow.ingest.persons import Changes, IngestionWarning, PersonIndex
from hedgerow.ingest.writer import GroupWriter, Submission, Waiter
from hedgerow.store.events.protocol import EventStore

log = logging.getLogger(__name__)

_NO_GROUPS = ("", "", "", "", "")
GIL_SWITCH_INTERVAL = 0.0005


@dataclass(frozen=True, slots=True)
class Project:
    """What ingestion needs to know about the project a token names."""

    id: int
    anonymize_ips: bool = False


TokenResolver = Callable[[str], Union[Project, int, None, Awaitable[Union[Project, int, None]]]]
"""token -> project (or its id), None when no project has that token; may be async."""


def body_limit(path: str) -> int:
    """The request body limit of a capture path (2 MB, 20 MB for ``/batch``)."""
    return BATCH_ROUTE_LIMIT if path.strip("/").startswith("batch") else EVENT_ROUTE_LIMIT


class Ingestor:
    """Owns the in-memory ingestion state and the writer for one events store."""

    def __init__(
        self,
        store: EventStore,
        resolve_token: TokenResolver,
        *,
        definitions: DefinitionSink | None = None,
        recent_uuids: int = 1_000_000,
        max_group_rows: int = 20_000,
        switch_interval: float | None = GIL_SWITCH_INTERVAL,
    ) -> None:
        self.store = store
        self.resolve_token = resolve_token
        self.definitions_sink = definitions if definitions is not None else MemoryDefinitionSink()
        self.definitions = DefinitionTracker()
        self.warnings: deque[IngestionWarning] = deque(maxlen=10_000)
        self._recent_uuids = recent_uuids
        self.index = PersonIndex()
        self.dedup = Deduplicator(recent_uuids)
        self.writer = GroupWriter(store, max_rows=max_group_rows, on_failure=self._on_failure)
        self._generation = 0
        self._stale_generation = -1
        self._started = False
        self._switch_interval = switch_interval
        # Admission normally runs on the event loop thread only; the lock makes a call from a
        # worker thread (a sync route, the CLI) safe too. Uncontended it costs ~0.1 us.
        self._admission = threading.Lock()

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Load identity and dedup state from the store and start the writer.

        Also shortens the interpreter's GIL switch interval (process-wide; pass
        ``switch_interval=None`` to leave it): the writer thread needs the GIL back between
        DuckDB calls, and with the default 5 ms it waits behind admission work on the event
        loop (measured ~10k -> ~14k events/s in bench/ingest_store.py).
        """
        if self._switch_interval is not None:
            sys.setswitchinterval(self._switch_interval)
        self._load()
        self.writer.start()
        self._started = True

    def close(self) -> None:
        """Commit what is queued and stop the writer (the store stays open)."""
        self.writer.stop()
        self._started = False

    def _load(self) -> None:
        rows = self.store.load_identity()
        index = PersonIndex(rows.next_int_id)
        index.load(rows.persons, rows.distinct_ids, rows.groups, rows.group_types)
        dedup = Deduplicator(self._recent_uuids)
        dedup.load(*self.store.load_uuid_columns())
        self.index, self.dedup = index, dedup

    def _on_failure(self, generation: int) -> None:
        # Called on the writer thread; the reload happens on the admitting thread.
        self._stale_generation = max(self._stale_generation, generation)

    def _ensure_fresh(self) -> None:
        if self._stale_generation >= self._generation:
            log.warning("reloading ingestion state after a failed commit")
            self._load()
            self._generation = self._stale_generation + 1

    # -- the entry points -------------------------------------------------------------------

    async def ingest(
        self,
        body: bytes,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        remote_ip: str | None,
        path: str,
        method: str = "POST",
    ) -> int:
        """Handle one capture request; return once its events are durably stored.

        Returns the number of events written (duplicates are acknowledged, not written).
        Raises :class:`~hedgerow.ingest.errors.CaptureError` subclasses.
        """
        payload = decode_body(
            body,
            content_type=_header(headers, "content-type"),
            content_encoding=_header(headers, "content-encoding"),
            query=query,
            method=method,
            max_size=body_limit(path),
        )
        request = parse_request(payload, query=query, path=path)
        project = await self._project(request.token)
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.admit(request, project, remote_ip, future)
        # The events are in the submitted batch now. Holding the parsed JSON (tens of
        # thousands of dicts in flight under load) through the commit wait would get it
        # promoted to the GC's old generation, whose full collections then walk it.
        del payload, request
        stored = await future
        self.flush_definitions()
        return stored

    async def _project(self, token: str) -> Project:
        found = self.resolve_token(token)
        if inspect.isawaitable(found):
            found = await found
        if found is None:
            raise InvalidToken("no project has this token")
        return found if isinstance(found, Project) else Project(int(found))

    def admit(self, request: CaptureRequest, project: Project, remote_ip: str | None,
              future: Waiter | None = None) -> Waiter:  # fmt: skip
        """Normalise, dedup and apply identity for a parsed request; queue it for writing.

        Returns ``future`` (a new :class:`concurrent.futures.Future` if None), resolved with
        the number of events stored once they are committed. Synchronous on purpose: no other
        request interleaves with its state changes.
        """
        if not self._started:
            raise RuntimeError("ingestor not started")
        team_id = project.id
        now_us = time.time_ns() // 1000
        sent_at_us = parse_time(request.sent_at) if request.sent_at is not None else None
        ip = None if project.anonymize_ips else remote_ip
        normals = [
            normalise_event(event, distinct_id, sent_at_us=sent_at_us, now_us=now_us, ip=ip)
            for event, distinct_id in zip(request.events, request.distinct_ids)
        ]
        return self._admit_normals(team_id, normals, now_us, future)

    def _admit_normals(self, team_id: int, normals: list[NormalEvent], now_us: int,
                       future: Waiter | None) -> Waiter:  # fmt: skip
        with self._admission:
            self._ensure_fresh()
            return self._admit_locked(team_id, normals, now_us,
                                      future if future is not None else Future())

    def _admit_locked(self, team_id: int, normals: list[NormalEvent], now_us: int,
                      future: Waiter) -> Waiter:  # fmt: skip
        statuses = self.dedup.check(team_id, [n.uuid_int for n in normals])
        changes = Changes()
        rows: list[tuple] = []
        maybe: list[int] = []
        index, definitions, dumps = self.index, self.definitions, orjson.dumps
        for n, status in zip(normals, statuses):
            if status == DUPLICATE:
                continue
            person_id, person_props, person_created = index.process(team_id, n, now_us, changes)
            slots = index.group_slots(team_id, n.groups, changes) if n.groups else _NO_GROUPS
            props = n.properties
            definitions.observe(team_id, n.event, props, now_us)
            if not n.personless and (n.set is not None or n.set_once is not None
                                     or n.web is not None):  # fmt: skip
                definitions.observe_person(team_id, n.set, n.set_once, n.web, props)
            if n.event == "$groupidentify" and isinstance(props.get("$group_set"), dict):
                index_of = index.team(team_id).group_types.get(props.get("$group_type"))
                if index_of is not None:
                    definitions.observe_group(team_id, index_of, props["$group_set"])
            if status == MAYBE:
                maybe.append(len(rows))
            rows.append((
                team_id, n.uuid, n.event, n.distinct_id, dumps(props).decode(), n.timestamp_us,
                now_us, person_id, person_props, person_created, n.session_id, n.window_id,
                n.elements_chain, *slots,
            ))  # fmt: skip
        if changes.warnings:
            self.warnings.extend(changes.warnings)
        # Rows, not Arrow: the writer converts a whole group at once (per request, the
        # conversion was most of the event loop's time for single-event requests).
        return self.writer.submit(Submission(rows, maybe, changes.seal(), self._generation,
                                             future=future))  # fmt: skip

    async def capture_internal(self, team_id: int, events: list[dict[str, Any]]) -> int:
        """Ingest server-made events (e.g. the Persons API's ``$set``) for a team."""
        now_us = time.time_ns() // 1000
        normals = []
        for event in events:
            event.setdefault("properties", {})
            distinct_id = extract_distinct_id(event, event["properties"])
            normals.append(normalise_event(event, distinct_id, sent_at_us=None, now_us=now_us,
                                           ip=None))  # fmt: skip
        if not self._started:
            raise RuntimeError("ingestor not started")
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._admit_normals(team_id, normals, now_us, future)
        del normals, events
        stored = await future
        self.flush_definitions()
        return stored

    async def delete_person(self, team_id: int, uuid: str, *, delete_events: bool = False) -> bool:
        """Remove a person and its distinct ids (and, if asked, its events) durably."""
        with self._admission:
            self._ensure_fresh()
            changes = Changes()
            person = self.index.delete_person(team_id, uuid, changes)
            if person is None:
                return False
            deletes = [(team_id, [uuid], changes_ids(changes))] if delete_events else []
            future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            self.writer.submit(
                Submission([], [], changes.seal(), self._generation, deletes, future))
        await future
        return True

    def flush_definitions(self) -> None:
        """Hand new definitions to the sink (cheap when nothing is new)."""
        if self.definitions.pending:
            self.definitions_sink.write(self.definitions.drain())


def changes_ids(changes: Changes) -> list[str]:
    return [distinct_id for (_team, distinct_id) in changes.deleted_distinct_ids]


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.title())
    return value
