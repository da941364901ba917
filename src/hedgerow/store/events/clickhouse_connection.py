"""One way to talk to ClickHouse, whether embedded (``chdb``) or a server (``clickhouse-connect``).

Both speak the same SQL with the same server-side typed parameters (``{p1:String}``) and
answer in ``JSONCompact``, so everything above this module (schema, writer, HogQL results)
is written once. Inserts send ``JSONEachRow`` data after the statement: values travel as data,
never as SQL text. Driver exceptions become :class:`ClickHouseError` with the server's error
code, the original chained.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Protocol, Sequence

import orjson

from hedgerow.hogql.render.parameters import parameter_text
from hedgerow.store.events.protocol import EventStoreError
from hedgerow.store.events.urls import DATABASE_NAME, EventsUrl

_CODE = re.compile(r"Code: (\d+)")


class ClickHouseError(EventStoreError):
    """ClickHouse refused or failed a statement; ``code`` is its error code (0 if unknown)."""

    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.code = code


def _code_of(exc: BaseException) -> int:
    found = getattr(exc, "code", None)
    if isinstance(found, int):
        return found
    match = _CODE.search(str(exc))
    return int(match.group(1)) if match else 0


@dataclass(frozen=True)
class Answer:
    """A query's rows (JSON values) and its columns' ClickHouse types."""

    rows: list[list[Any]]
    types: list[str]


class Connection(Protocol):
    def query(self, sql: str, params: Mapping[str, Any] | None = None,
              settings: Mapping[str, Any] | None = None, *, query_id: str | None = None) -> Answer:  # fmt: skip
        """Run a statement that returns rows."""

    def cancel(self, query_id: str) -> None:
        """Stop the running query ``query_id`` if the engine can."""

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns nothing (DDL, DELETE)."""

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Insert rows (values in ``columns`` order, JSON-ready) synchronously."""

    def use(self, database: str) -> None:
        """Make ``database`` the default for every later statement."""

    def close(self) -> None: ...


def _texts(params: Mapping[str, Any] | None) -> dict[str, str] | None:
    """Parameter values as the text the server parses for their declared type."""
    return {name: parameter_text(value) for name, value in params.items()} if params else None


def _driver_values(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Parameter values for ``clickhouse-connect``, which escapes them itself: only dates and
    times become text (it would drop their microseconds)."""
    return {name: _driver_value(value) for name, value in (params or {}).items()}


def _driver_value(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return parameter_text(value)
    if isinstance(value, (list, tuple)):
        return [_driver_value(v) for v in value]
    return value


def _json_rows(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    return b"\n".join(orjson.dumps(dict(zip(columns, row))) for row in rows)


def _with_settings(sql: str, settings: Mapping[str, Any] | None) -> str:
    if not settings:
        return sql
    # Setting names and values are the server's own constants, never user input.
    return sql + " SETTINGS " + ", ".join(f"{name} = {_setting(value)}" for name, value in settings.items())


_WORD = re.compile(r"^[a-z_]+$")


def _setting(value: Any) -> str:
    if isinstance(value, str) and _WORD.match(value):
        return f"'{value}'"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value)
    raise ValueError(f"unsupported setting value {value!r}")


def _answer(payload: bytes) -> Answer:
    if not payload:
        return Answer([], [])
    data = orjson.loads(payload)
    return Answer(data["data"], [column["type"] for column in data["meta"]])


_JSON_OUTPUT = {"output_format_json_quote_64bit_integers": 0, "output_format_json_quote_decimals": 0,
                "output_format_json_named_tuples_as_objects": 0}  # fmt: skip


class ChdbConnection:
    """The embedded engine: ``chdb`` sessions on a directory (or ``:memory:``), one per thread.

    Sessions on one path share the process's embedded server and run concurrently, so a long
    query on one thread never holds up the writer's inserts on another (one shared session
    would serialise them). chdb runs one embedded server per process, on one path: every store
    in a process must name the same path (tests use ``:memory:`` and a database each).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._database: str | None = None
        self._local = threading.local()
        self._sessions: list[Any] = []
        self._lock = threading.Lock()
        self._session()  # open now: a bad path fails here, not on the first statement

    def _session(self) -> Any:
        found = getattr(self._local, "session", None)
        if found is not None:
            return found
        try:
            from chdb import session

            opened = session.Session(self.path)
            if self._database is not None:
                opened.query(f"USE {self._database}", "CSV")
        except ImportError as exc:  # pragma: no cover - a dependency
            raise ClickHouseError("the chdb package is not installed") from exc
        except Exception as exc:  # noqa: BLE001 - chdb raises RuntimeError and its own types
            raise ClickHouseError(f"cannot open the embedded ClickHouse at {self.path}", _code_of(exc)) from exc
        with self._lock:
            self._sessions.append(opened)
        self._local.session = opened
        return opened

    def _run(self, sql: str, fmt: str, params: Mapping[str, Any] | None) -> bytes:
        session = self._session()
        try:
            return session.query(sql, fmt, params=_texts(params)).bytes()
        except Exception as exc:  # noqa: BLE001
            raise ClickHouseError("ClickHouse statement failed", _code_of(exc)) from exc

    def query(self, sql: str, params: Mapping[str, Any] | None = None,
              settings: Mapping[str, Any] | None = None, *, query_id: str | None = None) -> Answer:  # fmt: skip
        return _answer(self._run(_with_settings(sql, {**_JSON_OUTPUT, **(settings or {})}), "JSONCompact", params))

    def cancel(self, query_id: str) -> None:
        """chdb runs one statement at a time per session and has no KILL: the query's
        ``max_execution_time`` stops it."""

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._run(sql, "CSV", params)

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        body = _json_rows(columns, rows)
        if body:
            names = ", ".join(f"`{c}`" for c in columns)
            self._run(f"INSERT INTO {table} ({names}) FORMAT JSONEachRow\n" + body.decode(), "CSV", None)

    def use(self, database: str) -> None:
        if not DATABASE_NAME.match(database):
            raise ValueError(f"invalid database name {database!r}")
        self._database = database
        with self._lock:
            sessions = list(self._sessions)
        for session in sessions:  # sessions of other threads are idle between statements here
            session.query(f"USE {database}", "CSV")

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            try:
                session.close()
            except Exception:  # noqa: BLE001 - closing twice, or at interpreter exit
                pass


class ServerConnection:
    """A ClickHouse server over HTTP, through ``clickhouse-connect``."""

    def __init__(self, client: Any, *, settings_in_sql: bool = False) -> None:
        """Over a ``clickhouse-connect`` client (:meth:`connect` makes one for a server).

        ``settings_in_sql``: send query settings in the statement's SETTINGS clause rather
        than with the request (the driver's chdb backend applies request settings with SET
        and cannot undo ``readonly``; a server takes them per request).
        """
        self._client = client
        self._settings_in_sql = settings_in_sql

    @classmethod
    def connect(cls, host: str, port: int, username: str, password: str, secure: bool = False) -> "ServerConnection":
        try:
            import clickhouse_connect
        except ImportError as exc:  # pragma: no cover - a dependency
            raise ClickHouseError("the clickhouse-connect package is not installed") from exc
        try:
            client = clickhouse_connect.get_client(
                host=host, port=port, username=username, password=password,
                database="default", secure=secure, autogenerate_session_id=False,
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - the driver's own hierarchy
            raise ClickHouseError(f"cannot connect to ClickHouse at {host}:{port}", _code_of(exc)) from exc
        return cls(client)

    def query(self, sql: str, params: Mapping[str, Any] | None = None,
              settings: Mapping[str, Any] | None = None, *, query_id: str | None = None) -> Answer:  # fmt: skip
        extra = {"query_id": query_id} if query_id else {}
        merged = {**_JSON_OUTPUT, **(settings or {})}
        if self._settings_in_sql:
            sql, merged = _with_settings(sql, merged), {}
        try:
            payload = self._client.raw_query(sql, parameters=_driver_values(params), settings={**merged, **extra},
                                             fmt="JSONCompact")  # fmt: skip
        except Exception as exc:  # noqa: BLE001
            raise ClickHouseError("ClickHouse statement failed", _code_of(exc)) from exc
        return _answer(payload)

    def cancel(self, query_id: str) -> None:
        try:
            self._client.command("KILL QUERY WHERE query_id = {id:String} ASYNC", parameters={"id": query_id})
        except Exception:  # noqa: BLE001 - the query may have finished already
            pass

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        try:
            self._client.command(sql, parameters=_driver_values(params))
        except Exception as exc:  # noqa: BLE001
            raise ClickHouseError("ClickHouse statement failed", _code_of(exc)) from exc

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        body = _json_rows(columns, rows)
        if not body:
            return
        try:
            self._client.raw_insert(table, column_names=list(columns), insert_block=body, fmt="JSONEachRow")
        except Exception as exc:  # noqa: BLE001
            raise ClickHouseError("ClickHouse insert failed", _code_of(exc)) from exc

    def use(self, database: str) -> None:
        self._client.database = database

    def close(self) -> None:
        try:
            self._client.close()
        except Exception:  # noqa: BLE001
            pass


def connect(url: EventsUrl) -> Connection:
    """The connection an events URL names (ClickHouse engines only)."""
    if url.engine == "chdb":
        return ChdbConnection(url.path)
    if url.engine == "clickhouse":
        return ServerConnection.connect(url.host, url.port, url.username, url.password, url.secure)
    raise ValueError(f"not a ClickHouse events URL: {url.engine}")
