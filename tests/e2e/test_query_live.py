"""The query API against a real ``hedgerow serve`` process, with events loaded beforehand."""

from __future__ import annotations

import datetime as dt
import json
import time

import httpx
import pytest

from hedgerow.testing import LiveServer, cli, write_events

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("query-live") / "data"
    boot = json.loads(cli("bootstrap", "--data-dir", str(data_dir), "--json").stdout)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    write_events(data_dir, boot["project_id"], [
        {"event": "$pageview", "distinct_id": "ann", "properties": {"$browser": "Chrome"}, "timestamp": now - dt.timedelta(hours=1)},
        {"event": "$pageview", "distinct_id": "ann", "properties": {"$browser": "Firefox"}, "timestamp": now - dt.timedelta(hours=2)},
        {"event": "signed_up", "distinct_id": "ann", "properties": {"plan": "pro"}, "timestamp": now - dt.timedelta(hours=3)},
        {"event": "$pageview", "distinct_id": "ben", "properties": {"$browser": "Chrome"}, "timestamp": now - dt.timedelta(days=3)},
    ])
    write_events(data_dir, boot["project_id"] + 1000, [{"event": "secret", "distinct_id": "eve"}])
    with LiveServer(data_dir) as server:
        key = server.create_key("analyst", "query:read", "--project", str(boot["project_id"]))
        yield server, boot["project_id"], {"Authorization": f"Bearer {key['key']}"}


def test_hogql_over_http(live) -> None:
    server, project_id, headers = live
    response = httpx.post(
        f"{server.url}/api/projects/{project_id}/query/",
        json={"query": {"kind": "HogQLQuery", "query": "select event, count() as c from events group by event order by c desc, event"}},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["results"] == [["$pageview", 3], ["signed_up", 1]]
    assert body["columns"] == ["event", "c"] and body["is_cached"] is False


def test_events_query_over_http(live) -> None:
    server, project_id, headers = live
    response = httpx.post(
        f"{server.url}/api/environments/{project_id}/query",
        json={"query": {"kind": "EventsQuery", "select": ["*", "properties.$browser"], "orderBy": ["timestamp DESC"]}},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    rows = response.json()["results"]
    assert [r[1] for r in rows] == ["Chrome", "Firefox", None]  # the default window is the last day
    assert rows[0][0]["event"] == "$pageview" and rows[0][0]["properties"] == {"$browser": "Chrome"}


def test_async_over_http(live) -> None:
    server, project_id, headers = live
    started = httpx.post(
        f"{server.url}/api/projects/{project_id}/query/",
        json={"query": {"kind": "HogQLQuery", "query": "select count() from events"}, "refresh": "force_async"},
        headers=headers,
    )
    assert started.status_code == 202
    query_id = started.json()["query_status"]["id"]
    deadline = time.monotonic() + 20
    while True:
        polled = httpx.get(f"{server.url}/api/projects/{project_id}/query/{query_id}/", headers=headers)
        if polled.status_code != 202 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert polled.status_code == 200
    assert polled.json()["query_status"]["results"]["results"] == [[4]]


def test_other_projects_are_out_of_reach(live) -> None:
    server, project_id, headers = live
    response = httpx.post(
        f"{server.url}/api/projects/{project_id}/query/",
        json={"query": {"kind": "HogQLQuery", "query": "select count() from events where event = 'secret'"}},
        headers=headers,
    )
    assert response.json()["results"] == [[0]]
