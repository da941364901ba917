"""Limits of one query on the engine: result bytes while fetching, value sizes, the memory guard."""

from __future__ import annotations

import datetime as dt

import pytest

from hedgerow.hogql import CompileContext, compile_hogql
from hedgerow.hogql.errors import LimitExceeded
from hedgerow.hogql.passes.limits import MAX_RANGE_ELEMENTS, MAX_STRING_CHARS
from hedgerow.services.query_cache import ResultCache
from hedgerow.services.query_jobs import ProjectSlots, QueryJobs
from hedgerow.store.events.duckdb import DuckDBEventStore
from hedgerow.store.events.duckdb_query import MEMORY_GUARD, execute


@pytest.fixture
def cursor(tmp_path):
    store = DuckDBEventStore(tmp_path / "events.duckdb")
    cur = store.cursor()
    yield cur
    cur.close()
    store.close()


def run(cursor, query, **kwargs):
    return execute(cursor, compile_hogql(query, CompileContext(team_id=1)), 20, **kwargs)


def test_result_bytes_are_capped_while_fetching(cursor):
    rows = run(cursor, "select repeat('x', 100) from numbers(1000) limit 1000", max_result_bytes=200_000)
    assert len(rows.results) == 1000 and 100_000 < rows.nbytes <= 200_000
    with pytest.raises(LimitExceeded) as refused:
        run(cursor, "select repeat('x', 100) from numbers(5000) limit 5000", max_result_bytes=200_000)
    assert refused.value.detail.startswith("The query's result exceeds the maximum of 200000 bytes")
    assert refused.value.status == 400 and refused.value.code == "limit_exceeded"


def test_results_of_many_small_values_are_capped_by_count(cursor):
    """5M numbers are ~25 MB of JSON but several hundred MB as Python objects."""
    with pytest.raises(LimitExceeded):
        run(cursor, "select range(1000) from numbers(5000) limit 5000")
    assert len(run(cursor, "select range(1000) from numbers(3000) limit 3000").results) == 3000


@pytest.mark.parametrize(
    "query, within",
    [
        ("select length(range({n}))", MAX_RANGE_ELEMENTS),
        ("select length(range(5, 5 + {n}))", MAX_RANGE_ELEMENTS),
        ("select length(range(0, 2 * {n}, 2))", MAX_RANGE_ELEMENTS),
        ("select length(repeat('x', {n}))", MAX_STRING_CHARS),
        ("select length(leftPad('x', {n}))", MAX_STRING_CHARS),
        ("select length(rightPad('x', {n}, '-'))", MAX_STRING_CHARS),
    ],
)
def test_value_sizes_are_capped(cursor, query, within):
    assert run(cursor, query.format(n=within)).results == [[within]]
    with pytest.raises(LimitExceeded) as refused:
        run(cursor, query.format(n=within + 1))
    assert str(within) in refused.value.detail


def test_caps_hold_for_computed_sizes_and_spare_numbers(cursor):
    assert run(cursor, "select count() from numbers(100000)").results == [[100000]]
    with pytest.raises(LimitExceeded):
        run(cursor, "select count() from (select arrayJoin(range(number)) from numbers(100000))")


def test_memory_guard_stops_a_growing_query(cursor):
    headroom = MEMORY_GUARD.headroom
    MEMORY_GUARD.headroom = 64 * 1024 * 1024
    try:
        with pytest.raises(LimitExceeded) as refused:
            run(cursor, "select length(groupArray(repeat('x', 1000))) from numbers(10000000)")
    finally:
        MEMORY_GUARD.headroom = headroom
    assert refused.value.detail.startswith("The query needs more memory than allowed (64 MB)")


def test_cache_is_bounded_by_bytes():
    cache = ResultCache(max_bytes=1000, max_entry_bytes=400)
    at = dt.datetime.now(dt.timezone.utc)
    for n in range(5):
        cache.put(f"k{n}", at, {"n": n}, 300)
    assert len(cache) == 3 and cache.nbytes == 900
    assert cache.get("k0") is None and cache.get("k4") is not None
    cache.put("big", at, {}, 401)
    assert cache.get("big") is None and cache.nbytes == 900
    cache.put("k4", at, {"n": 4}, 100)  # replacing an entry gives its bytes back
    assert cache.nbytes == 700


def test_finished_jobs_are_evicted_oldest_first_by_count_and_bytes():
    jobs = QueryJobs(ProjectSlots(3), workers=2, max_finished=3, max_result_bytes=1000)
    try:
        for n in range(5):
            jobs.start(1, f"q{n}", lambda running, n=n: ({"n": n}, 100), rerun=True)
            _wait(jobs, 1, f"q{n}")
        assert [jobs.status(1, f"q{n}") is None for n in range(5)] == [True, True, False, False, False]
        jobs.start(1, "big", lambda running: ({}, 900), rerun=True)
        _wait(jobs, 1, "big")
        assert jobs.counts() == (2, 1000)  # q4 and big: within the 1000 bytes
    finally:
        jobs.close()


def _wait(jobs, project_id, query_id):
    import time

    deadline = time.monotonic() + 20
    while not (jobs.status(project_id, query_id) or {}).get("complete"):
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_unfinished_jobs_are_capped_per_project_and_in_all():
    import threading

    from hedgerow.services.query_jobs import JobsBusy

    release = threading.Event()
    jobs = QueryJobs(ProjectSlots(1), workers=2, max_active=2, max_active_total=3)

    def slow(running):
        release.wait(20)
        return {}, 0

    try:
        jobs.start(1, "a", slow, rerun=True)
        jobs.start(1, "b", slow, rerun=True)
        with pytest.raises(JobsBusy):
            jobs.start(1, "c", slow, rerun=True)
        jobs.start(1, "b", slow, rerun=True)  # replacing one of its own is no new job
        jobs.start(2, "d", slow, rerun=True)
        with pytest.raises(JobsBusy):
            jobs.start(3, "e", slow, rerun=True)
        release.set()
        for project_id, query_id in ((1, "a"), (1, "b"), (2, "d")):
            _wait(jobs, project_id, query_id)
        jobs.start(3, "e", slow, rerun=True)
    finally:
        release.set()
        jobs.close()
