"""Acknowledged means stored: SIGKILL the server mid-stream; after a restart every event it
answered 200 for is there, exactly once — and retries of unacknowledged ones do not double."""

from __future__ import annotations

import threading
import uuid

import duckdb
import httpx
import pytest

from hedgerow.testing import LiveServer

pytestmark = pytest.mark.e2e


ENGINES = {
    "duckdb": lambda tmp_path: {},
    "chdb": lambda tmp_path: {"HEDGEROW_EVENTS_URL": f"chdb:///{tmp_path / 'events.chdb'}"},
}


def _stored_counts(server: LiveServer, engine: str, boot: dict) -> dict[str, int]:
    """Every stored uuid and how often it is stored, read after the server stopped (DuckDB)
    or through the query API while it runs (ClickHouse: one embedded server per process)."""
    if engine == "duckdb":
        server.stop()
        db = duckdb.connect(str(server.data_dir / "events.duckdb"), read_only=True)
        stored = db.execute("SELECT CAST(uuid AS VARCHAR), count(*) FROM events GROUP BY 1").fetchall()
        db.close()
        return dict(stored)
    query = {"kind": "HogQLQuery", "query": "select toString(uuid), count() from events group by 1 limit 50000"}
    response = httpx.post(f"{server.url}/api/projects/{boot['project_id']}/query/", json={"query": query},
                          headers={"Authorization": f"Bearer {boot['personal_api_key']}"}, timeout=60)
    server.stop()
    assert response.status_code == 200, response.text
    return {u: n for u, n in response.json()["results"]}


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_sigkill_mid_stream_loses_no_acknowledged_event(tmp_path, engine) -> None:
    server = LiveServer(tmp_path / "data", env=ENGINES[engine](tmp_path)).start()
    boot = server.bootstrap()
    token = boot["project_api_key"]
    acked: list[str] = []
    unacked: list[list[dict]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(n: int) -> None:
        with httpx.Client(timeout=10) as http:
            i = 0
            while not stop.is_set():
                batch = [{"event": "tick", "distinct_id": f"c{n}-{i % 13}", "uuid": str(uuid.uuid4()),
                          "properties": {"client": n, "i": i}} for _ in range(50)]
                i += 1
                try:
                    response = http.post(f"{server.url}/batch/", json={"api_key": token, "batch": batch})
                except httpx.HTTPError:
                    with lock:
                        unacked.append(batch)
                    return
                with lock:
                    if response.status_code == 200:
                        acked.extend(e["uuid"] for e in batch)
                    else:
                        unacked.append(batch)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    while True:  # kill once a good number of acknowledgements are in
        with lock:
            if len(acked) >= 3000:
                break
        threading.Event().wait(0.02)
    server.kill()
    stop.set()
    for t in threads:
        t.join()
    assert acked

    server.start()
    # the SDKs retry what was not acknowledged: that must not double anything
    with httpx.Client(timeout=30) as http:
        for batch in unacked:
            assert http.post(f"{server.url}/batch/", json={"api_key": token, "batch": batch}).status_code == 200
        for batch in unacked[:3]:  # and a retry of a retry
            assert http.post(f"{server.url}/batch/", json={"api_key": token, "batch": batch}).status_code == 200
    counts = _stored_counts(server, engine, boot)
    assert all(counts.get(u) == 1 for u in acked), "an acknowledged event is missing or doubled"
    assert all(c == 1 for c in counts.values()), "an event was stored twice"
    retried = {e["uuid"] for batch in unacked for e in batch}
    assert retried <= set(counts)
