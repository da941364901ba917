"""What the benchmarks that time ``POST /query/`` against hand-written DuckDB SQL share: a
bootstrapped data dir in a temp dir (removed afterwards), a byte-identical raw copy of its
events file, and one timing of both sides per run.

Used by ``bench/insights.py`` and ``bench/experiments.py``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import httpx

from hedgerow.testing import cli


@dataclass(frozen=True)
class Project:
    """A bootstrapped data dir: ``boot`` is ``hedgerow bootstrap --json``'s answer."""

    base: Path
    data_dir: Path
    boot: dict[str, Any]

    @property
    def team(self) -> int:
        return self.boot["project_id"]

    @property
    def events_file(self) -> Path:
        return self.data_dir / "events.duckdb"

    def raw_copy(self, memory: str) -> duckdb.DuckDBPyConnection:
        """A connection to a copy of the events file as it is now (2 threads, ``memory``)."""
        copy = self.base / "raw.duckdb"
        shutil.copy(self.events_file, copy)
        return duckdb.connect(str(copy), config={"threads": 2, "memory_limit": memory})


@contextmanager
def bootstrapped(name: str) -> Iterator[Project]:
    """A new data dir, bootstrapped, in a temp dir removed on leaving."""
    base = Path(tempfile.mkdtemp(prefix=f"hedgerow-bench-{name}-"))
    try:
        data_dir = base / "data"
        boot = json.loads(cli("bootstrap", "--data-dir", str(data_dir), "--json").stdout)
        yield Project(base, data_dir, boot)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class Timed:
    """Both sides' times (seconds), the raw rows and the HTTP answers of every run."""

    raw_times: list[float]
    http_times: list[float]
    raw_rows: list[Any]
    responses: list[httpx.Response]


def time_both(raw: duckdb.DuckDBPyConnection, sql: str, client: httpx.Client, url: str, query: dict[str, Any],
              runs: int) -> Timed:  # fmt: skip
    """Run ``sql`` on the raw engine and ``query`` through ``POST url`` (uncached) ``runs`` times each."""
    timed = Timed([], [], [], [])
    for _ in range(runs):
        started = time.perf_counter()
        timed.raw_rows = raw.execute(sql).fetchall()
        timed.raw_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        response = client.post(url, json={"query": query, "refresh": "force_blocking"})
        timed.http_times.append(time.perf_counter() - started)
        response.raise_for_status()
        timed.responses.append(response)
    return timed
