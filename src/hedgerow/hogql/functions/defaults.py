"""ClickHouse type defaults (what non-Nullable aggregates and frames yield instead of NULL)."""

from __future__ import annotations

from sqlglot import exp

from hedgerow.hogql.types import HogType


def default_value(hog_type: HogType) -> exp.Expression | None:
    """The engine expression for ``hog_type``'s default, or None when NULL is right."""
    if hog_type.nullable:
        return None
    name = hog_type.name
    if hog_type.is_numeric:
        return exp.Literal.number(0)
    if name == "String":
        return exp.Literal.string("")
    if name == "Bool":
        return exp.Boolean(this=False)
    if name == "DateTime64":
        return exp.Cast(this=exp.Literal.string("1970-01-01 00:00:00"), to=exp.DataType.build("TIMESTAMP"))
    if name == "Date":
        return exp.Cast(this=exp.Literal.string("1970-01-01"), to=exp.DataType.build("DATE"))
    if name == "UUID":
        return exp.Cast(
            this=exp.Literal.string("00000000-0000-0000-0000-000000000000"),
            to=exp.DataType.build("UUID"),
        )
    return None


def or_default(expression: exp.Expression, hog_type: HogType) -> exp.Expression:
    """``coalesce(expression, default)`` when ``hog_type`` has a non-NULL default."""
    default = default_value(hog_type)
    if default is None:
        return expression
    return exp.Coalesce(this=expression, expressions=[default])
