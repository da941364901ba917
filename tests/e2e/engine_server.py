"""A live server over each events engine (DuckDB, chdb), loaded with a test's traffic, for the
insight cases worked out by hand."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from hedgerow.testing import LiveServer

ENGINES = ["duckdb", "chdb"]
Served = tuple[httpx.Client, LiveServer, dict]


@contextmanager
def serve(engine: str, tmp_path_factory: pytest.TempPathFactory, events: list[dict]) -> Iterator[Served]:
    """A server on ``engine`` holding ``events`` (one ``/batch/`` request each, in order, as an SDK
    in sync mode sends them), with a client holding the project's personal API key."""
    data = tmp_path_factory.mktemp(engine) / "data"
    env = {"HEDGEROW_EVENTS_URL": f"chdb:///{data / 'events.chdb'}"} if engine == "chdb" else {}
    with LiveServer(data, env=env) as server:
        boot = server.bootstrap()
        for event in events:
            response = httpx.post(f"{server.url}/batch/", json={"api_key": boot["project_api_key"], "batch": [event]})
            assert response.status_code == 200, response.text
        with httpx.Client(timeout=60, headers={"Authorization": f"Bearer {boot['personal_api_key']}"}) as http:
            yield http, server, boot


def post_query(http: httpx.Client, server: LiveServer, boot: dict, query: dict) -> dict:
    """The answer to ``query`` (through ``/query/``), which must be a 200."""
    response = http.post(f"{server.url}/api/projects/{boot['project_id']}/query/", json={"query": query})
    assert response.status_code == 200, (query, response.text)
    return response.json()
