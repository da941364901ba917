"""Destinations on a live server: every matching event reaches a real receiver on loopback,
templated, even when the server is SIGKILLed between acknowledging events and delivering them
(events in DuckDB, or in the embedded ClickHouse with the outbox in the metadata database)."""

from __future__ import annotations

import threading
import uuid

import httpx
import pytest

from hedgerow.testing import LiveServer
from tests.webhook_receiver import Receiver, wait_for

pytestmark = pytest.mark.e2e

ENV = {"HEDGEROW_WEBHOOKS_ALLOW_PRIVATE": "1", "HEDGEROW_WEBHOOKS_RETRY_SECONDS": "0.2"}


def _destination(server: LiveServer, key: str, project_id: int, url: str) -> dict:
    response = httpx.post(
        f"{server.url}/api/projects/{project_id}/hog_functions/",
        headers={"Authorization": f"Bearer {key}"},
        json={
            "type": "destination", "template_id": "template-webhook", "enabled": True,
            "inputs": {"url": {"value": url}, "body": {"value": {"uuid": "{event.uuid}", "n": "{event.properties.n}"}}},
            "filters": {"events": [{"id": "order", "type": "events"}]},
        },
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("engine", ["duckdb", "chdb"])
def test_sigkill_between_ack_and_delivery_still_delivers(tmp_path, engine) -> None:
    env = ENV if engine == "duckdb" else {**ENV, "HEDGEROW_EVENTS_URL": f"chdb:///{tmp_path / 'events.chdb'}"}
    release = threading.Event()

    def answer(request, n):  # hold every delivery until the server is dead, then accept
        return (200, 0.0) if release.is_set() else (200, 3600.0)

    with Receiver(answer=answer) as receiver:
        server = LiveServer(tmp_path / "data", env=env).start()
        boot = server.bootstrap()
        _destination(server, boot["personal_api_key"], boot["project_id"], receiver.url + "/in")
        acked: list[str] = []
        with httpx.Client(timeout=10) as http:
            for i in range(20):
                batch = [{"event": "order" if j % 2 == 0 else "view", "distinct_id": f"u{j}",
                          "uuid": str(uuid.uuid4()), "properties": {"n": i * 10 + j}} for j in range(10)]  # fmt: skip
                response = http.post(f"{server.url}/batch/", json={"api_key": boot["project_api_key"], "batch": batch})
                assert response.status_code == 200, response.text
                acked.extend(e["uuid"] for e in batch if e["event"] == "order")
        server.kill()
        assert not receiver.answered  # nothing was delivered before the kill

        release.set()
        server = LiveServer(tmp_path / "data", env=env, port=server.port).start()
        try:  # deliveries the dead process had claimed are free once it is seen as dead (15 s)
            wait_for(lambda: {r.json()["uuid"] for r in receiver.answered} >= set(acked), 120,
                     "every acknowledged matching event delivered after the restart")  # fmt: skip
        finally:
            server.stop()
    delivered = [r.json() for r in receiver.answered]
    assert {d["uuid"] for d in delivered} == set(acked)  # and nothing that did not match
    assert all(isinstance(d["n"], int) for d in delivered)


def test_destinations_over_mcp_with_the_official_client(tmp_path) -> None:
    from tests.e2e.test_agents_mcp import mcp

    with LiveServer(tmp_path / "data", env=ENV) as server:
        boot = server.bootstrap()
        made = _destination(server, boot["personal_api_key"], boot["project_id"], "https://example.com/hook")
        reader = server.create_key("cdp-reader", "hog_function:read")["key"]
        tools, (listed, one, create) = mcp(
            server.url, reader,
            ("cdp-functions-list", {}),
            ("cdp-functions-retrieve", {"id": made["id"]}),
            ("cdp-functions-create", {"type": "destination", "template_id": "template-webhook"}),
        )  # fmt: skip
    assert {"cdp-functions-list", "cdp-functions-retrieve", "cdp-functions-logs-retrieve"} <= set(tools)
    assert "cdp-functions-create" not in tools and "cdp-functions-partial-update" not in tools
    assert not listed.is_error and [f["id"] for f in listed.structured_content["results"]] == [made["id"]]
    assert not one.is_error and one.structured_content["inputs"]["url"] == {"value": "https://example.com/hook"}
    assert create.is_error
