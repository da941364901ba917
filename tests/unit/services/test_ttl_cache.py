"""The bounded, short-lived cache the flags' person and group caches share: entries expire,
the least recently used go first, a failed load keeps nothing, and entries filed under a
second key are dropped together (and leave that index when they go)."""

from __future__ import annotations

import asyncio

import pytest

from hedgerow.flags.patterns import WouldBlock
from hedgerow.services.person_cache import off_loop
from hedgerow.services.ttl_cache import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Loads:
    """A loader that counts its calls and answers ``key`` with its call number."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, key: str):
        def load() -> str:
            self.calls += 1
            return f"{key}{self.calls}"

        return load


def test_a_value_is_kept_until_its_time_is_up() -> None:
    clock, loads = Clock(), Loads()
    cache: TtlCache[str, str] = TtlCache(max_entries=10, ttl=1.0, clock=clock)
    assert cache.get("a", loads("a")) == "a1"
    clock.now += 0.5
    assert cache.get("a", loads("a")) == "a1" and loads.calls == 1
    clock.now += 0.6
    assert cache.get("a", loads("a")) == "a2" and loads.calls == 2


def test_the_least_recently_used_go_first() -> None:
    loads = Loads()
    cache: TtlCache[str, str] = TtlCache(max_entries=2, ttl=60, clock=Clock())
    cache.get("a", loads("a"))
    cache.get("b", loads("b"))
    cache.get("a", loads("a"))  # a is used again: b is now the oldest
    cache.get("c", loads("c"))
    assert len(cache) == 2
    assert cache.get("a", loads("a")) == "a1"
    assert cache.get("b", loads("b")) == "b4"


def test_a_failed_load_keeps_nothing() -> None:
    cache: TtlCache[str, str] = TtlCache(max_entries=2, ttl=60, clock=Clock())

    def fail() -> str:
        raise RuntimeError("down")

    with pytest.raises(RuntimeError):
        cache.get("a", fail)
    assert len(cache) == 0 and cache.get("a", lambda: "x") == "x"


def test_entries_filed_together_are_dropped_together() -> None:
    loads = Loads()
    cache: TtlCache[str, str] = TtlCache(max_entries=4, ttl=60, clock=Clock(),
                                         index=lambda key, value: key[0] if key != "none" else None)  # fmt: skip
    for key in ("p1", "p2", "q1", "none"):
        cache.get(key, loads(key))
    cache.drop_filed("p")
    assert len(cache) == 2
    assert cache.get("p1", loads("p1")) == "p15" and cache.get("q1", loads("q1")) == "q13"
    cache.get("q2", loads("q2"))
    cache.get("q3", loads("q3"))  # evicts "none", the least recently used
    cache.drop("q1")
    cache.drop_filed("q")
    assert len(cache) == 1 and cache._filed == {"p": {"p1"}}  # what left the cache left the index


def test_a_miss_on_the_event_loop_would_block_and_keeps_nothing() -> None:
    cache: TtlCache[str, str] = TtlCache(max_entries=2, ttl=60, clock=Clock())

    async def on_loop() -> str:
        return cache.get("a", off_loop(lambda: "loaded"))

    with pytest.raises(WouldBlock):
        asyncio.run(on_loop())
    assert len(cache) == 0
    assert cache.get("a", off_loop(lambda: "loaded")) == "loaded"
    assert asyncio.run(on_loop()) == "loaded"  # a hit is served on the loop
