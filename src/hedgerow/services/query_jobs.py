"""Queries in flight: per-project concurrency slots, async jobs with their status, cancel.

A query, sync or async, is *tracked* under ``(project, query id)`` while it runs so that
``DELETE .../query/<id>/`` can interrupt it. Async jobs also keep a PostHog ``QueryStatus``
(``complete``, ``error``, ``results``...) for polling, for 20 minutes after their last update.
Everything here is in-process: one server process owns its queries.

An async job takes its project's slot *before* it is handed to a worker thread: jobs wait in
their project's queue, so a project that queues many slow queries occupies at most its own
slots' worth of workers and never the workers another project's query needs. The registry is
bounded: at most ``max_active`` unfinished jobs per project and ``max_active_total`` in all
(more is a :class:`JobsBusy`), and
finished jobs are forgotten oldest first past ``max_finished`` jobs or ``max_result_bytes``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from hedgerow import clock
from hedgerow.errors import Exposed

log = logging.getLogger("hedgerow.query")

STATUS_TTL = dt.timedelta(minutes=20)

CANCELLED = "Cancelled query on clickhouse"
DEQUEUED = "Only tried to dequeue, not cancelling query on clickhouse"
ALREADY_COMPLETE = "Query already complete"
"""PostHog's answers to ``DELETE .../query/<id>/``, word for word."""


MAX_ACTIVE_JOBS = 16
"""Unfinished (queued or running) async jobs one project may have."""
MAX_ACTIVE_TOTAL = 256
"""Unfinished async jobs of all projects together (a key may reach many projects)."""
MAX_FINISHED_JOBS = 500
MAX_FINISHED_BYTES = 64 * 1024 * 1024
"""Finished jobs kept for polling, by count and by the size of their results."""


class SlotsBusy(Exception):
    """No concurrency slot came free in time."""


class JobsBusy(Exception):
    """The project already has its maximum of unfinished async jobs."""


class ProjectSlots:
    """At most ``limit`` queries run at once per project; others wait (up to a deadline).

    ``on_release`` callbacks hear of every slot freed (the async queue uses it to start the
    project's next job).
    """

    def __init__(self, limit: int = 3) -> None:
        self.limit = limit
        self._running: dict[int, int] = {}
        self._cond = threading.Condition()
        self.on_release: list[Callable[[int], None]] = []

    def running(self, project_id: int) -> int:
        """Slots in use by the project now."""
        with self._cond:
            return self._running.get(project_id, 0)

    def try_acquire(self, project_id: int) -> bool:
        """Take a slot if one is free now."""
        with self._cond:
            if self._running.get(project_id, 0) >= self.limit:
                return False
            self._running[project_id] = self._running.get(project_id, 0) + 1
            return True

    def release(self, project_id: int) -> None:
        with self._cond:
            self._running[project_id] -= 1
            if not self._running[project_id]:
                del self._running[project_id]
            self._cond.notify_all()
        for listener in self.on_release:
            listener(project_id)

    @contextmanager
    def hold(self, project_id: int, wait_seconds: float | None) -> Iterator[None]:
        """Hold a slot while the block runs; :class:`SlotsBusy` after ``wait_seconds``."""
        deadline = None if wait_seconds is None else time.monotonic() + wait_seconds
        with self._cond:
            while self._running.get(project_id, 0) >= self.limit:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise SlotsBusy()
                self._cond.wait(remaining)
            self._running[project_id] = self._running.get(project_id, 0) + 1
        try:
            yield
        finally:
            self.release(project_id)


@dataclass
class Running:
    """One query in flight: what cancelling it must stop."""

    cancelled: threading.Event = field(default_factory=threading.Event)
    cursor: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, cursor: Any) -> None:
        with self._lock:
            self.cursor = cursor
        if self.cancelled.is_set():
            cursor.interrupt()

    def detach(self) -> None:
        with self._lock:
            self.cursor = None

    def cancel(self) -> None:
        self.cancelled.set()
        with self._lock:
            if self.cursor is not None:
                self.cursor.interrupt()


@dataclass
class _Job:
    status: dict[str, Any]
    running: Running
    future: Future | None = None
    picked_up: bool = False
    result_bytes: int = 0
    expires_at: dt.datetime = field(default_factory=lambda: clock.now() + STATUS_TTL)


def _iso(value: dt.datetime | None) -> str | None:
    return clock.iso(value)


Work = Callable[[Running], tuple[dict[str, Any], int]]
"""An async job's body: runs the query, returns ``(results, their size in bytes)``."""


class QueryJobs:
    """Async query jobs on a thread pool, and the registry of every tracked query."""

    def __init__(
        self,
        slots: ProjectSlots,
        workers: int = 4,
        *,
        max_active: int = MAX_ACTIVE_JOBS,
        max_active_total: int = MAX_ACTIVE_TOTAL,
        max_finished: int = MAX_FINISHED_JOBS,
        max_result_bytes: int = MAX_FINISHED_BYTES,
    ) -> None:
        self.slots = slots
        self.max_active = max_active
        self.max_active_total = max_active_total
        self.max_finished = max_finished
        self.max_result_bytes = max_result_bytes
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hedgerow-query")
        self._jobs: dict[tuple[int, str], _Job] = {}
        self._waiting: dict[int, deque[tuple[tuple[int, str], _Job, Work]]] = {}
        self._finished: OrderedDict[tuple[int, str], _Job] = OrderedDict()
        self._finished_bytes = 0
        self._sync: dict[tuple[int, str], list[Running]] = {}
        self._lock = threading.Lock()
        slots.on_release.append(self._dispatch)

    # -- async jobs -------------------------------------------------------------------------

    def start(self, project_id: int, query_id: str, work: Work, *, rerun: bool) -> dict[str, Any]:
        """Queue ``work``; its status (a copy). A known id is not run again unless ``rerun``.

        :class:`JobsBusy` when the project already has ``max_active`` unfinished jobs.
        """
        key = (project_id, query_id)
        with self._lock:
            self._expire()
            existing = self._jobs.get(key)
            if existing is not None and not rerun:
                return dict(existing.status)
            replaced = existing is not None and not existing.status["complete"]
            unfinished = [pid for (pid, _), j in self._jobs.items() if not j.status["complete"]]
            if (
                unfinished.count(project_id) - replaced >= self.max_active
                or len(unfinished) - replaced >= self.max_active_total
            ):
                raise JobsBusy()
            if existing is not None:
                existing.running.cancel()
                self._forget(key)
            now = clock.now()
            job = _Job(status=self._new_status(project_id, query_id, now), running=Running())
            self._jobs[key] = job
            self._waiting.setdefault(project_id, deque()).append((key, job, work))
            status = dict(job.status)
        self._dispatch(project_id)
        return status

    def _dispatch(self, project_id: int) -> None:
        """Hand the project's queued jobs to workers while it has free slots."""
        with self._lock:
            queue = self._waiting.get(project_id)
            while queue:
                key, job, work = queue[0]
                if self._jobs.get(key) is not job or job.running.cancelled.is_set():
                    queue.popleft()  # cancelled or replaced while it waited
                    continue
                if not self.slots.try_acquire(project_id):
                    return
                queue.popleft()
                job.future = self._pool.submit(self._run_in_slot, key, job, work)
            self._waiting.pop(project_id, None)

    def _run_in_slot(self, key: tuple[int, str], job: _Job, work: Work) -> None:
        try:
            self._run(key, job, work)
        finally:
            self.slots.release(key[0])

    @staticmethod
    def _new_status(project_id: int, query_id: str, now: dt.datetime) -> dict[str, Any]:
        return {
            "id": query_id,
            "team_id": project_id,
            "complete": False,
            "error": False,
            "error_message": None,
            "results": None,
            "start_time": _iso(now),
            "end_time": None,
            "expiration_time": _iso(now + STATUS_TTL),
            "pickup_time": None,
            "query_async": True,
            "task_id": uuid.uuid4().hex,
            "query_progress": None,
            "insight_id": None,
            "dashboard_id": None,
            "labels": None,
        }

    def _update(self, key: tuple[int, str], job: _Job, result_bytes: int = 0, **changes: Any) -> None:
        with self._lock:
            if self._jobs.get(key) is not job:  # cancelled (or replaced) meanwhile
                return
            job.expires_at = clock.now() + STATUS_TTL
            job.status.update(changes, expiration_time=_iso(job.expires_at))
            if job.status["complete"]:
                job.result_bytes = result_bytes
                self._finished[key] = job
                self._finished_bytes += result_bytes
                while len(self._finished) > self.max_finished or self._finished_bytes > self.max_result_bytes:
                    self._forget(next(iter(self._finished)))

    def _forget(self, key: tuple[int, str]) -> None:
        """Drop a job from the registry (caller holds the lock)."""
        self._jobs.pop(key, None)
        finished = self._finished.pop(key, None)
        if finished is not None:
            self._finished_bytes -= finished.result_bytes

    def _run(self, key: tuple[int, str], job: _Job, work: Work) -> None:
        with self._lock:
            if self._jobs.get(key) is not job or job.running.cancelled.is_set():
                return
            job.picked_up = True
        self._update(key, job, pickup_time=_iso(clock.now()))
        try:
            results, size = work(job.running)
        except Exposed as error:
            self._update(key, job, complete=True, error=True, error_message=error.detail, results=None, end_time=_iso(clock.now()))
        except Exception:  # noqa: BLE001 - the job must record a failure, never vanish
            log.exception("async query %s failed", key[1])
            self._update(key, job, complete=True, error=True, error_message=None, results=None, end_time=_iso(clock.now()))
        else:
            self._update(key, job, size, complete=True, error=False, results=results, end_time=_iso(clock.now()))

    def status(self, project_id: int, query_id: str) -> dict[str, Any] | None:
        """The job's status (a copy), or None when unknown to this project."""
        with self._lock:
            self._expire()
            job = self._jobs.get((project_id, query_id))
            return dict(job.status) if job is not None else None

    def _expire(self) -> None:
        now = clock.now()
        for key in [k for k, j in self._jobs.items() if j.expires_at < now]:
            self._forget(key)

    def counts(self) -> tuple[int, int]:
        """``(jobs kept, bytes of finished results kept)``."""
        with self._lock:
            return len(self._jobs), self._finished_bytes

    # -- tracking and cancelling ------------------------------------------------------------

    @contextmanager
    def track(self, project_id: int, query_id: str) -> Iterator[Running]:
        """Register a synchronous query so that a cancel by id reaches it."""
        running = Running()
        key = (project_id, query_id)
        with self._lock:
            self._sync.setdefault(key, []).append(running)
        try:
            yield running
        finally:
            with self._lock:
                queries = self._sync.get(key, [])
                if running in queries:
                    queries.remove(running)
                if not queries:
                    self._sync.pop(key, None)

    def cancel(self, project_id: int, query_id: str, *, dequeue_only: bool = False) -> str:
        """Cancel whatever runs under this id in this project; PostHog's message."""
        key = (project_id, query_id)
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.status["complete"]:
                return ALREADY_COMPLETE
            if job is not None:
                # never Future.cancel(): a job handed to a worker holds its project's slot,
                # which only the worker's run gives back (it returns at once when cancelled)
                if not dequeue_only or not job.picked_up:
                    job.running.cancel()
                self._forget(key)
            if not dequeue_only:
                for running in self._sync.get(key, []):
                    running.cancel()
        return DEQUEUED if dequeue_only else CANCELLED

    def close(self) -> None:
        with self._lock:
            for job in self._jobs.values():
                job.running.cancel()
            for queries in self._sync.values():
                for running in queries:
                    running.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
