"""Shared fixtures: real databases in temp dirs (or a real PostgreSQL), a real app, real keys.

Set ``HEDGEROW_TEST_POSTGRES_URL`` (an admin URL) to run the metadata suite on PostgreSQL:
each test then gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from hedgerow.api.app import create_app
from hedgerow.cli.bootstrap import bootstrap_admin
from hedgerow.config import Settings
from hedgerow.services.container import Services

POSTGRES_ADMIN_URL = os.environ.get("HEDGEROW_TEST_POSTGRES_URL", "")


def _pg_url(admin_url: str, database: str) -> str:
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{database}"


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh metadata database: SQLite in tmp_path, or a new PostgreSQL database."""
    if not POSTGRES_ADMIN_URL:
        yield f"sqlite:///{tmp_path / 'meta.sqlite3'}"
        return
    name = "hr_" + uuid.uuid4().hex[:16]
    admin = sa.create_engine(
        POSTGRES_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield _pg_url(POSTGRES_ADMIN_URL, name)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, rate_limits_enabled=False)


@dataclass
class Harness:
    """An in-process app with its services and the bootstrap admin key."""

    client: TestClient
    services: Services
    admin_key: str
    project_id: int
    project_token: str
    organization_id: str

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.admin_key}"}

    def key(self, scopes: list[str], teams: list[int] | None = None, orgs: list[str] | None = None,
            label: str = "test-key") -> str:
        owner = self.services.projects.bootstrap().user
        _, value = self.services.keys.create(owner.id, label, scopes, teams, orgs, enforce_limit=False)
        return value

    def get(self, path: str, key: str | None = None, headers: dict[str, str] | None = None, **kw: Any):
        return self.client.get(path, headers={**self.auth(key), **(headers or {})}, **kw)

    def post(self, path: str, json: Any = None, key: str | None = None, **kw: Any):
        return self.client.post(path, json=json, headers=self.auth(key), **kw)

    def patch(self, path: str, json: Any = None, key: str | None = None, **kw: Any):
        return self.client.patch(path, json=json, headers=self.auth(key), **kw)

    def delete(self, path: str, key: str | None = None, **kw: Any):
        return self.client.delete(path, headers=self.auth(key), **kw)


def make_harness(settings: Settings) -> Iterator[Harness]:
    app = create_app(settings)
    with TestClient(app, base_url="http://testserver") as client:
        services: Services = app.state.services
        boot = bootstrap_admin(services)
        yield Harness(
            client=client,
            services=services,
            admin_key=boot["personal_api_key"],
            project_id=boot["project_id"],
            project_token=boot["project_api_key"],
            organization_id=boot["organization_id"],
        )


@pytest.fixture
def api(settings: Settings) -> Iterator[Harness]:
    yield from make_harness(settings)
