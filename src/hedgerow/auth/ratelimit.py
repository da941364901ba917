"""Org-wide request budgets per category (PostHog's numbers), for personal-API-key calls.

Backed by the ``limits`` library: in memory for one process, Redis when several share state.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from hedgerow.config import Settings
from hedgerow.errors import Throttled


class RateLimiter:
    """Charges one request to ``(organization, category)`` or raises :class:`Throttled`."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limits_enabled
        uri = settings.redis_url or "memory://"
        self._limiter = MovingWindowRateLimiter(storage_from_string(uri))
        self._limits: dict[str, list[RateLimitItem]] = {
            category: parse_many(spec) for category, spec in settings.rate_limits.items()
        }

    def charge(self, bucket: str, category: str) -> None:
        if not self.enabled:
            return
        items = self._limits.get(category) or self._limits["default"]
        for item in items:
            if not self._limiter.test(item, bucket, category):
                raise Throttled(self._wait(item, bucket, category))
        for item in items:
            if not self._limiter.hit(item, bucket, category):
                raise Throttled(self._wait(item, bucket, category))

    def _wait(self, item: RateLimitItem, bucket: str, category: str) -> int:
        reset_at = self._limiter.get_window_stats(item, bucket, category).reset_time
        return max(1, math.ceil(reset_at - time.time()))

    def reset(self) -> None:
        self._limiter.storage.reset()
