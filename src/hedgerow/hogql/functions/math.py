"""Arithmetic and mathematical functions."""

from __future__ import annotations

from sqlglot import exp

from hedgerow.hogql import types as T
from hedgerow.hogql.functions.spec import Call, common_of, fn, nullable_if_any, spec

FLOAT = nullable_if_any(T.FLOAT64)
INT = nullable_if_any(T.INT64)


def _binary(op: type) -> callable:
    return lambda call: exp.Paren(this=op(this=_whole(call.args[0]), expression=_whole(call.args[1])))


def _whole(arg: exp.Expression) -> exp.Expression:
    """An argument as one operand (``intDiv(a + 1, 2)`` is ``(a + 1) / 2``, not ``a + 1 / 2``)."""
    return exp.Paren(this=arg) if isinstance(arg, (exp.Binary, exp.Connector, exp.Not)) else arg


def _int_div(call: Call) -> exp.Expression:
    quotient = fn("trunc", exp.Div(this=_whole(call.args[0]), expression=_whole(call.args[1])))
    return exp.Cast(this=quotient, to=exp.DataType.build("BIGINT"))


def _or_zero_div(call: Call) -> exp.Expression:
    return exp.If(
        this=exp.EQ(this=call.args[1], expression=exp.Literal.number(0)),
        true=exp.Literal.number(0),
        false=_int_div(call),
    )


def _modulo_or_zero(call: Call) -> exp.Expression:
    return exp.If(
        this=exp.EQ(this=call.args[1], expression=exp.Literal.number(0)),
        true=exp.Literal.number(0),
        false=exp.Paren(this=exp.Mod(this=call.args[0], expression=call.args[1])),
    )


def _positive_modulo(call: Call) -> exp.Expression:
    a, b = call.args
    inner = exp.Paren(this=exp.Mod(this=a, expression=b))
    return exp.Paren(
        this=exp.Mod(this=exp.Paren(this=exp.Add(this=inner, expression=b)), expression=b.copy())
    )


def _round(call: Call) -> exp.Expression:
    # ClickHouse rounds a float's ties to even (banker's), an integer's away from zero.
    integral = call.types[0].is_numeric and not call.types[0].name.startswith("Float")
    return fn("round", *call.args) if integral else _round_bankers(call)


def _round_bankers(call: Call) -> exp.Expression:
    return fn("round_even", call.args[0], call.args[1] if len(call.args) > 1 else exp.Literal.number(0))


def _log(call: Call) -> exp.Expression:
    return fn("ln", call.args[0])


def _sign(call: Call) -> exp.Expression:
    return exp.Cast(this=fn("sign", call.args[0]), to=exp.DataType.build("BIGINT"))


def _if_not_finite(call: Call) -> exp.Expression:
    return exp.If(this=fn("isfinite", call.args[0]), true=call.args[0], false=call.args[1])


FUNCTIONS = [
    spec("plus", 2, returns=common_of(), duckdb=_binary(exp.Add)),
    spec("minus", 2, returns=common_of(), duckdb=_binary(exp.Sub)),
    spec("multiply", 2, returns=common_of(), duckdb=_binary(exp.Mul)),
    spec("divide", 2, returns=FLOAT, duckdb=_binary(exp.Div)),
    spec("modulo", 2, returns=INT, duckdb=_binary(exp.Mod)),
    spec("moduloOrZero", 2, returns=INT, duckdb=_modulo_or_zero),
    spec("positiveModulo", 2, returns=INT, duckdb=_positive_modulo),
    spec("intDiv", 2, returns=INT, duckdb=_int_div),
    spec("intDivOrZero", 2, returns=INT, duckdb=_or_zero_div),
    spec("negate", 1, returns=common_of(), duckdb=lambda c: exp.Neg(this=exp.Paren(this=c.args[0]))),
    spec("abs", 1, returns=common_of(), duckdb="abs"),
    spec("gcd", 2, returns=INT, duckdb="gcd"),
    spec("lcm", 2, returns=INT, duckdb="lcm"),
    *[spec(n, 1, returns=FLOAT, duckdb=d) for n, d in (
        ("exp", "exp"), ("ln", "ln"), ("log2", "log2"), ("log10", "log10"), ("sqrt", "sqrt"),
        ("cbrt", "cbrt"), ("sin", "sin"), ("cos", "cos"), ("tan", "tan"), ("asin", "asin"),
        ("acos", "acos"), ("atan", "atan"), ("sinh", "sinh"), ("cosh", "cosh"),
        ("asinh", "asinh"), ("acosh", "acosh"), ("atanh", "atanh"), ("degrees", "degrees"),
        ("radians", "radians"), ("lgamma", "lgamma"), ("tgamma", "gamma"),
    )],
    spec("log", 1, returns=FLOAT, duckdb=_log),
    spec("exp2", 1, returns=FLOAT, duckdb=lambda c: fn("pow", exp.Literal.number(2), c.args[0])),
    spec("exp10", 1, returns=FLOAT, duckdb=lambda c: fn("pow", exp.Literal.number(10), c.args[0])),
    spec("pow", 2, returns=FLOAT, duckdb="pow"),
    spec("power", 2, returns=FLOAT, duckdb="pow"),
    spec("atan2", 2, returns=FLOAT, duckdb="atan2"),
    spec("hypot", 2, returns=FLOAT, duckdb=lambda c: fn("sqrt", exp.Add(
        this=exp.Mul(this=c.args[0], expression=c.args[0].copy()),
        expression=exp.Mul(this=c.args[1], expression=c.args[1].copy())))),
    spec("sign", 1, returns=INT, duckdb=_sign),
    spec("factorial", 1, returns=INT, duckdb="factorial"),
    spec("e", 0, returns=T.FLOAT64, duckdb=lambda c: fn("exp", exp.Literal.number(1))),
    spec("pi", 0, returns=T.FLOAT64, duckdb="pi"),
    spec("floor", 1, 2, returns=common_of(), duckdb="floor"),
    spec("ceil", 1, 2, returns=common_of(), duckdb="ceil"),
    spec("ceiling", 1, 2, returns=common_of(), duckdb="ceil"),
    spec("trunc", 1, 2, returns=common_of(), duckdb="trunc"),
    spec("truncate", 1, 2, returns=common_of(), duckdb="trunc"),
    spec("round", 1, 2, returns=common_of(), duckdb=_round),
    spec("roundBankers", 1, 2, returns=common_of(), duckdb=_round_bankers),
    spec("least", 2, None, returns=common_of(), duckdb="least"),
    spec("greatest", 2, None, returns=common_of(), duckdb="greatest"),
    spec("min2", 2, returns=common_of(), duckdb="least"),
    spec("max2", 2, returns=common_of(), duckdb="greatest"),
    spec("isFinite", 1, returns=T.UINT8, duckdb="isfinite"),
    spec("isInfinite", 1, returns=T.UINT8, duckdb="isinf"),
    spec("isNaN", 1, returns=T.UINT8, duckdb="isnan"),
    spec("ifNotFinite", 2, returns=common_of(), duckdb=_if_not_finite),
]  # fmt: skip
