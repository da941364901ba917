"""The capture pipeline the HTTP routes call: decode -> parse -> normalise -> dedup ->
persons -> definitions -> durable write, answered only once the events are committed.

Stages run in the order below, then the request waits for the writer's group commit::

    decode_body -> parse_request -> resolve token -> normalise_event (all events first, so a
    bad event fails the request before any state changes) -> Deduplicator.check ->
    PersonIndex.process / group_slots -> DefinitionTracker.observe -> GroupWriter.submit

Nothing a client sends may hold the event loop for long. What the SDKs send (a body of up to
``INLINE_BYTES`` with at most ``ADMIT_SLICE`` events) runs on the loop, which is the fastest
path (a thread hop costs more than the work). A body that is bigger, or decompresses to more,
or is lz-string (a pure-Python decoder), is decoded and parsed on one of ``DECODE_WORKERS``
threads (a bounded pool: hostile bodies queue behind each other, not in front of everyone);
a request of more events is normalised there too, then admitted on the loop ``ADMIT_SLICE``
events at a time. Admission (dedup, identity, definitions) stays on the loop thread, so the
readers of the in-memory state (flags, persons) never see it mid-change.

All or nothing: every event is normalised, which validates it (and makes its stored JSON),
before any state changes, so a refused request leaves nothing behind. The state changes of an
admitted batch travel with its rows into one store transaction; when a commit fails, the
writer fails that batch and everything admitted on top of it, and the next admission reloads
the in-memory state from the store (see :mod:`hedgerow.ingest.writer`).

Scale-out mode (``shared``, see :mod:`hedgerow.ingest.shared_persons`): persons are decided
in PostgreSQL, one locked transaction per admitted batch, so admission runs on one identity
thread of its own instead of the loop (it may wait on another process's locks). A batch the
shared store cannot take is refused (503) and its uuids forgotten, so its retry is stored.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Iterator, Mapping, TypeVar, Union

from hedgerow.ingest.collector import collector_paused
from hedgerow.ingest.decode import (
    BATCH_ROUTE_LIMIT,
    EVENT_ROUTE_LIMIT,
    INLINE_BYTES,
    DecodeInWorker,
    decode_body,
)
from hedgerow.ingest.dedup import DUPLICATE, MAYBE, Deduplicator
from hedgerow.ingest.definitions import DefinitionSink, DefinitionTracker, MemoryDefinitionSink
from hedgerow.ingest.errors import InvalidToken, RetryableSinkError
from hedgerow.ingest.normalise import NormalEvent, invalid_timestamp, normalise_event, parse_time
from hedgerow.ingest.own_changes import OwnChanges
from hedgerow.ingest.parse import CaptureRequest, extract_distinct_id, parse_request
from hedgerow.ingest.persons import Changes, IngestionWarning, PersonIndex, SealedChanges
from hedgerow.ingest.shared_persons import NO_GROUPS, PersonResult, SharedPersons
from hedgerow.ingest.writer import GroupWriter, Submission, Waiter
from hedgerow.store.errors import StoreUnavailable
from hedgerow.store.events.protocol import EventStore

log = logging.getLogger(__name__)

GIL_SWITCH_INTERVAL = 0.0005
ADMIT_SLICE = 500
"""Requests of up to this many events are admitted in one go; bigger ones in slices this big."""
DECODE_WORKERS = 2
_NONE_SLICE = [None] * ADMIT_SLICE
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Project:
    """What ingestion needs to know about the project a token names."""

    id: int
    anonymize_ips: bool = False
    ingested_event: bool = False
    """Already marked as having received an event (so the first one need not mark it)."""


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
        on_first_event: Callable[[int], None] | None = None,
        shared: SharedPersons | None = None,
    ) -> None:
        self.store = store
        self.shared = shared
        """Scale-out mode: persons are decided in the shared store (None: in this process)."""
        self.own_changes = OwnChanges()
        """Scale-out mode: the feed numbers of the changes this process submitted itself."""
        # In scale-out mode admission waits on the shared store's locks: it runs on this one
        # thread (in order, as on the loop) rather than holding the event loop.
        self._identity_worker = (ThreadPoolExecutor(1, thread_name_prefix="hedgerow-identity")
                                 if shared is not None else None)  # fmt: skip
        self.on_first_event = on_first_event
        """Called (on a worker thread) with a project id the first time this process stores
        an event for a project not yet marked as having one."""
        self._ingested: set[int] = set()
        self._workers = ThreadPoolExecutor(DECODE_WORKERS, thread_name_prefix="hedgerow-decode")
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
        self._workers.shutdown(wait=True, cancel_futures=True)
        if self._identity_worker is not None:
            self._identity_worker.shutdown(wait=True)
        self.writer.stop()
        self._started = False

    def _load(self) -> None:
        index = PersonIndex()
        if self.shared is None:  # in scale-out mode identity lives in the shared store only
            rows = self.store.load_identity()
            index = PersonIndex(rows.next_int_id)
            index.load(rows.persons, rows.distinct_ids, rows.groups, rows.group_types)
        dedup = Deduplicator(self._recent_uuids)
        dedup.load(*self.store.load_uuid_columns())
        self.index, self.dedup = index, dedup

    def _on_failure(self, generation: int) -> None:
        # Called on the writer thread; the reload happens on the admitting thread.
        self._stale_generation = max(self._stale_generation, generation)
        self.own_changes.failed(generation)

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

        Small requests (what the SDKs send) run on the event loop. A request that is costly to
        decode (over ``INLINE_BYTES``, or lz-string) is decoded and parsed on a worker thread,
        and one of more than ``ADMIT_SLICE`` events is normalised there too and then admitted
        in slices, so a hostile body never holds the loop for long (see the module docstring).
        """
        decode = (body, _header(headers, "content-type"), _header(headers, "content-encoding"),
                  query, method, path)  # fmt: skip
        try:
            request = _decode_and_parse(*decode, inline_limit=INLINE_BYTES)
        except DecodeInWorker:
            del body
            with collector_paused():
                stored, project = await self._ingest_big(decode, remote_ip)
        else:
            del body, decode
            project = await self._project(request.token)
            now_us = time.time_ns() // 1000
            if len(request.events) <= ADMIT_SLICE:
                normals = self.normalise(request, project, remote_ip, now_us)
                future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
                await self._admit_async(project.id, normals, now_us, future)
                # The events are in the submitted batch now. Holding the parsed JSON (tens of
                # thousands of dicts in flight under load) through the commit wait would get
                # it promoted to the GC's old generation, whose full collections then walk it.
                del normals, request
                stored = await future
            else:
                stored = await self._admit_big(request, project, remote_ip, now_us)
        self.flush_definitions()
        if stored and not project.ingested_event and project.id not in self._ingested:
            self._ingested.add(project.id)
            if self.on_first_event is not None:
                try:  # the events are stored: a failure here must not fail the request
                    await self.in_worker(self.on_first_event, project.id)
                except Exception:  # noqa: BLE001
                    log.warning("could not mark project %s as ingested", project.id, exc_info=True)
                    self._ingested.discard(project.id)
        return stored

    async def _ingest_big(self, decode: tuple, remote_ip: str | None) -> tuple[int, Project]:
        """A costly body: decoded and parsed on a worker, then normalised there and admitted
        in slices; its parsed events are freed on the worker too (as they go)."""
        request = await self.in_worker(_decode_and_parse, *decode)
        del decode
        try:
            project = await self._project(request.token)
        except InvalidToken:
            await self.in_worker(_release, request)
            raise
        now_us = time.time_ns() // 1000
        return await self._admit_big(request, project, remote_ip, now_us), project

    async def _admit_big(self, request: CaptureRequest, project: Project, remote_ip: str | None,
                         now_us: int) -> int:  # fmt: skip
        normals = await self.in_worker(_normalise_and_release, self.normalise, request,
                                        project, remote_ip, now_us)  # fmt: skip
        del request
        return await self._admit_in_slices(project.id, normals, now_us)

    async def in_worker(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` on the bounded decode pool (state-free work only)."""
        return await asyncio.get_running_loop().run_in_executor(self._workers, function, *args)

    async def _admit_in_slices(self, team_id: int, normals: list[NormalEvent], now_us: int) -> int:
        """Admit a big request ``ADMIT_SLICE`` events at a time, letting the loop run between.

        Each slice is admitted atomically and committed with its own identity changes, so
        state never holds an effect whose event is not on its way to the store; every event
        was normalised (and so validated) before the first slice.
        """
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[int]] = []
        for start in range(0, len(normals), ADMIT_SLICE):
            if futures:
                await asyncio.sleep(0)
            end = min(start + ADMIT_SLICE, len(normals))
            future: asyncio.Future[int] = loop.create_future()
            await self._admit_async(team_id, normals[start:end], now_us, future)
            futures.append(future)
            # Freed a slice at a time: dropping them all at once would hold the loop.
            normals[start:end] = _NONE_SLICE[:end - start]
        del normals
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return sum(outcomes)  # type: ignore[arg-type]

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
        now_us = time.time_ns() // 1000
        normals = self.normalise(request, project, remote_ip, now_us)
        return self._admit_normals(project.id, normals, now_us, future)

    @staticmethod
    def normalise(request: CaptureRequest, project: Project, remote_ip: str | None,
                  now_us: int) -> list[NormalEvent]:  # fmt: skip
        """Every event of a request normalised (and so validated): no state is touched, so a
        refused event leaves nothing behind. Safe on any thread."""
        sent_at_us = parse_time(request.sent_at) if request.sent_at is not None else None
        ip = None if project.anonymize_ips else remote_ip
        normals = [
            normalise_event(event, distinct_id, sent_at_us=sent_at_us, now_us=now_us, ip=ip)
            for event, distinct_id in zip(request.events, request.distinct_ids)
        ]
        if sent_at_us is None and request.sent_at not in (None, ""):
            warning = invalid_timestamp("sent_at", request.sent_at)
            for n in normals:
                n.warnings = [*(n.warnings or ()), warning]
        return normals

    async def _admit_async(self, team_id: int, normals: list[NormalEvent], now_us: int,
                           future: "asyncio.Future[int]") -> None:  # fmt: skip
        """:meth:`_admit_normals` on the loop, or on the identity thread in scale-out mode."""
        if self._identity_worker is None:
            self._admit_normals(team_id, normals, now_us, future)
        else:
            await asyncio.get_running_loop().run_in_executor(
                self._identity_worker, self._admit_normals, team_id, normals, now_us, future)

    def _admit_normals(self, team_id: int, normals: list[NormalEvent], now_us: int,
                       future: Waiter | None) -> Waiter:  # fmt: skip
        if not self._started:
            raise RuntimeError("ingestor not started")
        with self._admission:
            self._ensure_fresh()
            return self._admit_locked(team_id, normals, now_us,
                                      future if future is not None else Future())

    def _admit_locked(self, team_id: int, normals: list[NormalEvent], now_us: int,
                      future: Waiter) -> Waiter:  # fmt: skip
        statuses = self.dedup.check(team_id, [n.uuid_int for n in normals])
        index, definitions = self.index, self.definitions
        decided: Iterator[PersonResult] | None = None
        group_types = index.team(team_id).group_types
        if self.shared is not None:
            normals = [n for n, status in zip(normals, statuses) if status != DUPLICATE]
            statuses = [status for status in statuses if status != DUPLICATE]
            try:
                results, changes, group_types = self.shared.process(team_id, normals, now_us)
                self.own_changes.add(changes.feed_numbers, self._generation)
            except StoreUnavailable:
                log.warning("shared identity store failed; refusing the batch", exc_info=True)
                self.dedup.forget(team_id, [n.uuid_int for n in normals])
                raise RetryableSinkError() from None
            decided = iter(results)
        else:
            changes = Changes()
        rows: list[tuple] = []
        maybe: list[int] = []
        for n, status in zip(normals, statuses):
            if status == DUPLICATE:
                continue
            if n.warnings:
                changes.warnings.extend(IngestionWarning(team_id, kind, details)
                                        for kind, details in n.warnings)  # fmt: skip
            if decided is None:
                person_id, person_props, person_created = index.process(team_id, n, now_us, changes)
                slots = index.group_slots(team_id, n.groups, changes) if n.groups else NO_GROUPS
            else:
                person_id, person_props, person_created, slots = next(decided)
            props = n.properties
            definitions.observe(team_id, n.event, props, now_us)
            if not n.personless and (n.set is not None or n.set_once is not None
                                     or n.web is not None):  # fmt: skip
                definitions.observe_person(team_id, n.set, n.set_once, n.web, props)
            if n.event == "$groupidentify" and isinstance(props.get("$group_set"), dict):
                index_of = group_types.get(props.get("$group_type"))
                if index_of is not None:
                    definitions.observe_group(team_id, index_of, props["$group_set"])
            if status == MAYBE:
                maybe.append(len(rows))
            rows.append((
                team_id, n.uuid, n.event, n.distinct_id, n.properties_json, n.timestamp_us,
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
        await self._admit_async(team_id, normals, now_us, future)
        del normals, events
        stored = await future
        self.flush_definitions()
        return stored

    async def delete_person(self, team_id: int, uuid: str, *, delete_events: bool = False) -> bool:
        """Remove a person and its distinct ids (and, if asked, its events) durably."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        if self._identity_worker is None:
            found = self._delete_person(team_id, uuid, delete_events, future)
        else:
            found = await asyncio.get_running_loop().run_in_executor(
                self._identity_worker, self._delete_person, team_id, uuid, delete_events, future)
        if not found:
            return False
        await future
        return True

    def _delete_person(self, team_id: int, uuid: str, delete_events: bool,
                       future: "asyncio.Future[int]") -> bool:  # fmt: skip
        with self._admission:
            self._ensure_fresh()
            changes: Changes | None = Changes()
            if self.shared is not None:
                try:
                    changes = self.shared.delete_person(team_id, uuid)
                    if changes is not None:
                        self.own_changes.add(changes.feed_numbers, self._generation)
                except StoreUnavailable:
                    log.warning("shared identity store failed; person not deleted", exc_info=True)
                    raise RetryableSinkError() from None
            elif self.index.delete_person(team_id, uuid, changes) is None:
                changes = None
            if changes is None:
                return False
            deletes = [(team_id, [uuid], changes_ids(changes))] if delete_events else []
            self.writer.submit(
                Submission([], [], changes.seal(), self._generation, deletes, future))
        return True

    def apply_shared_changes(self, read: Callable[[], SealedChanges]) -> Waiter | None:
        """Scale-out mode: ``read`` the shared store's newer identity rows and queue them for
        this process's events store, resolved once committed; None when the feed had nothing
        new (``version`` None).

        Read and queued under the admission lock, so they take their place among this
        process's own admissions: what the shared store said before an admission is
        committed before that admission's changes, what it says after, after them.
        """
        with self._admission:
            self._ensure_fresh()
            changes = read()
            if not changes and changes.version is None:
                return None
            # Rows or not (a feed page of this process's own changes reads as none), the
            # waiter resolves once everything admitted before it is committed.
            return self.writer.submit(Submission([], [], changes, self._generation, future=Future()))

    def flush_definitions(self) -> None:
        """Hand new definitions to the sink (cheap when nothing is new)."""
        if self.definitions.pending:
            self.definitions_sink.write(self.definitions.drain())


def _normalise_and_release(normalise: Callable[..., list[NormalEvent]], request: CaptureRequest,
                           *args: Any) -> list[NormalEvent]:  # fmt: skip
    """``normalise``, then free the parsed events a slice at a time on this (worker) thread:
    one deallocation of a few hundred thousand dicts would hold the GIL for tens of ms."""
    normals = normalise(request, *args)
    _release(request)
    return normals


def _release(request: CaptureRequest) -> None:
    events = request.events
    while events:
        del events[-ADMIT_SLICE:]


def _decode_and_parse(body: bytes, content_type: str | None, content_encoding: str | None,
                      query: Mapping[str, str], method: str, path: str,
                      inline_limit: int | None = None) -> CaptureRequest:  # fmt: skip
    payload = decode_body(body, content_type=content_type, content_encoding=content_encoding,
                          query=query, method=method, max_size=body_limit(path),
                          inline_limit=inline_limit)  # fmt: skip
    return parse_request(payload, query=query, path=path)


def changes_ids(changes: Changes) -> list[str]:
    return [distinct_id for (_team, distinct_id) in changes.deleted_distinct_ids]


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.title())
    return value
