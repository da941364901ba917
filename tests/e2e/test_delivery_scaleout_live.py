"""Delivery in scale-out: two ``hedgerow serve`` processes on one PostgreSQL metadata database
(a throwaway server), each with its own events store (DuckDB files, or chdb directories: no
ClickHouse server here), take events at once for one destination; a loopback receiver gets
every matching event exactly once (nothing crashes, so at-least-once delivers once), though
both processes' delivery lanes work on the one shared queue of deliveries owed.
"""

from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa

from hedgerow.testing import LiveServer
from tests.throwaway_postgres import database, required
from tests.webhook_receiver import Receiver, wait_for

pytestmark = pytest.mark.e2e

BATCHES = 12
PER_BATCH = 20


@pytest.fixture(scope="module")
def postgres(postgres_admin_url: str | None) -> str:
    return required(postgres_admin_url)


def _left(url: str) -> tuple[int, int]:
    """(deliveries owed, outbox rows) in the shared metadata database."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            owed = conn.execute(sa.text("SELECT count(*) FROM hog_function_deliveries")).scalar()
            queued = conn.execute(sa.text("SELECT count(*) FROM delivery_outbox")).scalar()
    finally:
        engine.dispose()
    return owed, queued


@pytest.mark.parametrize("engine", ["duckdb", "chdb"])
def test_two_processes_deliver_each_event_once(postgres, tmp_path, engine) -> None:
    # A little slow, so that both processes' lanes have deliveries in flight at once.
    with Receiver(answer=lambda request, n: (200, 0.02)) as receiver, database(postgres) as url:
        servers: list[LiveServer] = []
        try:
            for i in range(2):
                env = {"HEDGEROW_DATABASE_URL": url, "HEDGEROW_PERSONS": "shared",
                       "HEDGEROW_RATE_LIMITS_ENABLED": "false", "HEDGEROW_WEBHOOKS_ALLOW_PRIVATE": "1"}  # fmt: skip
                if engine == "chdb":
                    env["HEDGEROW_EVENTS_URL"] = f"chdb:///{tmp_path / f'p{i}' / 'events.chdb'}"
                servers.append(LiveServer(tmp_path / f"p{i}", env=env).start())
            boot = servers[0].bootstrap()
            response = httpx.post(
                f"{servers[0].url}/api/projects/{boot['project_id']}/hog_functions/",
                headers={"Authorization": f"Bearer {boot['personal_api_key']}"},
                json={"type": "destination", "template_id": "template-webhook", "enabled": True,
                      "inputs": {"url": {"value": receiver.url + "/in"}, "body": {"value": {"uuid": "{event.uuid}"}}},
                      "filters": {"events": [{"id": "order", "type": "events"}]}},
            )  # fmt: skip
            assert response.status_code == 201, response.text
            token = boot["project_api_key"]

            def capture(server: LiveServer, events: list[dict]) -> None:
                r = httpx.post(f"{server.url}/batch/", json={"api_key": token, "batch": events}, timeout=30)
                assert r.status_code == 200, r.text

            # The second process learns of the new destination on its next reload: a probe
            # through it until one arrives (a readiness poll), then the traffic counted.
            probes: list[str] = []

            def probe_arrived() -> bool:
                probes.append(str(uuid.uuid4()))
                capture(servers[1], [{"event": "order", "distinct_id": "probe", "uuid": probes[-1]}])
                return bool(receiver.answered)

            wait_for(probe_arrived, 60, "the second process to deliver for the new destination")

            sent: list[str] = []
            jobs = []
            for b in range(BATCHES):
                batch = [{"event": "order" if j % 2 == 0 else "view", "distinct_id": f"u{j}",
                          "uuid": str(uuid.uuid4())} for j in range(PER_BATCH)]  # fmt: skip
                sent.extend(e["uuid"] for e in batch if e["event"] == "order")
                jobs.append((servers[b % 2], batch))
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(lambda job: capture(*job), jobs))
            wait_for(lambda: {r.json()["uuid"] for r in receiver.answered} >= set(sent), 120,
                     "every matching event delivered")  # fmt: skip
            wait_for(lambda: _left(url) == (0, 0), 60, "nothing left owed or queued")  # then nothing more can come
        finally:
            for server in servers:
                server.stop()
    counts = Counter(r.json()["uuid"] for r in receiver.received)
    assert set(counts) - set(probes) == set(sent)
    assert [u for u, n in counts.items() if n > 1] == []  # each sent once, by one of the two
