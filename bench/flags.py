"""/flags/ throughput and latency against a real server, beside in-process evaluation.

Starts `hedgerow serve` on a temp data dir, creates 20 realistic flags and 10,000 persons
(through capture), then drives `POST /flags/?v=2` with wrk (a separate process, pinned to the
second core) for a fixed time, with bodies cycling over 2,000 distinct ids (three quarters of
them stored persons, a quarter unknown with request person properties). In the same run it
evaluates the same requests in-process with the pure evaluator (the raw engine: no HTTP, no
lookup) and prints both. Last, it sends the review's hostile regex flags (in a project of their
own) while polling /_health, and prints both latencies.

    python bench/flags.py [--seconds 10] [--connections 32]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from hedgerow.flags import EvaluationContext, compile_flags, evaluate_flags
from hedgerow.services.flag_definitions import flag_definition
from hedgerow.testing import LiveServer, cli

PLANS = ("free", "pro", "team", "enterprise")
COUNTRIES = ("GB", "US", "DE", "FR", "IN", "BR")


def flag_specs() -> list[dict]:
    flags = []
    for i in range(8):
        flags.append({"key": f"rollout-{i}", "filters": {"groups": [{"properties": [], "rollout_percentage": 10 * (i + 1)}]}})
    for i in range(4):
        flags.append({"key": f"experiment-{i}", "filters": {
            "groups": [{"properties": [], "rollout_percentage": 90}],
            "multivariate": {"variants": [{"key": "control", "rollout_percentage": 34},
                                          {"key": "a", "rollout_percentage": 33},
                                          {"key": "b", "rollout_percentage": 33}]},
            "payloads": {"a": {"color": "blue"}, "b": {"color": "green"}}}})
    for i, plan in enumerate(PLANS):
        flags.append({"key": f"plan-{plan}", "filters": {"groups": [
            {"properties": [{"key": "plan", "type": "person", "operator": "exact", "value": [plan]}],
             "rollout_percentage": 100}], "payloads": {"true": f"\"{plan}\""}}})
    flags.append({"key": "emea", "filters": {"groups": [{"properties": [
        {"key": "country", "type": "person", "operator": "exact", "value": ["GB", "DE", "FR"]}],
        "rollout_percentage": 50}]}})
    flags.append({"key": "staff", "filters": {"groups": [{"properties": [
        {"key": "email", "type": "person", "operator": "icontains", "value": "@hedgerow.dev"}]}]}})
    flags.append({"key": "power-users", "filters": {"groups": [
        {"properties": [{"key": "seats", "type": "person", "operator": "gt", "value": "50"},
                        {"key": "plan", "type": "person", "operator": "is_not", "value": ["free"]}],
         "rollout_percentage": 100},
        {"properties": [{"key": "email", "type": "person", "operator": "regex", "value": "^admin@"}]}]}})
    flags.append({"key": "app-version", "filters": {"groups": [{"properties": [
        {"key": "app_version", "type": "person", "operator": "semver_gte", "value": "2.3.0"}]}]}})
    assert len(flags) == 20
    return flags


def person(i: int, rng: random.Random) -> dict:
    return {
        "email": f"user{i}@{'hedgerow.dev' if i % 50 == 0 else 'example.com'}",
        "plan": rng.choice(PLANS),
        "country": rng.choice(COUNTRIES),
        "seats": rng.randint(1, 200),
        "app_version": f"{rng.randint(1, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}",
    }


WRK_SCRIPT = """
local bodies = {}
for line in io.lines("%s") do bodies[#bodies + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
"""


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), load-independent unlike wall time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--persons", type=int, default=10_000)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed (make system-deps installs it)")
    rng = random.Random(7)
    work = Path(tempfile.mkdtemp(prefix="hedgerow-bench-flags-"))
    with LiveServer(work / "data") as server:
        boot = server.bootstrap()
        headers = {"Authorization": f"Bearer {boot['personal_api_key']}"}
        token, project_id = boot["project_api_key"], boot["project_id"]
        created = []
        for spec in flag_specs():
            response = httpx.post(f"{server.url}/api/projects/{project_id}/feature_flags/", json=spec, headers=headers)
            response.raise_for_status()
            created.append(response.json())
        people = {f"user-{i}": person(i, rng) for i in range(args.persons)}
        ids = list(people)
        for start in range(0, len(ids), 500):
            batch = [{"event": "$identify", "distinct_id": d, "$set": people[d]} for d in ids[start:start + 500]]
            httpx.post(f"{server.url}/batch/", json={"api_key": token, "batch": batch}, timeout=60).raise_for_status()

        requests = []
        for n in range(2000):
            if n % 4 == 3:
                distinct_id = f"anon-{n}"
                body = {"token": token, "distinct_id": distinct_id, "person_properties": person(n, rng)}
            else:
                distinct_id = rng.choice(ids)
                body = {"token": token, "distinct_id": distinct_id}
            requests.append(body)
        bodies = work / "bodies.jsonl"
        bodies.write_text("\n".join(json.dumps(b) for b in requests) + "\n")
        script = work / "flags.lua"
        script.write_text(WRK_SCRIPT % bodies)
        check = httpx.post(f"{server.url}/flags/?v=2", json=requests[0]).json()
        assert len(check["flags"]) == 20, check
        subprocess.run(["wrk", "-t1", "-c8", "-d2s", "-s", str(script), f"{server.url}/flags/?v=2"],
                       capture_output=True, check=True)  # warm up
        cmd = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", "--latency", "-s", str(script),
               f"{server.url}/flags/?v=2"]
        if shutil.which("taskset"):
            cmd = ["taskset", "-c", "1", *cmd]
        cpu_before = process_cpu_seconds(server.process.pid)
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        cpu_used = process_cpu_seconds(server.process.pid) - cpu_before
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        p50 = _ms(re.search(r"50%\s+(\S+)", out).group(1))
        p99 = _ms(re.search(r"99%\s+(\S+)", out).group(1))
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        total = int(re.search(r"(\d+) requests in", out).group(1))
        hostile = hostile_regexes(server, headers)

    flag_set = compile_flags([flag_definition_from_json(f) for f in created])
    contexts = []
    for body in requests:
        stored = people.get(body["distinct_id"], {})
        contexts.append(EvaluationContext(distinct_id=body["distinct_id"], person_properties=stored,
                                          person_property_overrides=body.get("person_properties") or {}))
    started = time.perf_counter()
    rounds = 0
    while time.perf_counter() - started < 3:
        for context in contexts:
            evaluate_flags(flag_set, context)
        rounds += 1
    in_process = rounds * len(contexts) / (time.perf_counter() - started)

    print(f"/flags/?v=2 over HTTP (20 flags, {args.persons:,} stored persons, wrk {args.connections} connections, "
          f"{args.seconds}s):")
    print(f"  {rps:,.0f} requests/s, latency p50 {p50:.2f} ms, p99 {p99:.2f} ms"
          + (f", NON-2xx: {errors.group(1)}" if errors else ""))
    print(f"  server CPU per request: {cpu_used / total * 1e6:,.0f} us "
          f"(= {total / cpu_used:,.0f} requests/s per fully used core)")
    print(f"in-process evaluation of the same requests (one core): {in_process:,.0f} requests/s")
    print(f"HTTP / in-process = {rps / in_process:.2f}x   (target: >= 3,000 req/s with p99 < 20 ms)")
    print("hostile regexes (40 condition sets each of ^(a|aa)+$ and ^(\\w|\\w\\w)+$, 'aaa…!' names, 3s):")
    print(f"  /flags/ {hostile['flags_mean']:.0f} ms mean, {hostile['flags_max']:.0f} ms max over {hostile['calls']} calls;"
          f" /_health meanwhile p50 {hostile['health_p50']:.1f} ms, max {hostile['health_max']:.1f} ms"
          f" over {hostile['polls']} polls")
    shutil.rmtree(work, ignore_errors=True)


def hostile_regexes(server: LiveServer, headers: dict) -> dict:
    """/flags/ against the review's regex attack in a project of its own, with /_health polled
    meanwhile: the flags answer within the regex budget and the loop keeps answering."""
    project = json.loads(cli("projects", "create", "--data-dir", str(server.data_dir), "--name", "hostile",
                             "--json").stdout)
    for key, pattern in (("alternation", r"^(a|aa)+$"), ("word-class", r"^(\w|\w\w)+$")):
        condition = {"properties": [{"key": "name", "type": "person", "operator": "regex", "value": pattern}]}
        httpx.post(f"{server.url}/api/projects/{project['id']}/feature_flags/", headers=headers,
                   json={"key": key, "filters": {"groups": [condition] * 40}}).raise_for_status()
    bodies = [{"token": project["api_token"], "distinct_id": "anonymous", "person_properties": {"name": name}}
              for name in ("a" * 40 + "!", "a" * 100_000 + "!")]
    health: list[float] = []
    calls: list[float] = []
    done = threading.Event()

    def poll() -> None:
        with httpx.Client(base_url=server.url) as client:
            while not done.is_set():
                started = time.perf_counter()
                client.get("/_health").raise_for_status()
                health.append((time.perf_counter() - started) * 1000)

    poller = threading.Thread(target=poll)
    poller.start()
    with httpx.Client(base_url=server.url, timeout=60) as client:
        until = time.perf_counter() + 3
        while time.perf_counter() < until:
            started = time.perf_counter()
            client.post("/flags/?v=2", json=bodies[len(calls) % 2]).raise_for_status()
            calls.append((time.perf_counter() - started) * 1000)
    done.set()
    poller.join()
    health.sort()
    return {"calls": len(calls), "flags_mean": sum(calls) / len(calls), "flags_max": max(calls),
            "polls": len(health), "health_p50": health[len(health) // 2], "health_max": health[-1]}


def flag_definition_from_json(flag: dict) -> dict:
    """The API's flag JSON in the local-evaluation shape the evaluator compiles."""
    return {k: flag[k] for k in ("id", "key", "name", "filters", "active", "deleted",
                                 "ensure_experience_continuity", "version")} | {"team_id": 1}


if __name__ == "__main__":
    main()
