"""A ``query:read`` key sending its worst queries to a real server: every answer is a clear
400 (or a 200 within the caps), never a 5xx, and the server stays under 1 GB resident."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from hedgerow.testing import LiveServer, cli

pytestmark = pytest.mark.e2e

GB = 1024**3

# query -> what it must get: a code of a 400, or 200
WORST = {
    "select range(10000000)": "limit_exceeded",
    "select arrayJoin(range(100000000))": "limit_exceeded",
    "select count() from (select arrayJoin(range(number)) from numbers(1000000))": "limit_exceeded",
    "select range(1, 100000000, 1)": "limit_exceeded",
    "select repeat('x', 1000000) from numbers(50000) limit 50000": "limit_exceeded",
    "select leftPad('x', 100000000)": "limit_exceeded",
    "select repeat('x', 10000) from numbers(50000) limit 50000": "limit_exceeded",  # 500 MB of rows
    "select range(1000) from numbers(50000) limit 50000": "limit_exceeded",
    "select range(10000) from numbers(50000) limit 50000": "limit_exceeded",
    "select groupArray(repeat('x', 10000)) from numbers(1000000)": "limit_exceeded",
    "select groupArray(number) from numbers(100000000)": "limit_exceeded",
    "select a.number, b.number from numbers(100000) a cross join numbers(100000) b limit 50000": 200,
    "select max(b.number) from numbers(2) a cross join numbers(50000000) b": 200,
    "select number, repeat('x', 100) from numbers(5000000) order by number desc limit 50000": 200,
    "select count() from numbers(100000) a cross join numbers(10000) b": 200,
}


def _peak_rss(pid: int) -> int:
    """The process's peak resident set (``VmHWM``) in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("query-limits") / "data"
    boot = json.loads(cli("bootstrap", "--data-dir", str(data_dir), "--json").stdout)
    with LiveServer(data_dir) as server:
        key = server.create_key("greedy", "query:read", "--project", str(boot["project_id"]))
        client = httpx.Client(
            base_url=f"{server.url}/api/projects/{boot['project_id']}/query/",
            headers={"Authorization": f"Bearer {key['key']}"},
            timeout=120,
        )
        yield server, client
        client.close()


def _check(response: httpx.Response, expected: str | int, query: str) -> None:
    if expected == 200:
        assert response.status_code == 200, (query, response.text[:300])
        return
    assert response.status_code == 400, (query, response.status_code, response.text[:300])
    body = response.json()
    assert set(body) == {"type", "code", "detail", "attr"}, body
    assert (body["type"], body["code"]) == ("validation_error", expected), (query, body)


def test_worst_queries_get_clear_answers_and_memory_stays_bounded(live) -> None:
    server, client = live

    def send(query: str) -> tuple[str, httpx.Response]:
        return query, client.post("", json={"query": {"kind": "HogQLQuery", "query": query}, "refresh": "force_blocking"})

    hostile = [q for q, expected in WORST.items() if expected != 200]
    with ThreadPoolExecutor(3) as pool:  # a project's three slots, all busy
        for query, response in pool.map(send, hostile):
            _check(response, WORST[query], query)
    # big but within the caps: answered (alone: the memory guard stops every query running
    # when the process grows too far, so a heavy one beside them may take them down too)
    for query in (q for q, expected in WORST.items() if expected == 200):
        _check(send(query)[1], 200, query)
    assert _peak_rss(server.process.pid) < GB
    assert httpx.get(f"{server.url}/_health").status_code == 200


def test_limits_name_themselves(live) -> None:
    _, client = live
    body = client.post("", json={"query": {"kind": "HogQLQuery", "query": "select range(10000000)"}}).json()
    assert body["detail"] == "range() may produce at most 1000 elements."
    too_big = client.post("", json={"query": {"kind": "HogQLQuery", "query": "select repeat('x', 10000) from numbers(50000) limit 50000"}}).json()
    assert too_big["detail"] == (
        "The query's result exceeds the maximum of 52428800 bytes (max_result_bytes = 52428800). "
        "Select fewer rows or columns, or aggregate."
    )


def test_async_floods_stay_bounded(live) -> None:
    """Many async jobs with ~40 MB results each, and async versions of the worst queries:
    the job registry and the result cache keep their byte bounds."""
    server, client = live
    for worst in list(WORST)[:4]:  # before the flood, whose results may evict their statuses
        started = client.post("", json={"query": {"kind": "HogQLQuery", "query": worst}, "refresh": "force_async"})
        assert started.status_code == 202, started.text
        final = _wait(client, started.json()["query_status"]["id"])
        assert final.status_code == 400 and final.json()["query_status"]["error_message"], final.text[:300]
    ids = []
    for n in range(24):
        query = f"select repeat('x', 9900), {n} from numbers(4000) limit 4000"
        started = client.post("", json={"query": {"kind": "HogQLQuery", "query": query}, "refresh": "force_async"})
        if started.status_code == 429:  # the project's unfinished-job cap: let them finish
            for query_id in ids:
                _wait(client, query_id)
            started = client.post("", json={"query": {"kind": "HogQLQuery", "query": query}, "refresh": "force_async"})
        assert started.status_code == 202, started.text
        ids.append(started.json()["query_status"]["id"])
    answers = [_wait(client, query_id).status_code for query_id in ids]
    assert set(answers) <= {200, 404}, answers  # 404: evicted to keep the registry's byte bound
    assert answers.count(404) >= len(ids) - 2, answers  # ~40 MB each: at most one kept in 64 MB
    assert _peak_rss(server.process.pid) < GB
    assert httpx.get(f"{server.url}/_health").status_code == 200


def _wait(client: httpx.Client, query_id: str, timeout: float = 120.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"{query_id}/")
        if response.status_code != 202 or time.monotonic() > deadline:
            return response
        time.sleep(0.05)
