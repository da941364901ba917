"""The state one compilation carries from stage to stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from hedgerow.hogql.context import CompileContext
from hedgerow.hogql.functions.spec import Env
from hedgerow.hogql.schema import Database, database
from hedgerow.hogql.types import HogType

PROPERTY_TYPES = {
    "Numeric": HogType("Float64", nullable=True),
    "Boolean": HogType("Bool", nullable=True),
    "DateTime": HogType("DateTime64", nullable=True),
    "String": HogType("String", nullable=True),
}


@dataclass
class Compilation:
    """Inputs, the tree being transformed, and what stages found out along the way."""

    text: str | exp.Expression
    ctx: CompileContext
    engine: str = "duckdb"
    tree: exp.Expression | None = None
    outputs: list[tuple[str, HogType]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    hogql: str = ""
    limit: int | None = None
    offset: int = 0
    paginated: bool = False
    sql: str = ""
    params: list[Any] = field(default_factory=list)
    reads: frozenset[str] = frozenset()
    actions_used: bool = False

    @property
    def database(self) -> Database:
        return database(self.ctx.persons_on_events_mode)

    @property
    def env(self) -> Env:
        return Env(
            timezone=self.ctx.timezone, week_start_day=self.ctx.week_start_day, now=self.ctx.now
        )

    def property_type(self, scope: str, name: str) -> HogType | None:
        kind = self.ctx.property_types.get((scope, name))
        return PROPERTY_TYPES.get(kind) if isinstance(kind, str) else None
