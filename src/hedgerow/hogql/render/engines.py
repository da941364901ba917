"""Engine dialects as data: how each target spells identifiers, parameters and strings.

The renderer reads an :class:`Engine`; passes never branch on it except through the
function table's per-engine lowering (``FunctionSpec.impl[engine.name]``) and the
per-engine stages of :mod:`hedgerow.hogql.compile`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Engine:
    name: str
    sqlglot_dialect: str
    identifier_quote: str
    param_style: str
    """``dollar`` for ``$1``; ``typed`` for ClickHouse's server-side ``{p1:String}``."""
    backslash_escapes: bool = False
    """Whether a backslash escapes inside quoted strings and identifiers (ClickHouse)."""


DUCKDB = Engine(name="duckdb", sqlglot_dialect="duckdb", identifier_quote='"', param_style="dollar")
CLICKHOUSE = Engine(name="clickhouse", sqlglot_dialect="clickhouse", identifier_quote="`", param_style="typed",
                    backslash_escapes=True)  # fmt: skip

ENGINES = {engine.name: engine for engine in (DUCKDB, CLICKHOUSE)}
