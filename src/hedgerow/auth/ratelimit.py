"""Org-wide request budgets per category (PostHog's numbers), for personal-API-key calls.

Moving windows: a call is refused while a window already holds its limit of calls. Kept in
this process's memory for one process, in Redis (the ``limits`` library) when several share
state.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from hedgerow.config import Settings
from hedgerow.errors import Throttled


class MemoryWindows:
    """Moving windows in this process: each window's call times, oldest first.

    ``limits``' own memory storage starts a timer thread from the call that finds the previous
    one finished (one every ~10 ms of calls) to expire old entries: here a window drops its
    expired times when it is charged, so a call starts no thread. A window holds at most its
    limit of times, and there is one per bucket (an organization or key) and limit.
    """

    def __init__(self) -> None:
        self._calls: dict[tuple[str, str, int], deque[float]] = {}
        self._lock = threading.Lock()

    def charge(self, bucket: str, category: str, items: list[RateLimitItem]) -> int | None:
        """Charge one call to every window, or none: None, or the seconds until a full window
        has room again."""
        now = time.time()
        with self._lock:
            windows = []
            for n, item in enumerate(items):
                calls = self._calls.setdefault((bucket, category, n), deque())
                expiry = item.get_expiry()
                while calls and calls[0] < now - expiry:
                    calls.popleft()
                if len(calls) >= item.amount:
                    return max(1, math.ceil(calls[0] + expiry - now))
                windows.append(calls)
            for calls in windows:
                calls.append(now)
        return None

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()


class RateLimiter:
    """Charges one request to ``(organization, category)`` or raises :class:`Throttled`."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limits_enabled
        self._windows = None if settings.redis_url else MemoryWindows()
        self._limiter = MovingWindowRateLimiter(storage_from_string(settings.redis_url)) if settings.redis_url else None
        self._limits: dict[str, list[RateLimitItem]] = {
            category: parse_many(spec) for category, spec in settings.rate_limits.items()
        }

    def charge(self, bucket: str, category: str) -> None:
        if not self.enabled:
            return
        items = self._limits.get(category) or self._limits["default"]
        if self._windows is not None:
            wait = self._windows.charge(bucket, category, items)
            if wait is not None:
                raise Throttled(wait)
            return
        assert self._limiter is not None
        for item in items:
            if not self._limiter.test(item, bucket, category):
                raise Throttled(self._wait(item, bucket, category))
        for item in items:
            if not self._limiter.hit(item, bucket, category):
                raise Throttled(self._wait(item, bucket, category))

    def _wait(self, item: RateLimitItem, bucket: str, category: str) -> int:
        assert self._limiter is not None
        reset_at = self._limiter.get_window_stats(item, bucket, category).reset_time
        return max(1, math.ceil(reset_at - time.time()))

    def reset(self) -> None:
        if self._windows is not None:
            self._windows.reset()
        else:
            assert self._limiter is not None
            self._limiter.storage.reset()
