"""MCP tool calls against the same REST calls, on one live server, in one run.

Each door runs the same operation (``feature_flag.list`` over 20 flags, and ``query.sql`` of a
one-row HogQL query) through the same ``invoke``: the difference is the transport. MCP uses
the official client over Streamable HTTP (one session, JSON-RPC over SSE); REST uses one
keep-alive httpx client. Calls are sequential and concurrent (``--clients`` sessions), and
the figures are calls/s and p50/p99 latency for each.

    python bench/mcp.py [--calls 300] [--clients 4]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

# This script is named like the SDK it drives: keep its own folder out of the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import httpx  # noqa: E402
import httpx2  # noqa: E402
from mcp.client.session import ClientSession  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

from hedgerow.testing import LiveServer  # noqa: E402

Call = Callable[[], Awaitable[object]]


async def timed(call: Call, calls: int) -> list[float]:
    latencies = []
    for _ in range(calls):
        started = time.perf_counter()
        await call()
        latencies.append(time.perf_counter() - started)
    return latencies


def report(name: str, latencies: list[float], wall: float) -> float:
    rate = len(latencies) / wall
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"  {name:<28} {rate:8.0f} calls/s   p50 {statistics.median(ordered) * 1000:6.1f} ms   p99 {p99 * 1000:6.1f} ms")
    return rate


async def mcp_calls(url: str, key: str, tool: str, arguments: dict, calls: int) -> list[float]:
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:
        async with streamable_http_client(url + "/mcp", http_client=http) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()

                async def call() -> object:
                    result = await session.call_tool(tool, arguments)
                    assert not result.is_error, result.content
                    return result

                return await timed(call, calls)


async def rest_calls(url: str, key: str, method: str, path: str, body: dict | None, calls: int) -> list[float]:
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:

        async def call() -> object:
            response = await http.request(method, path, json=body)
            assert response.status_code == 200, response.text
            return response

        return await timed(call, calls)


async def both(url: str, key: str, project: int, calls: int, clients: int) -> None:
    sql = "select 1 + 1"
    cases = {
        "feature-flag-get-all": (
            lambda n: mcp_calls(url, key, "feature-flag-get-all", {}, n),
            lambda n: rest_calls(url, key, "GET", f"/api/projects/{project}/feature_flags/", None, n),
        ),
        "execute-sql": (
            lambda n: mcp_calls(url, key, "execute-sql", {"query": sql}, n),
            lambda n: rest_calls(url, key, "POST", f"/api/projects/{project}/query/",
                                 {"query": {"kind": "HogQLQuery", "query": sql}}, n),
        ),
    }  # fmt: skip
    ratios = []
    for name, (over_mcp, over_rest) in cases.items():
        print(f"{name} (sequential, then {clients} clients at once):")
        rates = {}
        for door, run in (("MCP", over_mcp), ("REST", over_rest)):
            started = time.perf_counter()
            latencies = await run(calls)
            rates[door] = report(f"{door} sequential", latencies, time.perf_counter() - started)
            started = time.perf_counter()
            together = await asyncio.gather(*(run(calls // clients) for _ in range(clients)))
            report(f"{door} x{clients}", [x for part in together for x in part], time.perf_counter() - started)
        ratios.append(rates["MCP"] / rates["REST"])
        print(f"  MCP / REST (sequential calls/s): {rates['MCP'] / rates['REST']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with LiveServer(Path(tmp) / "data", env={"HEDGEROW_RATE_LIMITS_ENABLED": "false"}) as server:
            boot = server.bootstrap()
            project = boot["project_id"]
            admin = {"Authorization": f"Bearer {boot['personal_api_key']}"}
            for n in range(20):
                httpx.post(f"{server.url}/api/projects/{project}/feature_flags/", headers=admin,
                           json={"key": f"flag-{n}"}).raise_for_status()  # fmt: skip
            asyncio.run(both(server.url, boot["personal_api_key"], project, args.calls, args.clients))


if __name__ == "__main__":
    main()
