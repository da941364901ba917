"""`/_health` latency while a real server processes hostile capture bodies.

Starts ``hedgerow serve`` on a temp data dir and polls ``/_health`` from a separate process
(so the poller never waits on this process's GIL): first with nothing else going on (the
baseline), then while each hostile body of :mod:`hedgerow.hostile` is processed alone, then
while all of them are processed at once. Prints p50, p99 and max for each, and the ratio of
the loaded max to the baseline's.

    .venv/bin/python bench/health_under_load.py [--seconds 3] [--scale 1.0]

``--scale`` shrinks or grows every body (1.0: the review's 1.8 and 3.7 MB lz64 bodies, a
16 MB ``/batch/`` of ~300k tiny events, gzip bombs of 19 MB of events and 200 MB of padding).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hedgerow.hostile import gzip_bomb, lz64_body, tiny_events_batch  # noqa: E402
from hedgerow.testing import LiveServer  # noqa: E402

POLLER = r"""
import json, sys, time
import httpx
url, stop = sys.argv[1], sys.argv[2]
latencies = []
with httpx.Client(base_url=url, timeout=60) as client:
    import os
    client.get("/_health")
    print("ready", flush=True)
    while not os.path.exists(stop):
        started = time.perf_counter()
        client.get("/_health")
        latencies.append(time.perf_counter() - started)
print(json.dumps(latencies))
"""


def hostile_bodies(token: str, scale: float) -> dict[str, tuple[str, bytes, dict[str, str]]]:
    mb = int(1_000_000 * scale)
    return {
        "lz64 1.8 MB to /e/": ("/e/?compression=lz64", lz64_body(int(1.8 * mb)), {}),
        "lz64 3.7 MB to /batch/": ("/batch/?compression=lz64", lz64_body(int(3.7 * mb)), {}),
        "lz64 3.7 MB to /s/ (recordings)": ("/s/?compression=lz64", lz64_body(int(3.7 * mb)), {}),
        "/batch/ 16 MB of tiny events (valid token)": ("/batch/", tiny_events_batch(16 * mb, token), {}),
        "/batch/ 16 MB of tiny events (no such token)": ("/batch/", tiny_events_batch(16 * mb), {}),
        "gzip bomb: 19 MB of events": ("/batch/", gzip_bomb(19 * mb), {"Content-Encoding": "gzip"}),
        "gzip bomb: 200 MB of padding": ("/batch/", gzip_bomb(200 * mb, events=False), {}),
    }


def measure(url: str, work: list[tuple[str, bytes, dict[str, str]]], seconds: float,
            tmp: Path) -> tuple[list[float], list[int], float]:  # fmt: skip
    """Poll /_health while ``work`` is sent (or for ``seconds`` when there is none)."""
    stop = tmp / f"stop-{time.monotonic_ns()}"
    poller = subprocess.Popen([sys.executable, "-c", POLLER, url, str(stop)], stdout=subprocess.PIPE,
                              text=True)  # fmt: skip
    assert poller.stdout is not None and poller.stdout.readline().strip() == "ready"
    statuses: list[int] = []
    started = time.perf_counter()

    def send(path: str, body: bytes, headers: dict[str, str]) -> None:
        statuses.append(httpx.post(url + path, content=body, headers=headers, timeout=300).status_code)

    senders = [threading.Thread(target=send, args=item) for item in work]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    if not work:
        time.sleep(seconds)
    elapsed = time.perf_counter() - started
    stop.touch()
    out, _ = poller.communicate(timeout=60)
    return json.loads(out), statuses, elapsed


def describe(latencies: list[float]) -> tuple[str, float]:
    if not latencies:
        return "no poll answered while it ran", float("nan")
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000
    top = ordered[-1] * 1000
    return f"p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  max {top:6.1f} ms  ({len(ordered):,} polls)", top


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of the baseline")
    parser.add_argument("--scale", type=float, default=1.0, help="size factor of every body")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with LiveServer(tmp / "data") as server:
            token = server.bootstrap()["project_api_key"]
            bodies = hostile_bodies(token, args.scale)
            baseline, _, _ = measure(server.url, [], args.seconds, tmp)
            text, base_max = describe(baseline)
            print(f"{'baseline (no load)':48s} {text}")
            for name, item in bodies.items():
                latencies, statuses, elapsed = measure(server.url, [item], 0, tmp)
                text, top = describe(latencies)
                print(f"{name:48s} {text}  -> {statuses[0]} in {elapsed:.1f} s, max {top / base_max:.1f}x baseline")
            latencies, statuses, elapsed = measure(server.url, list(bodies.values()), 0, tmp)
            text, top = describe(latencies)
            print(f"{'all of them at once':48s} {text}  -> {sorted(statuses)} in {elapsed:.1f} s, "
                  f"max {top / base_max:.1f}x baseline")  # fmt: skip


if __name__ == "__main__":
    main()
