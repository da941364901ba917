"""Fixtures for the ingestion tests: real DuckDB files in a temp dir, a started Ingestor."""

from __future__ import annotations

import asyncio
from typing import Any, Iterator

import orjson
import pytest

from hedgerow.ingest.pipeline import Ingestor, Project
from hedgerow.store.events.duckdb import FOLD_ROWS, DuckDBEventStore

TOKEN = "phc_test_token"
OTHER_TOKEN = "phc_other_token"
PROJECTS = {TOKEN: Project(1), OTHER_TOKEN: Project(2)}


def resolve(token: str) -> Project | None:
    return PROJECTS.get(token)


@pytest.fixture
def db_path(tmp_path) -> str:
    return str(tmp_path / "events.duckdb")


@pytest.fixture(params=["log", "folded"])
def store(db_path, request) -> Iterator[DuckDBEventStore]:
    """The store twice: identity changes left in the logs, and folded after every commit."""
    s = DuckDBEventStore(db_path, fold_rows=1 if request.param == "folded" else FOLD_ROWS)
    yield s
    s.close()


@pytest.fixture
def ingestor(store) -> Iterator[Ingestor]:
    ing = Ingestor(store, resolve)
    ing.start()
    yield ing
    ing.close()


def send(ing: Ingestor, payload: Any, *, path: str = "/batch/", headers: dict | None = None,
         query: dict | None = None, ip: str | None = "203.0.113.9", raw: bytes | None = None,
         method: str = "POST") -> int:  # fmt: skip
    """Send one capture request through the whole pipeline and wait for its ack."""
    body = raw if raw is not None else orjson.dumps(payload)
    return asyncio.run(ing.ingest(body, headers or {}, query or {}, ip, path, method))


def batch(*events: dict, token: str = TOKEN, **extra: Any) -> dict:
    return {"api_key": token, "batch": list(events), **extra}


def rows(store: DuckDBEventStore, sql: str, params: list | None = None) -> list[tuple]:
    return store.query(sql, params or [])
