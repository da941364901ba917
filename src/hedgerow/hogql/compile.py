"""The public entry: HogQL text in, engine SQL with bound parameters out.

The pipeline is the ordered list :data:`STAGES`; each stage is a module with one decision.
"""

from __future__ import annotations

from typing import Callable

from sqlglot import exp

from hedgerow.hogql.compilation import Compilation
from hedgerow.hogql.context import CompileContext, CompiledQuery
from hedgerow.hogql.dialect import HogQL
from hedgerow.hogql.errors import HogQLError, HogQLInternalError
from hedgerow.hogql.parse import check, parse
from hedgerow.hogql.passes import (
    actions,
    cohorts,
    constant_keys,
    functions,
    lazy_tables,
    limit_by,
    limits,
    native,
    null_semantics,
    placeholders,
    properties,
    reads,
    rollup,
    team_guard,
    timezone,
)
from hedgerow.hogql.render.engines import ENGINES
from hedgerow.hogql.render.render import render
from hedgerow.hogql.resolve import resolve


def _parse(c: Compilation) -> None:
    c.tree = parse(c.text) if isinstance(c.text, str) else check(c.text.copy())


def _print_hogql(c: Compilation) -> None:
    c.hogql = c.tree.sql(HogQL)


def _resolve(c: Compilation) -> None:
    c.outputs = resolve(c.tree, c.database, c.property_type)
    c.columns = [name for name, _ in c.outputs]


def _render(c: Compilation) -> None:
    c.sql, c.params = render(c.tree, ENGINES[c.engine])


Stage = Callable[[Compilation], None]


def _per_engine(duckdb: Stage | None, clickhouse: Stage | None) -> Stage:
    """A stage whose decision differs by engine (``None``: nothing to do there)."""

    def stage(c: Compilation) -> None:
        chosen = clickhouse if c.engine == "clickhouse" else duckdb
        if chosen is not None:
            chosen(c)

    stage.__name__ = getattr(duckdb or clickhouse, "__module__", "stage").rsplit(".", 1)[-1]
    return stage


STAGES: tuple[Stage, ...] = (
    _parse,
    placeholders.run,
    limits.run,
    _print_hogql,
    actions.run,
    cohorts.run,
    _resolve,
    lazy_tables.run,
    _per_engine(properties.run, native.properties),
    timezone.run,
    null_semantics.run,
    _per_engine(functions.run, native.functions),
    rollup.run,
    _per_engine(limits.guard_sizes, None),  # ClickHouse bounds memory itself (query settings)
    constant_keys.run,
    limit_by.run,
    team_guard.run,
    limits.fetch_one_more,
    reads.run,
    _per_engine(None, native.array_joins),
    _render,
)
"""The compiler, in order: parse, expand, resolve, decide (passes), render."""


def compile_hogql(
    text: str | exp.Expression, ctx: CompileContext, *, engine: str = "duckdb"
) -> CompiledQuery:
    """Compile one HogQL query for ``ctx``'s project.

    ``engine`` is ``duckdb`` or ``clickhouse``; both share every stage but the lowering.
    ``text`` is HogQL text, or a HogQL tree the server assembled from parsed pieces (query
    kinds such as EventsQuery); a tree goes through the same node allow-list as text.

    Raises a :class:`~hedgerow.hogql.errors.HogQLError` (HTTP 400) for any problem with the
    query; any other failure is a compiler bug and surfaces as :class:`HogQLInternalError`.
    """
    c = Compilation(text=text, ctx=ctx, engine=engine)
    try:
        for stage in STAGES:
            stage(c)
    except HogQLError:
        raise
    except RecursionError:
        raise HogQLError("The query is too deeply nested.") from None
    except Exception as exc:  # a bug: never show its message to the user
        raise HogQLInternalError(f"HogQL compilation failed: {type(exc).__name__}") from exc
    tz = ctx.output_timezone
    return CompiledQuery(
        sql=c.sql,
        params=tuple(c.params),
        columns=tuple(c.columns),
        types=tuple((name, hog_type.clickhouse(tz)) for name, hog_type in c.outputs),
        hogql=c.hogql,
        timezone=tz,
        limit=c.limit,
        offset=c.offset,
        paginated=c.paginated,
        reads=c.reads,
    )


__all__ = ["compile_hogql", "STAGES", "exp"]
