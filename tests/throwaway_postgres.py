"""A PostgreSQL server for a test session: the one ``HEDGEROW_TEST_POSTGRES_URL`` names, or a
throwaway one started on loopback from the Debian binaries (as ``scripts/run-tests.sh`` does),
stopped and removed afterwards."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from hedgerow.testing import free_port


def _as_postgres(args: list[str]) -> list[str]:
    # initdb refuses to run as root; the Debian packages make a `postgres` user.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@contextmanager
def admin_url() -> Iterator[str | None]:
    """An admin URL (``postgresql://…/postgres``), or None when no PostgreSQL can be had."""
    given = os.environ.get("HEDGEROW_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not bins:
        yield None
        return
    bin_dir = bins[-1]
    work = tempfile.mkdtemp(prefix="hedgerow-pg-")
    if os.geteuid() == 0:
        shutil.chown(work, "postgres")
    port = free_port()
    data = os.path.join(work, "data")
    subprocess.run(_as_postgres([f"{bin_dir}/initdb", "-D", data, "-U", "postgres", "--auth=trust",
                                 "-E", "UTF8"]), check=True, capture_output=True)  # fmt: skip
    ctl = f"{bin_dir}/pg_ctl"
    subprocess.run(_as_postgres([ctl, "-D", data, "-l", os.path.join(work, "log"), "-w", "-o",
                                 f"-p {port} -k {work} -c listen_addresses=127.0.0.1 -c fsync=off "
                                 "-c max_connections=300", "start"]),
                   check=True, capture_output=True)  # fmt: skip
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([ctl, "-D", data, "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


@contextmanager
def database(admin: str, template: str | None = None) -> Iterator[str]:
    """A new database on the server ``admin`` names (empty, or a copy of the database named
    ``template``), dropped afterwards."""
    name = "hr_" + uuid.uuid4().hex[:16]
    engine = sa.create_engine(admin.replace("postgresql://", "postgresql+psycopg://", 1),
                              isolation_level="AUTOCOMMIT")  # fmt: skip
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    try:
        yield admin.rpartition("/")[0] + "/" + name
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def required(url: str | None) -> str:
    """``url`` (from :func:`admin_url`), or skip the test when no PostgreSQL can be had."""
    if url is None:
        pytest.skip("no PostgreSQL server binaries on this machine (scripts/system-deps.sh)")
    return url


@contextmanager
def admin_url_or_skip() -> Iterator[str]:
    """:func:`admin_url`, skipping the test when no PostgreSQL can be had. Tests share one
    server per session through the ``postgres_admin_url`` fixture (tests/conftest.py)."""
    with admin_url() as url:
        yield required(url)
