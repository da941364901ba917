"""Name-resolution data: what a SELECT can see (:class:`Scope`) and where names come from
(:class:`Source`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from hedgerow.hogql.schema import LazyJoin, VirtualTable
from hedgerow.hogql.types import HogType


@dataclass
class Source:
    """One thing a SELECT reads from: a virtual table, a subquery/CTE, or a lazy join."""

    alias: str
    table: VirtualTable | None = None
    columns: dict[str, HogType] | None = None
    node: exp.Expression | None = None
    parent: "Source | None" = None
    join: LazyJoin | None = None
    on: exp.Expression | None = None
    needed: dict[str, HogType] = field(default_factory=dict)
    children: dict[str, "Source"] = field(default_factory=dict)


@dataclass
class Scope:
    """Names visible inside one SELECT."""

    sources: dict[str, Source] = field(default_factory=dict)
    ctes: dict[str, dict[str, HogType]] = field(default_factory=dict)
    expr_ctes: dict[str, exp.Expression] = field(default_factory=dict)
    aliases: dict[str, exp.Expression] = field(default_factory=dict)
    lazy: list[Source] = field(default_factory=list)
    lambda_args: set[str] = field(default_factory=set)
    defining: set[str] = field(default_factory=set)
    array_joined: dict[str, Source] = field(default_factory=dict)
    """Names an ARRAY JOIN rebinds to array elements; they win over table fields."""
