"""The metadata database: engine, migrations, transactions, and driver-error translation."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine

from hedgerow.store.errors import Duplicate, StoreError, StoreUnavailable

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
POOL_SIZE = 40  # anyio's default worker-thread limit: one connection per worker


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001 - DBAPI hook
    cursor = dbapi_connection.cursor()
    # WAL lets the CLI write keys while the server reads; NORMAL sync is durable in WAL mode
    # against process crashes, and cheap enough to audit every request synchronously.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(url: str) -> Engine:
    """An engine for ``url`` (SQLite file or PostgreSQL), tuned for a threaded server."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # As many pooled connections as worker threads: an overflow connection is opened,
        # set up and closed per use, which under load cost more than the queries themselves.
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 10},
            pool_size=POOL_SIZE,
            max_overflow=8,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return sa.create_engine(url, pool_size=10, max_overflow=30, pool_pre_ping=True)


class MetaDB:
    """Owns the engine. Every read and write goes through :meth:`read` or :meth:`write`."""

    _migrate_lock = threading.Lock()

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)

    def migrate(self) -> None:
        """Bring the schema to the newest revision (idempotent; safe to call at every start)."""
        with self._migrate_lock, self.write() as conn:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS_DIR))
            config.attributes["connection"] = conn
            current = MigrationContext.configure(conn).get_current_revision()
            head = ScriptDirectory.from_config(config).get_current_head()
            if current != head:
                command.upgrade(config, "head")

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction, committed on success; driver errors come out as store errors."""
        with self._translated():
            with self.engine.begin() as conn:
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads."""
        with self._translated():
            with self.engine.connect() as conn:
                yield conn

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except exc.IntegrityError as error:
            raise Duplicate(str(error.orig)) from error
        except exc.DBAPIError as error:
            raise StoreUnavailable("metadata database error") from error
        except exc.SQLAlchemyError as error:
            raise StoreError("metadata store error") from error

    def dispose(self) -> None:
        self.engine.dispose()
