"""Capture against a real server: hostile bodies never stall it, a refused request changes
nothing, byte caps hold on chunked uploads, and a project learns it has ingested an event."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from posthog import Posthog

from hedgerow.hostile import gzip_bomb, lz64_body, tiny_events_batch
from hedgerow.testing import LiveServer, cli

HEALTH_BOUND_SECONDS = 0.5
"""Generous on purpose (a shared, loaded test box): before the fix /_health took 2-5 s."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict]]:
    with LiveServer(tmp_path_factory.mktemp("capture") / "data") as live:
        yield live, live.bootstrap()


def hogql(live: LiveServer, keys: dict, query: str) -> list:
    response = httpx.post(
        f"{live.url}/api/projects/{keys['project_id']}/query/",
        json={"query": {"kind": "HogQLQuery", "query": query}, "refresh": "force_blocking"},
        headers={"Authorization": f"Bearer {keys['personal_api_key']}"}, timeout=30,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()["results"]


def person_properties(live: LiveServer, keys: dict, distinct_id: str) -> dict:
    response = httpx.get(
        f"{live.url}/api/projects/{keys['project_id']}/persons/",
        params={"distinct_id": distinct_id},
        headers={"Authorization": f"Bearer {keys['personal_api_key']}"}, timeout=30,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    (person,) = response.json()["results"]
    return person["properties"]


def test_health_answers_while_hostile_bodies_are_processed(server) -> None:
    live, keys = server
    token = keys["project_api_key"]
    hostile = [
        ("/e/?compression=lz64", lz64_body(1_800_000), {}, 401),  # decoded, then no such token
        ("/e/?compression=lz64", lz64_body(3_700_000), {}, 413),  # over the 2 MB route limit
        ("/batch/?compression=lz64", lz64_body(3_700_000), {}, 401),
        ("/s/?compression=lz64", lz64_body(3_700_000), {}, 401),  # recordings decode the same way
        ("/batch/", tiny_events_batch(16_000_000, token), {}, 200),  # ~300k events, all stored
        ("/batch/", gzip_bomb(19_000_000), {"Content-Encoding": "gzip"}, 401),
        ("/batch/", gzip_bomb(200_000_000, events=False), {}, 413),
    ]
    statuses: list[tuple[str, int]] = []

    def send(path: str, body: bytes, headers: dict, _expected: int) -> None:
        response = httpx.post(live.url + path, content=body, headers=headers, timeout=120)
        statuses.append((path, response.status_code))

    senders = [threading.Thread(target=send, args=case) for case in hostile]
    for sender in senders:
        sender.start()
    latencies = []
    with httpx.Client(base_url=live.url, timeout=30) as client:
        while any(sender.is_alive() for sender in senders):
            started = time.perf_counter()
            assert client.get("/_health").status_code == 200
            latencies.append(time.perf_counter() - started)
    for sender in senders:
        sender.join()
    assert sorted(statuses) == sorted((path, expected) for path, _, _, expected in hostile)
    assert len(latencies) >= 10, "the hostile bodies were processed before /_health was polled"
    print(f"/_health: {len(latencies)} polls, max {max(latencies) * 1000:.0f} ms")
    assert max(latencies) < HEALTH_BOUND_SECONDS, sorted(latencies)[-5:]


def test_a_refused_event_changes_nothing_and_its_retry_is_stored_once(server) -> None:
    live, keys = server
    token = keys["project_api_key"]
    capture = f"{live.url}/e/"
    first = {"api_key": token, "event": "signed_up", "distinct_id": "deep-user",
             "$set": {"plan": "free"}}  # fmt: skip
    assert httpx.post(capture, json=first).status_code == 200
    deep: dict = {"leaf": 1}
    for _ in range(300):  # past the 254 levels the JSON writer allows
        deep = {"a": deep}
    event_uuid = str(uuid.uuid4())
    bad = {"api_key": token, "event": "deep_retry", "distinct_id": "deep-user", "uuid": event_uuid,
           "$set": {"plan": "pro"}, "properties": {"deep": deep, "$anon_distinct_id": "anon-9"}}
    response = httpx.post(capture, content=json.dumps(bad).encode())
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"type", "code", "detail", "attr"}
    assert person_properties(live, keys, "deep-user")["plan"] == "free"
    good = {**bad, "properties": {"shallow": True, "$anon_distinct_id": "anon-9"}}
    for _ in range(2):
        assert httpx.post(capture, json=good).status_code == 200
    assert hogql(live, keys, f"select count() from events where uuid = '{event_uuid}'") == [[1]]
    assert person_properties(live, keys, "deep-user")["plan"] == "pro"


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.parametrize("path, over", [("/e/", 2 * 1024 * 1024 + 1), ("/batch/", 20 * 1024 * 1024 + 1),
                                        ("/s/", 100 * 1024 * 1024)])  # fmt: skip
def test_byte_caps_hold_on_chunked_bodies(server, path, over) -> None:
    live, keys = server
    assert live.process is not None
    before = rss_bytes(live.process.pid)
    response = httpx.post(live.url + path, content=chunks(over), timeout=60)
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.request.headers
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"
    assert rss_bytes(live.process.pid) - before < 64 * 1024 * 1024  # never the whole upload
    body = json.dumps({"api_key": keys["project_api_key"], "batch": [
        {"event": "chunked_ok", "distinct_id": "c"}]}).encode()  # fmt: skip
    response = httpx.post(f"{live.url}/batch/", content=iter([body[:10], body[10:]]))
    assert response.status_code == 200 and "content-length" not in response.request.headers


def test_a_project_has_ingested_an_event_once_one_is_stored(server, tmp_path: Path) -> None:
    live, keys = server
    created = json.loads(cli("projects", "create", "--data-dir", str(live.data_dir), "--name",
                             "Fresh", "--json").stdout)  # fmt: skip
    url = f"{live.url}/api/projects/{created['id']}/"
    auth = {"Authorization": f"Bearer {keys['personal_api_key']}"}
    assert httpx.get(url, headers=auth).json()["ingested_event"] is False
    client = Posthog(created["api_token"], host=live.url, sync_mode=True)
    client.capture("first_event", distinct_id="someone")
    client.shutdown()
    assert httpx.get(url, headers=auth).json()["ingested_event"] is True
    listed = httpx.get(f"{live.url}/api/projects/", headers=auth).json()["results"]
    assert {p["id"]: p["ingested_event"] for p in listed}[created["id"]] is True
