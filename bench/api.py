"""The private API's per-call cost: authenticate, decide, audit, limit, answer.

Drives `GET /api/projects/@current/` with a personal API key through a real server with wrk
(a separate process on the second core) and prints requests/s, p50/p99 and the server's CPU
per request, beside the raw engine doing the same lookups in-process (the key by hash, the
user's memberships, the project, and the audit insert, as plain SQLite statements).

    python bench/api.py [--seconds 10] [--connections 16]
"""

from __future__ import annotations

import argparse
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flags import _ms, process_cpu_seconds  # bench/flags.py: shared wrk parsing helpers

from hedgerow.auth.keys import hash_key
from hedgerow.testing import LiveServer


def raw_engine(db_path: Path, key: str, seconds: float = 3.0) -> float:
    """The same reads and the audit write per call, as bare SQLite statements."""
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    secure = hash_key(key)
    started = time.perf_counter()
    calls = 0
    while time.perf_counter() - started < seconds:
        row = conn.execute("SELECT id, user_id, scopes FROM personal_api_keys WHERE secure_value = ?", (secure,)).fetchone()
        conn.execute("SELECT * FROM users WHERE id = ?", (row[1],)).fetchone()
        conn.execute("SELECT organization_id, level FROM organization_memberships WHERE user_id = ?", (row[1],)).fetchall()
        conn.execute("SELECT * FROM projects WHERE id = 1").fetchone()
        conn.execute(
            "INSERT INTO audit_log (created_at, via, key_id, method, path, decision, reason, status, sentence) "
            "VALUES (datetime('now'), 'bench', ?, 'GET', '/x', 'allowed', 'r', 200, 's')", (row[0],))
        conn.commit()
        calls += 1
    return calls / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed (make system-deps installs it)")
    work = Path(tempfile.mkdtemp(prefix="hedgerow-bench-api-"))
    env = {"HEDGEROW_RATE_LIMITS_ENABLED": "false"}
    with LiveServer(work / "data", env=env) as server:
        key = server.bootstrap()["personal_api_key"]
        url = f"{server.url}/api/projects/@current/"
        header = f"Authorization: Bearer {key}"
        subprocess.run(["wrk", "-t1", "-c4", "-d2s", "-H", header, url], capture_output=True, check=True)
        cmd = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", "--latency", "-H", header, url]
        if shutil.which("taskset"):
            cmd = ["taskset", "-c", "1", *cmd]
        before = process_cpu_seconds(server.process.pid)
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        cpu = process_cpu_seconds(server.process.pid) - before
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    p50 = _ms(re.search(r"50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"99%\s+(\S+)", out).group(1))
    raw = raw_engine(work / "data" / "meta.sqlite3", key)
    print(f"GET /api/projects/@current/ with a personal API key (auth, decision, audit row, answer), "
          f"wrk {args.connections} connections, {args.seconds}s:")
    print(f"  {rps:,.0f} requests/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms; server CPU {cpu / total * 1e6:,.0f} us/request")
    print(f"raw SQLite doing the same lookups and audit insert in-process: {raw:,.0f} calls/s")
    print(f"HTTP / raw = {rps / raw:.2f}x")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
