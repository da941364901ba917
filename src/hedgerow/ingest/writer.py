"""The durable group writer: one thread, one transaction per group, acks after commit.

Requests hand their rows and identity changes to :meth:`GroupWriter.submit` and wait on the
returned future. The writer thread takes everything queued (up to ``max_rows`` events), commits
it in one store transaction, then resolves every waiting future. There is no timer: while one
commit runs, the next group gathers, so groups grow with load and latency stays one commit
when idle.

A submission's future is either a :class:`concurrent.futures.Future` or an
:class:`asyncio.Future`. The asyncio ones of a group are resolved with one callback per event
loop (one wake-up of the loop per commit rather than one per request: with single-event
requests, the per-future machinery of ``asyncio.wrap_future`` was ~15% of the event loop).

A failed commit (a store error, or any other exception) fails its group and everything queued
behind it (their identity changes were computed on top of the lost ones), and then every
submission of the same *generation* until the pipeline reloads its in-memory state from the
store and moves to the next generation: the failed requests are answered 503, and their
retries find neither a remembered uuid nor a half-applied person.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Callable, Union

from hedgerow.ingest.errors import RetryableSinkError
from hedgerow.ingest.persons import SealedChanges
from hedgerow.store.events.protocol import EventStoreError, EventStore, WriteBatch

log = logging.getLogger(__name__)

Waiter = Union[Future, "asyncio.Future[int]"]
"""What a submitter waits on: resolved with the number of events stored, or an exception."""
Outcome = Union[int, BaseException]


@dataclass(slots=True)
class Submission:
    """One request's share of a group: event rows (``EVENT_COLUMNS`` order), the indexes of
    rows whose uuid may already be stored, identity changes, and the future to resolve."""

    rows: list[tuple]
    maybe: list[int]
    changes: SealedChanges | None
    generation: int
    delete_events: list[tuple] = field(default_factory=list)
    future: Waiter = field(default_factory=Future)

    @property
    def size(self) -> int:
        return len(self.rows)


@dataclass(slots=True)
class WriterStats:
    commits: int = 0
    events: int = 0
    largest_group: int = 0
    commit_seconds: float = 0.0


_STOP = object()


class GroupWriter:
    """Single writer thread over an :class:`EventStore`."""

    def __init__(
        self,
        store: EventStore,
        *,
        max_rows: int = 20_000,
        on_failure: Callable[[int], None] | None = None,
    ) -> None:
        self.store = store
        self.max_rows = max_rows
        self.on_failure = on_failure
        self.stats = WriterStats()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._failed_generation = -1
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="hedgerow-writer", daemon=True)
            self._thread.start()

    def submit(self, submission: Submission) -> Waiter:
        """Queue a submission; its future resolves to the number of events stored."""
        if self._thread is None:
            raise RuntimeError("writer not started")
        self._queue.put(submission)
        return submission.future

    def stop(self, timeout: float | None = 30.0) -> None:
        """Commit what is queued, then stop the thread."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        get = self._queue.get
        get_nowait = self._queue.get_nowait
        stopping = False
        while not stopping:
            first = get()
            if first is _STOP:
                break
            group = [first]
            size = first.size
            while size < self.max_rows:
                try:
                    item = get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                group.append(item)
                size += item.size
            self._commit(group)

    def _commit(self, group: list[Submission]) -> None:
        live = [s for s in group if s.generation > self._failed_generation]
        if len(live) < len(group):
            _deliver([(s.future, RetryableSinkError()) for s in group
                      if s.generation <= self._failed_generation])  # fmt: skip
        if not live:
            return
        batch = WriteBatch()
        offsets = []
        offset = 0
        for s in live:
            offsets.append(offset)
            if s.rows:
                batch.events.extend(s.rows)
                batch.maybe.extend(offset + i for i in s.maybe)
                offset += len(s.rows)
            if s.changes:
                batch.changes.append(s.changes)
            batch.delete_events.extend(s.delete_events)
        started = time.perf_counter()
        try:
            skipped = self.store.commit(batch)
        except Exception as exc:  # noqa: BLE001 - a store error or a bug: the same way out
            # The group's identity changes are already in the in-memory state, and so are
            # those of everything admitted on top of it: fail them all (generation) and have
            # the state reloaded from the store before the next admission, whatever went wrong.
            if isinstance(exc, EventStoreError):
                log.error("events commit failed; failing %d requests", len(live), exc_info=exc)
            else:
                log.exception("writer crashed on a group of %d requests", len(live))
            generation = max(s.generation for s in live)
            self._failed_generation = generation
            if self.on_failure is not None:  # before the futures fail: a retry must see it
                self.on_failure(generation)
            _deliver([(s.future, RetryableSinkError()) for s in live])
            return
        stats = self.stats
        stats.commits += 1
        stats.events += offset - len(skipped)
        stats.largest_group = max(stats.largest_group, offset)
        stats.commit_seconds += time.perf_counter() - started
        outcomes: list[tuple[Waiter, Outcome]] = []
        for s, offset in zip(live, offsets):
            n = s.size
            if skipped:
                n -= sum(1 for i in s.maybe if offset + i in skipped)
            outcomes.append((s.future, n))
        _deliver(outcomes)
        try:  # after the acks: housekeeping never delays the group that triggered it
            self.store.maintain()
        except EventStoreError:
            log.warning("events store maintenance failed; will retry", exc_info=True)


def _deliver(outcomes: list[tuple[Waiter, Outcome]]) -> None:
    """Resolve futures from the writer thread: thread-safe ones at once, asyncio ones with
    one ``call_soon_threadsafe`` per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Waiter, Outcome]]] = {}
    for future, outcome in outcomes:
        if isinstance(future, asyncio.Future):
            by_loop.setdefault(future.get_loop(), []).append((future, outcome))
        else:
            _settle([(future, outcome)])
    for loop, items in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, items)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass


def _settle(items: list[tuple[Waiter, Outcome]]) -> None:
    for future, outcome in items:
        if future.done():  # e.g. cancelled: the client went away
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
