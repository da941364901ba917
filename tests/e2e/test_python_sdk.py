"""The official posthog-python SDK against a real server: capture (gzip on), identify,
alias, groups — the events and persons arrive as sent."""

from __future__ import annotations

import httpx
import pytest
from posthog import Posthog

from hedgerow.testing import LiveServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(tmp_path):
    with LiveServer(tmp_path / "data") as live:
        yield live


def _client(server, boot, **kw) -> Posthog:
    errors: list = []
    client = Posthog(boot["project_api_key"], host=server.url, gzip=True, sync_mode=True,
                     on_error=lambda e, batch: errors.append(e), **kw)
    client._test_errors = errors  # type: ignore[attr-defined]
    return client


def _persons(server, boot, **params):
    headers = {"Authorization": f"Bearer {boot['personal_api_key']}"}
    response = httpx.get(f"{server.url}/api/projects/{boot['project_id']}/persons/", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def test_capture_identify_alias_group(server) -> None:
    boot = server.bootstrap()
    ph = _client(server, boot)
    ph.capture("$pageview", distinct_id="anon-42", properties={"$current_url": "https://shop.example/pricing"})
    ph.capture("signed_up", distinct_id="user-42", properties={"plan": "pro", "$anon_distinct_id": "anon-42"})
    ph.set(distinct_id="user-42", properties={"email": "ada@shop.example"})
    ph.alias(previous_id="user-42", distinct_id="ada-login")
    ph.group_identify("company", "acme", {"name": "Acme Inc", "seats": 40})
    ph.capture("report_viewed", distinct_id="user-42", groups={"company": "acme"})
    ph.flush()
    ph.shutdown()
    assert ph._test_errors == []  # type: ignore[attr-defined]

    people = _persons(server, boot, distinct_id="user-42")
    assert len(people) == 1
    person = people[0]
    assert person["properties"]["email"] == "ada@shop.example"
    assert set(person["distinct_ids"]) >= {"user-42", "ada-login"}

    server.stop()
    import duckdb

    db = duckdb.connect(str(server.data_dir / "events.duckdb"), read_only=True)
    events = db.execute(
        "SELECT event, distinct_id, properties, \"$group_0\" FROM events ORDER BY timestamp").fetchall()
    names = [e[0] for e in events]
    assert names.count("$pageview") == 1 and names.count("signed_up") == 1
    assert "$create_alias" in names and "$groupidentify" in names
    report = next(e for e in events if e[0] == "report_viewed")
    assert report[3] == "acme"
    assert '"$lib":"posthog-python"' in report[2].replace(" ", "")
    groups = db.execute("SELECT group_key, properties FROM groups").fetchall()
    assert groups and groups[0][0] == "acme" and "Acme Inc" in groups[0][1]
    db.close()


def test_retries_and_batches_survive_restart(server) -> None:
    boot = server.bootstrap()
    ph = _client(server, boot)
    for i in range(250):
        ph.capture("tick", distinct_id=f"u{i % 7}", properties={"i": i})
    ph.flush()
    ph.shutdown()
    server.stop()
    server.start()
    people = _persons(server, boot, include_total="1")
    assert len(people) == 7
    server.stop()
    import duckdb

    db = duckdb.connect(str(server.data_dir / "events.duckdb"), read_only=True)
    assert db.execute("SELECT count(*), count(DISTINCT uuid) FROM events WHERE event = 'tick'").fetchone() == (250, 250)
    db.close()
