"""Engine dialects as data: how each target spells identifiers, parameters and types.

The renderer reads an :class:`Engine`; passes never branch on it except through the
function table's per-engine lowering (``FunctionSpec.impl[engine.name]``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Engine:
    name: str
    sqlglot_dialect: str
    identifier_quote: str
    param_style: str
    """``dollar`` for ``$1``, ``pyformat`` for ``%(hogql_val_0)s``."""


DUCKDB = Engine(name="duckdb", sqlglot_dialect="duckdb", identifier_quote='"', param_style="dollar")

ENGINES = {DUCKDB.name: DUCKDB}
