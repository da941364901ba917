"""Each server process keeps a cached snapshot of a project's actions; a change made through
another process sharing the metadata database reaches this process's very next query: a new
cache key and new results, for an ``ActionsNode`` series and for ``matchesAction`` by name."""

from __future__ import annotations

import uuid
from contextlib import ExitStack

import httpx
import pytest

from hedgerow.testing import LiveServer
from tests.throwaway_postgres import database, required

pytestmark = pytest.mark.e2e

TRENDS = {"kind": "TrendsQuery", "dateRange": {"date_from": "-7d"}, "trendsFilter": {"display": "BoldNumber"}}


@pytest.fixture(params=["sqlite", "postgresql"])
def servers(request, tmp_path):
    """Two server processes on one metadata database (a SQLite file, or PostgreSQL when one
    can be had), each with its own events."""
    with ExitStack() as stack:
        url = f"sqlite:///{tmp_path / 'meta.sqlite3'}"
        if request.param == "postgresql":
            url = stack.enter_context(database(required(request.getfixturevalue("postgres_admin_url"))))
        env = {"HEDGEROW_DATABASE_URL": url}
        writer = stack.enter_context(LiveServer(tmp_path / "writer", env=env))
        boot = writer.bootstrap()
        reader = stack.enter_context(LiveServer(tmp_path / "reader", env=env))
        yield writer, reader, boot


def test_an_action_changed_by_another_process_reaches_the_next_query(servers) -> None:
    writer, reader, boot = servers
    admin = {"Authorization": f"Bearer {boot['personal_api_key']}"}
    batch = [{"event": name, "distinct_id": f"u{i}", "uuid": str(uuid.uuid4())}
             for i, name in enumerate(["purchase"] * 3 + ["checkout"] * 2)]  # fmt: skip
    captured = httpx.post(f"{reader.url}/batch/", json={"api_key": boot["project_api_key"], "batch": batch})
    assert captured.status_code == 200, captured.text
    actions = f"{writer.url}/api/projects/{boot['project_id']}/actions/"
    made = httpx.post(actions, headers=admin, json={"name": "Bought", "steps": [{"event": "purchase"}]})
    assert made.status_code == 201, made.text

    def query(node: dict) -> dict:
        response = httpx.post(f"{reader.url}/api/projects/{boot['project_id']}/query/", headers=admin,
                              json={"query": node}, timeout=60)  # fmt: skip
        assert response.status_code == 200, response.text
        return response.json()

    trends = {**TRENDS, "series": [{"kind": "ActionsNode", "id": made.json()["id"]}]}
    by_name = {"kind": "HogQLQuery", "query": "select count() from events where matchesAction('Bought')"}
    first = query(trends)
    assert first["results"][0]["aggregated_value"] == 3
    assert query(trends)["is_cached"] is True  # unchanged: the reader's cache answers
    assert query(by_name)["results"] == [[3]]

    changed = httpx.patch(f"{actions}{made.json()['id']}/", headers=admin, json={"steps": [{"event": "checkout"}]})
    assert changed.status_code == 200, changed.text
    after = query(trends)
    assert after["is_cached"] is False and after["cache_key"] != first["cache_key"]
    assert after["results"][0]["aggregated_value"] == 2
    assert query(by_name)["results"] == [[2]]

    renamed = httpx.patch(f"{actions}{made.json()['id']}/", headers=admin, json={"name": "Checked out"})
    assert renamed.status_code == 200, renamed.text
    renamed_query = {**by_name, "query": "select count() from events where matchesAction('Checked out')"}
    assert query(renamed_query)["results"] == [[2]]
