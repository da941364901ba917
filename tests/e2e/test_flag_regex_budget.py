"""A hostile flag regex cannot stall the server: /flags/ answers quickly and sanely, and
/_health keeps answering while it evaluates (the review's attack: 40 condition sets of
``^(a|aa)+$`` against ``aaaa…!``). Timed on purpose, with generous bounds."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from hedgerow.testing import LiveServer

pytestmark = pytest.mark.e2e

HEALTH_BOUND = 0.5
FLAGS_BOUND = 1.5
HOSTILE = {
    # linear on RE2, like the server's regex crate
    "nested-alternation": r"^(a|aa)+$",
    # Unicode \w keeps it on the backtracking engine: bounded by the per-request budget
    "nested-word-class": r"^(\w|\w\w)+$",
}


def _flag(key: str, pattern: str) -> dict:
    condition = {"properties": [{"key": "name", "type": "person", "operator": "regex", "value": pattern}],
                 "rollout_percentage": 100}
    return {"key": key, "filters": {"groups": [condition] * 40}}


@pytest.fixture
def server(tmp_path):
    with LiveServer(tmp_path / "data") as live:
        boot = live.bootstrap()
        headers = {"Authorization": f"Bearer {boot['personal_api_key']}"}
        for key, pattern in HOSTILE.items():
            created = httpx.post(f"{live.url}/api/projects/{boot['project_id']}/feature_flags/",
                                 json=_flag(key, pattern), headers=headers)
            assert created.status_code == 201, created.text
        live.boot = boot
        yield live


def test_hostile_regexes_neither_stall_flags_nor_health(server) -> None:
    bodies = [{"token": server.boot["project_api_key"], "distinct_id": "anonymous", "person_properties": {"name": name}}
              for name in ("a" * 40 + "!", "a" * 200_000 + "!")]  # short, and long enough to leave the loop
    with httpx.Client(base_url=server.url, timeout=30) as warm:
        assert warm.get("/_health").status_code == 200
    health: list[float] = []
    done = threading.Event()

    def poll_health() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            while not done.is_set():
                started = time.perf_counter()
                assert client.get("/_health").status_code == 200
                health.append(time.perf_counter() - started)

    poller = threading.Thread(target=poll_health)
    poller.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            started = time.perf_counter()
            answers = [client.post("/flags/?v=2", json=body) for body in bodies for _ in range(2)]
            elapsed = (time.perf_counter() - started) / len(answers)
    finally:
        done.set()
        poller.join()
    for answer in answers:
        assert answer.status_code == 200, answer.text
        flags = answer.json()["flags"]
        assert set(flags) == set(HOSTILE)
        for record in flags.values():  # no condition can match a name ending in "!"
            assert record["enabled"] is False and record["reason"]["code"] == "no_condition_match"
    assert elapsed < FLAGS_BOUND, f"/flags/ took {elapsed:.2f}s"
    assert len(health) >= 3 and max(health) < HEALTH_BOUND, f"/_health latencies {sorted(health)[-3:]}"
