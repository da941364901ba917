"""Tree nodes the compiler adds on top of sqlglot's, and the per-node annotations it keeps.

The resolver leaves meaning on nodes through ``node.meta``:

* ``TYPE`` (every resolved expression): its :class:`~hedgerow.hogql.types.HogType`.
* ``VTABLE`` (every storage table reference): the :class:`~hedgerow.hogql.schema.VirtualTable`
  it came from; the team guard pass keys on it and the renderer refuses tables without it.
* ``SCOPE`` (every SELECT): the :class:`~hedgerow.hogql.scope.Scope` it was resolved in.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from hedgerow.hogql import types as T
from hedgerow.hogql.types import HogType

TYPE = "hog_type"
VTABLE = "hog_vtable"
SCOPE = "hog_scope"
GUARDED = "hog_guarded"
TENANT_FREE = "hog_tenant_free"
"""A table expression with no tenant rows at all (``numbers(N)``): the renderer may print it
without a team guard."""
SOURCE = "hog_source"


class Property(exp.Expression):
    """A read of a JSON document by path: ``this`` is the JSON column, ``path`` its keys.

    ``path`` holds string keys and 1-based integer indexes; ``scope`` is the property scope
    (``event``, ``person``, ``group``, ``session``) used for typing.
    """

    arg_types = {"this": True, "path": True, "scope": False}

    @property
    def keys(self) -> list[str | int]:
        return list(self.args["path"])


def type_of(node: exp.Expression) -> HogType:
    """The inferred type of a resolved node (Unknown when the resolver left none)."""
    if node._meta is None:  # noqa: SLF001 - avoid allocating a dict for every lookup
        return T.UNKNOWN
    return node._meta.get(TYPE, T.UNKNOWN)  # noqa: SLF001


def typed(node: exp.Expression, hog_type: HogType) -> exp.Expression:
    """Annotate ``node`` with ``hog_type`` and return it."""
    node.meta[TYPE] = hog_type
    return node


def column(table_alias: str, name: str, hog_type: HogType) -> exp.Column:
    """A qualified column reference, annotated with its type."""
    col = exp.Column(
        this=exp.Identifier(this=name, quoted=True),
        table=exp.Identifier(this=table_alias, quoted=True),
    )
    return typed(col, hog_type)  # type: ignore[return-value]


class EngineParametric(exp.Expression):
    """``name(params)(args)``: a parametric aggregate as ClickHouse spells it."""

    arg_types = {"this": True, "params": True, "expressions": False}


class EngineArrayJoin(exp.Expression):
    """``[LEFT] ARRAY JOIN expr AS name, ...``: ClickHouse's own array join (``expressions``
    are aliases; ``left`` keeps rows whose arrays are empty)."""

    arg_types = {"expressions": True, "left": False}


class Value(exp.Expression):
    """A constant the compiler computed (a date, a datetime...): always a bound parameter."""

    arg_types = {"this": True}
CTE_REF = "hog_cte_ref"
INLINE = "hog_inline"
"""Marks a compiler-made string literal (a JSON path) that the renderer prints inline: the engine
needs it as a constant (GROUP BY matching, constant folding), and it never holds user values."""


def inline_string(value: str) -> exp.Literal:
    """A string literal rendered inline rather than bound (see :data:`INLINE`)."""
    literal = exp.Literal.string(value)
    literal.meta[INLINE] = True
    return literal


def constant(value: Any) -> exp.Expression:
    """A literal tree for a JSON-like constant (lists become arrays; anything else is text).

    The renderer binds every literal as a parameter, so a constant built here never becomes SQL
    text."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(value) if value >= 0 else exp.Neg(this=exp.Literal.number(-value))
    if isinstance(value, (list, tuple)):
        return exp.Array(expressions=[constant(v) for v in value])
    return exp.Literal.string(str(value))
