"""The in-process rate limiter: PostHog's moving windows, charged without starting threads."""

from __future__ import annotations

import threading
import time

import pytest

from hedgerow.auth.ratelimit import RateLimiter
from hedgerow.config import Settings
from hedgerow.errors import Throttled


def limiter(tmp_path, query: str) -> RateLimiter:
    return RateLimiter(Settings(data_dir=tmp_path, rate_limits={"query": query}))


def timers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if isinstance(t, threading.Timer)]


def test_a_charge_starts_no_thread(tmp_path) -> None:
    limits = limiter(tmp_path, "240/minute;2400/hour")
    deadline = time.monotonic() + 10
    while timers():  # whatever an earlier test left running
        assert time.monotonic() < deadline
        time.sleep(0.01)
    for _ in range(3):
        limits.charge("org", "query")
        assert timers() == []


def test_a_full_window_refuses_until_its_oldest_call_leaves(tmp_path) -> None:
    limits = limiter(tmp_path, "3/minute;4/hour")
    for _ in range(3):
        limits.charge("org", "query")
    with pytest.raises(Throttled) as refused:
        limits.charge("org", "query")
    assert 55 <= int(refused.value.headers["Retry-After"]) <= 60
    limits.charge("other-org", "query")  # windows are per bucket
    limits.charge("org", "analytics")  # and per category


def test_a_refused_call_is_not_charged_to_any_window(tmp_path) -> None:
    limits = limiter(tmp_path, "2/second;3/hour")
    limits.charge("org", "query")
    limits.charge("org", "query")
    with pytest.raises(Throttled):
        limits.charge("org", "query")  # the second is full; the hour, not charged, keeps room for one
    deadline = time.monotonic() + 10
    while True:
        try:
            limits.charge("org", "query")
            break
        except Throttled:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    with pytest.raises(Throttled) as refused:
        limits.charge("org", "query")
    assert int(refused.value.headers["Retry-After"]) > 3000  # the hour is full now: 3 calls
