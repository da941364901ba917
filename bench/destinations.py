"""Webhook destinations: deliveries per second to a local receiver, and what 5 destinations
cost capture, in one run.

Two fresh servers (:class:`hedgerow.testing.LiveServer`) take the same capture load (``/batch/``
requests of 100 small events from concurrent keep-alive clients): the first with no
destination (the baseline), the second with 5 enabled destinations whose filters match every
event, all posting to one receiver (uvicorn in its own process, counting requests). Printed:
capture events/s for both and their ratio, then the deliveries/s the second server sustained
until every event had reached all 5 destinations, and the time from the last ack to the last
delivery; and the baseline for deliveries, measured first in the same run: httpx posting the
same bodies straight to the same receiver over as many connections as the 5 lanes use.

With ``--engine chdb`` both servers keep events in the embedded ClickHouse (the outbox then
lives in the metadata database, written before each insert).

    .venv/bin/python bench/destinations.py [--events 5000] [--connections 8] [--destinations 5]
        [--engine duckdb|chdb]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hedgerow.testing import LiveServer, free_port  # noqa: E402

ENV = {"HEDGEROW_WEBHOOKS_ALLOW_PRIVATE": "1", "HEDGEROW_RATE_LIMITS_ENABLED": "false"}


def _receiver(port: int, count: "mp.Value") -> None:  # type: ignore[type-arg]
    import uvicorn

    async def app(scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        with count.get_lock():
            count.value += 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", lifespan="off", access_log=False)


async def _capture(url: str, token: str, events: int, connections: int) -> float:
    batches = [[{"event": "purchase", "distinct_id": f"user-{(b * 100 + i) % 500}", "uuid": str(uuid.uuid4()),
                 "properties": {"amount": i, "plan": "pro", "$lib": "bench"}} for i in range(100)]
               for b in range(max(1, events // 100))]  # fmt: skip
    queue: asyncio.Queue = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)

    async def client() -> None:
        async with httpx.AsyncClient(timeout=60) as http:
            while not queue.empty():
                batch = queue.get_nowait()
                response = await http.post(f"{url}/batch/", json={"api_key": token, "batch": batch})
                response.raise_for_status()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    return len(batches) * 100 / (time.perf_counter() - started)


async def _raw_posts(target: str, requests: int, connections: int) -> float:
    """The baseline: the same bodies posted straight to the receiver with httpx."""
    queue: asyncio.Queue = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait({"e": str(uuid.uuid4()), "a": i})

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            (await http.post(target, json=queue.get_nowait())).raise_for_status()

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=60) as http:
        await asyncio.gather(*(client(http) for _ in range(connections)))
    return requests / (time.perf_counter() - started)


def _destination(server: LiveServer, key: str, project_id: int, target: str) -> None:
    response = httpx.post(
        f"{server.url}/api/projects/{project_id}/hog_functions/", headers={"Authorization": f"Bearer {key}"},
        json={"type": "destination", "template_id": "template-webhook", "enabled": True,
              "inputs": {"url": {"value": target},
                         "body": {"value": {"e": "{event.uuid}", "a": "{event.properties.amount}"}}},
              "filters": {"events": [{"id": "purchase", "type": "events"}]}},
    )  # fmt: skip
    response.raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--destinations", type=int, default=5)
    parser.add_argument("--engine", choices=("duckdb", "chdb"), default="duckdb")
    args = parser.parse_args()
    events = max(1, args.events // 100) * 100

    count = mp.Value("q", 0)
    port = free_port()
    receiver = mp.Process(target=_receiver, args=(port, count), daemon=True)
    receiver.start()
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    raw = asyncio.run(_raw_posts(f"http://127.0.0.1:{port}/in", min(events, 3000), 8 * args.destinations))
    with count.get_lock():
        count.value = 0

    def env(data: Path) -> dict[str, str]:
        return ENV if args.engine == "duckdb" else {**ENV, "HEDGEROW_EVENTS_URL": f"chdb:///{data / 'events.chdb'}"}

    with tempfile.TemporaryDirectory() as tmp:
        with LiveServer(Path(tmp) / "none", env=env(Path(tmp) / "none")) as server:
            boot = server.bootstrap()
            baseline = asyncio.run(_capture(server.url, boot["project_api_key"], events, args.connections))
        with LiveServer(Path(tmp) / "five", env=env(Path(tmp) / "five")) as server:
            boot = server.bootstrap()
            for _ in range(args.destinations):
                _destination(server, boot["personal_api_key"], boot["project_id"], f"http://127.0.0.1:{port}/in")
            started = time.perf_counter()
            with_destinations = asyncio.run(_capture(server.url, boot["project_api_key"], events, args.connections))
            acked = time.perf_counter()
            expected = events * args.destinations
            while count.value < expected and time.perf_counter() - acked < 600:
                time.sleep(0.05)
            finished = time.perf_counter()
            delivered = count.value
    receiver.terminate()

    print(f"engine: {args.engine}, events: {events}, connections: {args.connections}, destinations: {args.destinations}")
    print(f"capture, no destination:        {baseline:10,.0f} events/s")
    print(f"capture, {args.destinations} destinations:        {with_destinations:10,.0f} events/s"
          f"  ({with_destinations / baseline:.2f}x of the baseline)")  # fmt: skip
    print(f"delivered: {delivered:,} of {expected:,} requests, {delivered / (finished - started):,.0f} deliveries/s "
          f"from the first event; last delivery {finished - acked:.2f}s after the last ack")  # fmt: skip
    print(f"baseline, httpx posting to the same receiver ({8 * args.destinations} connections): {raw:,.0f} requests/s "
          f"(deliveries at {delivered / (finished - started) / raw:.2f}x of it)")  # fmt: skip


if __name__ == "__main__":
    main()
