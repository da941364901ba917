"""Events URLs: ``--events-url`` names the engine and where its data lives."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class EventsUrl:
    """A parsed ``--events-url``: which engine, where, and which database."""

    engine: str
    """``duckdb``, ``chdb`` or ``clickhouse``."""
    path: str = ""
    host: str = ""
    port: int = 8123
    username: str = "default"
    password: str = ""
    database: str = "hedgerow"
    secure: bool = False


DATABASE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
"""What a ClickHouse database name may be here (it is printed into DDL unquoted)."""


def parse_events_url(url: str) -> EventsUrl:
    """``duckdb:///path``, ``chdb:///path`` (``chdb:///:memory:``) or
    ``clickhouse://user:pass@host:8123/db`` (``clickhouses://`` for TLS).

    Three slashes then a path, SQLAlchemy style: ``chdb:////abs/dir`` or ``chdb:///rel/dir``.
    """
    for scheme in ("duckdb", "chdb"):
        prefix = f"{scheme}:///"
        if url.startswith(prefix):
            if len(url) == len(prefix):
                raise ValueError(f"no path in events URL {url!r}")
            return EventsUrl(engine=scheme, path=url[len(prefix):])
    parts = urlsplit(url)
    if parts.scheme in ("clickhouse", "clickhouses") and parts.hostname:
        database = parts.path.strip("/") or "hedgerow"
        if not DATABASE_NAME.match(database):
            raise ValueError(f"invalid ClickHouse database name {database!r}")
        try:
            port = parts.port or (8443 if parts.scheme == "clickhouses" else 8123)
        except ValueError:
            raise ValueError(f"invalid port in events URL {url!r}") from None
        return EventsUrl(
            engine="clickhouse", host=parts.hostname, port=port,
            username=unquote(parts.username or "default"), password=unquote(parts.password or ""),
            database=database, secure=parts.scheme == "clickhouses",
        )  # fmt: skip
    raise ValueError(f"unsupported events URL {url!r} (duckdb:///PATH, chdb:///PATH or clickhouse://HOST:PORT/DB)")
