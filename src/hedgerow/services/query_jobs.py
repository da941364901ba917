"""Queries in flight: per-project concurrency slots, async jobs with their status, cancel.

A query, sync or async, is *tracked* under ``(project, query id)`` while it runs so that
``DELETE .../query/<id>/`` can interrupt it. Async jobs also keep a PostHog ``QueryStatus``
(``complete``, ``error``, ``results``...) for polling, for 20 minutes after their last update.
Everything here is in-process: one server process owns its queries.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
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


class SlotsBusy(Exception):
    """No concurrency slot came free in time."""


class ProjectSlots:
    """At most ``limit`` queries run at once per project; others wait (up to a deadline)."""

    def __init__(self, limit: int = 3) -> None:
        self.limit = limit
        self._running: dict[int, int] = {}
        self._cond = threading.Condition()

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
            with self._cond:
                self._running[project_id] -= 1
                if not self._running[project_id]:
                    del self._running[project_id]
                self._cond.notify_all()


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
    expires_at: dt.datetime = field(default_factory=lambda: clock.now() + STATUS_TTL)


def _iso(value: dt.datetime | None) -> str | None:
    return clock.iso(value)


class QueryJobs:
    """Async query jobs on a thread pool, and the registry of every tracked query."""

    def __init__(self, workers: int = 4) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hedgerow-query")
        self._jobs: dict[tuple[int, str], _Job] = {}
        self._sync: dict[tuple[int, str], list[Running]] = {}
        self._lock = threading.Lock()

    # -- async jobs -------------------------------------------------------------------------

    def start(
        self, project_id: int, query_id: str, work: Callable[[Running], dict[str, Any]], *, rerun: bool
    ) -> dict[str, Any]:
        """Queue ``work``; its status (a copy). A known id is not run again unless ``rerun``."""
        key = (project_id, query_id)
        with self._lock:
            self._expire()
            existing = self._jobs.get(key)
            if existing is not None and not rerun:
                return dict(existing.status)
            if existing is not None:
                existing.running.cancel()
            now = clock.now()
            job = _Job(status=self._new_status(project_id, query_id, now), running=Running())
            self._jobs[key] = job
            job.future = self._pool.submit(self._run, key, job, work)
            return dict(job.status)

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

    def _update(self, key: tuple[int, str], job: _Job, **changes: Any) -> None:
        with self._lock:
            if self._jobs.get(key) is not job:  # cancelled (or replaced) meanwhile
                return
            job.expires_at = clock.now() + STATUS_TTL
            job.status.update(changes, expiration_time=_iso(job.expires_at))

    def _run(self, key: tuple[int, str], job: _Job, work: Callable[[Running], dict[str, Any]]) -> None:
        with self._lock:
            if self._jobs.get(key) is not job or job.running.cancelled.is_set():
                return
            job.picked_up = True
        self._update(key, job, pickup_time=_iso(clock.now()))
        try:
            results = work(job.running)
        except Exposed as error:
            self._update(key, job, complete=True, error=True, error_message=error.detail, results=None, end_time=_iso(clock.now()))
        except Exception:  # noqa: BLE001 - the job must record a failure, never vanish
            log.exception("async query %s failed", key[1])
            self._update(key, job, complete=True, error=True, error_message=None, results=None, end_time=_iso(clock.now()))
        else:
            self._update(key, job, complete=True, error=False, results=results, end_time=_iso(clock.now()))

    def status(self, project_id: int, query_id: str) -> dict[str, Any] | None:
        """The job's status (a copy), or None when unknown to this project."""
        with self._lock:
            self._expire()
            job = self._jobs.get((project_id, query_id))
            return dict(job.status) if job is not None else None

    def _expire(self) -> None:
        now = clock.now()
        for key in [k for k, j in self._jobs.items() if j.expires_at < now]:
            del self._jobs[key]

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
                if job.future is not None:
                    job.future.cancel()
                if not dequeue_only or not job.picked_up:
                    job.running.cancel()
                del self._jobs[key]
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
