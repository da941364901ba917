"""Comparison, logic and null-handling functions."""

from __future__ import annotations

from sqlglot import exp

from hedgerow.hogql import types as T
from hedgerow.hogql.functions.spec import Call, common_of, fn, spec


def _binary(op: type) -> callable:
    return lambda call: exp.Paren(this=op(this=call.args[0], expression=call.args[1]))


def _negated(op: type) -> callable:
    return lambda call: exp.Not(this=exp.Paren(this=op(this=call.args[0], expression=call.args[1])))


def _if(call: Call) -> exp.Expression:
    return exp.If(this=call.args[0], true=call.args[1], false=call.args[2])


def _multi_if(call: Call) -> exp.Expression:
    args = call.args
    ifs = [exp.If(this=args[i], true=args[i + 1]) for i in range(0, len(args) - 1, 2)]
    return exp.Case(ifs=ifs, default=args[-1])


def _in(call: Call) -> exp.Expression:
    target = call.args[1]
    values = target.expressions if isinstance(target, (exp.Array, exp.Tuple)) else [target]
    return exp.In(this=call.args[0], expressions=values)


def _transform(call: Call) -> exp.Expression:
    value, sources, targets = call.args[0], call.args[1], call.args[2]
    default = call.args[3] if len(call.args) > 3 else value.copy()
    ifs = [
        exp.If(this=exp.EQ(this=value.copy(), expression=s), true=t)
        for s, t in zip(sources.expressions, targets.expressions)
    ]
    return exp.Case(ifs=ifs, default=default)


def _coalesce(call: Call) -> exp.Expression:
    return exp.Coalesce(this=call.args[0], expressions=call.args[1:])


def _is_null(call: Call) -> exp.Expression:
    return exp.Is(this=call.args[0], expression=exp.Null())


def _is_not_null(call: Call) -> exp.Expression:
    return exp.Not(this=exp.Is(this=call.args[0], expression=exp.Null()))


def _null_if(call: Call) -> exp.Expression:
    return fn("nullif", call.args[0], call.args[1])


def _coalesce_type(types):
    result = T.common(list(types))
    return result.as_nullable(all(t.nullable for t in types))


def _if_type(types):
    return T.common(list(types[1:]))


def _multi_if_type(types):
    return T.common([types[i] for i in range(1, len(types) - 1, 2)] + [types[-1]])


def _null_if_type(types):
    return types[0].as_nullable()


FUNCTIONS = [
    spec("equals", 2, returns=T.UINT8, duckdb=_binary(exp.EQ)),
    spec("notEquals", 2, returns=T.UINT8, duckdb=_binary(exp.NEQ)),
    spec("less", 2, returns=T.UINT8, duckdb=_binary(exp.LT)),
    spec("greater", 2, returns=T.UINT8, duckdb=_binary(exp.GT)),
    spec("lessOrEquals", 2, returns=T.UINT8, duckdb=_binary(exp.LTE)),
    spec("greaterOrEquals", 2, returns=T.UINT8, duckdb=_binary(exp.GTE)),
    spec("like", 2, returns=T.UINT8, duckdb=_binary(exp.Like)),
    spec("ilike", 2, returns=T.UINT8, duckdb=_binary(exp.ILike)),
    spec("notLike", 2, returns=T.UINT8, duckdb=_negated(exp.Like)),
    spec("notILike", 2, returns=T.UINT8, duckdb=_negated(exp.ILike)),
    spec("in", 2, returns=T.UINT8, duckdb=_in),
    spec("notIn", 2, returns=T.UINT8, duckdb=lambda c: exp.Not(this=_in(c))),
    spec("and", 2, None, returns=T.UINT8, duckdb=lambda c: exp.Paren(this=exp.and_(*c.args))),
    spec("or", 2, None, returns=T.UINT8, duckdb=lambda c: exp.Paren(this=exp.or_(*c.args))),
    spec("xor", 2, returns=T.UINT8, duckdb=lambda c: exp.Paren(this=exp.NEQ(
        this=exp.Cast(this=c.args[0], to=exp.DataType.build("BOOLEAN")),
        expression=exp.Cast(this=c.args[1], to=exp.DataType.build("BOOLEAN"))))),
    spec("not", 1, returns=T.UINT8, duckdb=lambda c: exp.Not(this=exp.Paren(this=c.args[0]))),
    spec("if", 3, returns=_if_type, duckdb=_if),
    spec("multiIf", 3, None, returns=_multi_if_type, duckdb=_multi_if),
    spec("transform", 3, 4, returns=common_of(3), duckdb=_transform),
    spec("isNull", 1, returns=T.UINT8, duckdb=_is_null),
    spec("isNotNull", 1, returns=T.UINT8, duckdb=_is_not_null),
    spec("coalesce", 1, None, returns=_coalesce_type, duckdb=_coalesce),
    spec("ifNull", 2, returns=_coalesce_type, duckdb=_coalesce),
    spec("nullIf", 2, returns=_null_if_type, duckdb=_null_if),
]  # fmt: skip
