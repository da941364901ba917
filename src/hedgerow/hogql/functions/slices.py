"""ClickHouse's 1-based slices, shared by ``substring`` and ``arraySlice``.

An offset counts from 1, or from the end when negative, and 0 gives an empty slice; a negative
length stops that many items before the end; the resulting range is clipped to the value.
"""

from __future__ import annotations

from typing import Callable

from sqlglot import exp

from hedgerow.hogql.functions.spec import fn, literal_value

Take = Callable[[exp.Expression, exp.Expression, exp.Expression], exp.Expression]
"""``take(value, first, count)``: the engine's slice of ``count`` items from 1-based ``first``."""


def one_based_slice(
    value: exp.Expression,
    offset: exp.Expression,
    length: exp.Expression | None,
    *,
    size: Callable[[exp.Expression], exp.Expression],
    take: Take,
) -> exp.Expression:
    """``value[offset : offset + length]`` with ClickHouse's rules (see the module)."""
    const_offset = literal_value(offset)
    const_length = literal_value(length) if length is not None else None
    if isinstance(const_offset, int) and const_offset > 0 and (
        length is None or (isinstance(const_length, int) and const_length >= 0)
    ):
        count = length if length is not None else exp.Add(this=size(value.copy()), expression=exp.Literal.number(1))
        return take(value, offset, count)
    total = size(value.copy())
    start = exp.Case(
        ifs=[exp.If(this=exp.GT(this=offset.copy(), expression=exp.Literal.number(0)), true=offset.copy())],
        default=exp.Add(this=exp.Add(this=total.copy(), expression=offset.copy()), expression=exp.Literal.number(1)),
    )
    if length is None:
        end: exp.Expression = exp.Add(this=total.copy(), expression=exp.Literal.number(1))
    else:
        end = exp.Case(
            ifs=[exp.If(
                this=exp.GTE(this=length.copy(), expression=exp.Literal.number(0)),
                true=exp.Add(this=start.copy(), expression=length.copy()),
            )],
            default=exp.Add(this=exp.Add(this=total.copy(), expression=length.copy()), expression=exp.Literal.number(1)),
        )
    first = fn("greatest", start, exp.Literal.number(1))
    last = fn("least", end, exp.Add(this=total, expression=exp.Literal.number(1)))
    count = exp.Case(
        ifs=[exp.If(this=exp.EQ(this=offset.copy(), expression=exp.Literal.number(0)), true=exp.Literal.number(0))],
        default=fn("greatest", exp.Sub(this=last, expression=first.copy()), exp.Literal.number(0)),
    )
    return take(value, first, count)
