"""Arrow inputs for the writer's statements, registered once per cursor and refilled.

Registering an Arrow table on a cursor creates a view in DuckDB's catalog, and dropping it
another catalog change: about 0.3 ms and a GIL round trip each, for every input of every
commit. An :class:`ArrowInput` is registered once, under a fixed name and schema; a commit
puts its table in, runs its statements and empties it again. DuckDB reads the object's
``__arrow_c_stream__`` at each scan (its source adapter re-reads the schema on every call).

Registered views, not Python replacement scans: the instance runs with external access off
(the HogQL sandbox), which also turns replacement scans off.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import duckdb
import pyarrow as pa


class ArrowInput:
    """An Arrow table slot with a fixed schema, readable by DuckDB as a registered view."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self._empty = schema.empty_table()
        self.table: pa.Table = self._empty

    def fill(self, table: pa.Table) -> None:
        if not table.schema.equals(self.schema):
            raise ValueError(f"input schema {table.schema} is not {self.schema}")
        self.table = table

    def clear(self) -> None:
        self.table = self._empty

    def __arrow_c_schema__(self) -> Any:
        return self.schema.__arrow_c_schema__()

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self.table.__arrow_c_stream__(requested_schema)


class Inputs:
    """A cursor's registered :class:`ArrowInput` slots, by view name."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, schemas: dict[str, pa.Schema]) -> None:
        self._slots = {name: ArrowInput(schema) for name, schema in schemas.items()}
        for name, slot in self._slots.items():
            cursor.register(name, slot)

    @contextlib.contextmanager
    def filled(self, tables: dict[str, pa.Table]) -> Iterator[None]:
        """Put ``tables`` in their slots for the duration of the block, then empty them
        (so the writer does not keep a commit's data alive)."""
        try:
            for name, table in tables.items():
                self._slots[name].fill(table)
            yield
        finally:
            for name in tables:
                self._slots[name].clear()
