"""The group writer: one commit per group, every waiter resolved, on its own event loop."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import Future

from hedgerow.ingest.writer import GroupWriter, Submission

from conftest import rows


def event_row(n: int) -> tuple:
    """One event row in EVENT_COLUMNS order."""
    return (1, str(uuid.uuid4()), "tick", f"user-{n}", "{}", 1_700_000_000_000_000,
            1_700_000_000_000_000, str(uuid.uuid4()), "{}", None, None, None, "",
            "", "", "", "", "")  # fmt: skip


def test_asyncio_waiters_are_resolved_on_their_loop_and_a_cancelled_one_is_skipped(store):
    writer = GroupWriter(store)
    writer.start()

    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        waiters = [loop.create_future() for _ in range(6)]
        waiters[2].cancel()  # the client went away: its events are still written
        for n, waiter in enumerate(waiters):
            writer.submit(Submission([event_row(n), event_row(n)], [], None, 0, future=waiter))
        return await asyncio.gather(*(w for n, w in enumerate(waiters) if n != 2))

    try:
        assert asyncio.run(main()) == [2, 2, 2, 2, 2]
    finally:
        writer.stop()
    assert rows(store, "SELECT count(*) FROM events") == [(12,)]


def test_thread_safe_waiters_still_work(store):
    writer = GroupWriter(store)
    writer.start()
    try:
        waiter = writer.submit(Submission([event_row(1)], [], None, 0))
        assert isinstance(waiter, Future)
        assert waiter.result(timeout=30) == 1
    finally:
        writer.stop()
