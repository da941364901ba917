"""Helpers for testing against a real Hedgerow: a live server on a free port, and set-up.

Public on purpose: projects that build on Hedgerow can start one the same way our own
end-to-end tests do::

    with LiveServer(tmp_path) as server:
        keys = server.bootstrap()
        httpx.get(server.url + "/api/projects/", headers={"Authorization": f"Bearer {keys['personal_api_key']}"})
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from collections.abc import Sequence
from typing import Any

import httpx


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    """Poll ``url/_health`` until it answers 200 (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode}")
        try:
            if httpx.get(f"{url}/_health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)
    raise TimeoutError(f"{url} was not ready after {timeout}s")


def cli(*args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``hedgerow <args>`` in a subprocess, as an operator would."""
    return subprocess.run(
        [sys.executable, "-m", "hedgerow.cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=check,
        timeout=120,
    )


def insert_rows(cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` (one value per column, in order) into a DuckDB table in one statement,
    through an Arrow table: a fixture of 950 events took 3 s inserted a statement at a time,
    10 ms so. Each column holds one Python type (or None); datetimes are naive, in UTC."""
    import datetime as dt
    import uuid as uuid_lib

    import pyarrow as pa

    if not rows:
        return
    if any(isinstance(v, dt.datetime) and v.tzinfo is not None for row in rows for v in row):
        raise ValueError("insert_rows takes naive UTC datetimes (an aware one would be shifted by the session zone)")
    name = f"incoming_{uuid_lib.uuid4().hex}"
    cursor.register(name, pa.table({f"c{i}": list(values) for i, values in enumerate(zip(*rows))}))
    try:
        quoted = ", ".join(f'"{column}"' for column in columns)
        cursor.execute(f"INSERT INTO {table} ({quoted}) SELECT * FROM {name}")
    finally:
        cursor.unregister(name)


def write_events(data_dir: Path, team_id: int, events: list[dict[str, Any]]) -> None:
    """Insert events straight into a data directory's DuckDB file (the server must be stopped).

    Each event is a dict with ``event``, ``distinct_id`` and optionally ``properties``,
    ``timestamp`` (ISO text or datetime; default now), ``uuid``, ``person_id``,
    ``person_properties``. For loading fixtures before a :class:`LiveServer` starts.
    """
    import datetime as dt
    import uuid as uuid_lib

    from hedgerow.store.events.duckdb import DuckDBEventStore
    from hedgerow.store.events.schema import fill_hot_columns

    database = DuckDBEventStore(Path(data_dir) / "events.duckdb")
    cursor = database.cursor()
    try:
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        rows = [
            [
                team_id,
                str(e.get("uuid") or uuid_lib.uuid4()),
                e["event"],
                e["distinct_id"],
                json.dumps(e.get("properties") or {}),
                e.get("timestamp") or now,
                e.get("timestamp") or now,
                e.get("person_id"),
                json.dumps(e.get("person_properties") or {}),
                (e.get("properties") or {}).get("$session_id"),
            ]
            for e in events
        ]
        cursor.executemany(
            "INSERT INTO events (team_id, uuid, event, distinct_id, properties, timestamp, created_at,"
            ' person_id, person_properties, "$session_id") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
            rows,
        )
        cursor.execute(fill_hot_columns())  # the materialised properties, as ingestion stores them
    finally:
        cursor.close()
        database.close()


class LiveServer:
    """``hedgerow serve`` in a subprocess on a free port, with its own data directory."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None, port: int | None = None,
                 args: tuple[str, ...] = ()) -> None:  # fmt: skip
        self.data_dir = Path(data_dir)
        self.args = args
        """More ``hedgerow serve`` arguments, e.g. ``("--trusted-proxy", "10.0.0.0/8")``."""
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen | None = None
        self.log_path = self.data_dir / "server.log"

    def start(self) -> "LiveServer":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = os.fdopen(os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "hedgerow.cli.main", "serve",
                "--data-dir", str(self.data_dir), "--host", "127.0.0.1", "--port", str(self.port),
                *self.args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
        )
        log.close()
        wait_ready(self.url, process=self.process)
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks run (durability tests)."""
        self.stop(signal.SIGKILL)

    def bootstrap(self) -> dict[str, Any]:
        """Organization, project and a new admin key, via the CLI (works while serving)."""
        out = cli("bootstrap", "--data-dir", str(self.data_dir), "--json", env=self._cli_env())
        return json.loads(out.stdout)

    def create_key(self, label: str, scopes: str, *extra: str) -> dict[str, Any]:
        out = cli(
            "keys", "create", "--data-dir", str(self.data_dir), "--label", label, "--scopes", scopes,
            "--json", *extra, env=self._cli_env(),
        )
        return json.loads(out.stdout)

    def _cli_env(self) -> dict[str, str]:
        return {k: v for k, v in self.env.items() if k.startswith("HEDGEROW_")}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> "LiveServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
