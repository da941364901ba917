"""HogQL: PostHog's SQL dialect, compiled to engine SQL.

Public API::

    from hedgerow.hogql import compile_hogql, CompileContext, CompiledQuery
    compiled = compile_hogql("select event, count() from events group by event",
                             CompileContext(team_id=1, timezone="Europe/Paris"))
    compiled.sql, compiled.params, compiled.columns, compiled.types

Stages (see :data:`hedgerow.hogql.compile.STAGES`): parse -> placeholders -> limits -> actions ->
cohorts -> resolve -> lazy joins -> properties -> timezone -> null semantics -> functions ->
LIMIT BY -> team guard -> render.
"""

from hedgerow.hogql.compile import compile_hogql
from hedgerow.hogql.context import (
    API_LIMITS,
    EXPORT_LIMITS,
    CompileContext,
    CompiledQuery,
    LimitContext,
)
from hedgerow.hogql.errors import HogQLError

__all__ = [
    "API_LIMITS",
    "EXPORT_LIMITS",
    "CompileContext",
    "CompiledQuery",
    "HogQLError",
    "LimitContext",
    "compile_hogql",
]
