"""Shared fixtures: real databases in temp dirs (or a real PostgreSQL), a real app, real keys.

Set ``HEDGEROW_TEST_POSTGRES_URL`` (an admin URL) to run the metadata suite on PostgreSQL:
each test then gets a database of its own, dropped afterwards. A test's database starts as a
copy of one migrated once per session (``empty_database_url`` is an unmigrated one).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from hedgerow.api.app import create_app
from hedgerow.cli.bootstrap import bootstrap_admin
from hedgerow.config import Settings
from hedgerow.services.container import Services
from hedgerow.store.meta.db import MetaDB
from tests.throwaway_postgres import admin_url, database

POSTGRES_ADMIN_URL = os.environ.get("HEDGEROW_TEST_POSTGRES_URL", "")


METADATA_FIXTURES = ("database_url", "empty_database_url", "shared_api")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``metadata`` the tests whose outcome depends on the metadata database: those the
    PostgreSQL pass repeats (scripts/run-tests.sh). The rest would run the same code twice."""
    for item in items:
        if any(name in getattr(item, "fixturenames", ()) for name in METADATA_FIXTURES):
            item.add_marker(pytest.mark.metadata)


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str | None]:
    """A PostgreSQL admin URL shared by the session's tests that need PostgreSQL beyond the
    metadata fixture (``HEDGEROW_TEST_POSTGRES_URL``'s, or one throwaway server started once,
    not once per module: ~4 s each), or None when none can be had."""
    with admin_url() as url:
        yield url


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty metadata database: SQLite in tmp_path, or a new PostgreSQL database."""
    if not POSTGRES_ADMIN_URL:
        yield f"sqlite:///{tmp_path / 'meta.sqlite3'}"
        return
    with database(POSTGRES_ADMIN_URL) as url:
        yield url


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A metadata database migrated to the newest revision once per session: a SQLite file, or
    the name of a PostgreSQL database. Migrating took 0.15 s (SQLite) to 0.45 s (PostgreSQL) a
    test; the migrations themselves are tested from empty (tests/unit/store/test_migrations.py,
    and every LiveServer start)."""
    if not POSTGRES_ADMIN_URL:
        path = tmp_path_factory.mktemp("meta-template") / "meta.sqlite3"
        db = MetaDB(f"sqlite:///{path}")
        db.migrate()
        db.dispose()
        with closing(sqlite3.connect(path)) as conn:  # one self-contained file to copy
            conn.execute("PRAGMA journal_mode=DELETE")
        yield str(path)
        return
    with database(POSTGRES_ADMIN_URL) as url:
        db = MetaDB(url)
        db.migrate()
        db.dispose()
        yield url.rpartition("/")[2]


@contextmanager
def _migrated_copy(directory: Path, template: str) -> Iterator[str]:
    if not POSTGRES_ADMIN_URL:
        path = directory / "meta.sqlite3"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    with database(POSTGRES_ADMIN_URL, template=template) as url:
        yield url


@pytest.fixture
def database_url(tmp_path: Path, _migrated_template: str) -> Iterator[str]:
    """A fresh metadata database of this test's own, already migrated: a copy of the session's
    template (SQLite in tmp_path, or a new PostgreSQL database)."""
    with _migrated_copy(tmp_path, _migrated_template) as url:
        yield url


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


@pytest.fixture(scope="module")
def shared_api(tmp_path_factory: pytest.TempPathFactory, _migrated_template: str) -> Iterator[Harness]:
    """One app for all of a module's tests (``api`` is one per test), for tests that change
    nothing another test reads: those that are refused, or read, or add only keys and objects
    of their own. Building an app with its databases is most of a short test's time."""
    directory = tmp_path_factory.mktemp("shared-api")
    with _migrated_copy(directory, _migrated_template) as url:
        yield from make_harness(Settings(data_dir=directory / "data", database_url=url, rate_limits_enabled=False))
