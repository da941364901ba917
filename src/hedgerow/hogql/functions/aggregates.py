"""Aggregate functions and their ``-If`` / ``-OrNull`` combinators.

An aggregate's lowering builds only the *core* engine aggregate; :func:`finish` then applies
the shared ClickHouse semantics: ``-If`` becomes ``FILTER (WHERE cond)``, and an aggregate over
no rows yields its type's default (0, '', epoch...) rather than NULL unless ``-OrNull``.
The core node is marked so a window (``OVER``) can be attached to it, inside the default.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from sqlglot import exp

from hedgerow.hogql import types as T
from hedgerow.hogql.errors import HogQLError
from hedgerow.hogql.functions.defaults import or_default
from hedgerow.hogql.functions.spec import Call, FunctionSpec, const, fn, literal_value, same_as
from hedgerow.hogql.types import HogType

CORE = "hog_agg_core"


def _distinct(call: Call, args: list[exp.Expression]) -> list[exp.Expression]:
    return [exp.Distinct(expressions=args)] if call.distinct else args


def finish(core: exp.Expression, call: Call, empty_default: bool) -> exp.Expression:
    """Attach the ``-If`` condition, mark the core, and default empty results."""
    core.meta[CORE] = True
    result: exp.Expression = core
    if call.condition is not None:
        result = exp.Filter(this=core, expression=exp.Where(this=call.condition))
        result.meta[CORE] = True
        core.meta.pop(CORE)
    if empty_default and not call.or_null:
        result = or_default(result, call.result)
    return result


Core = Callable[[Call], exp.Expression]


def aggregate(
    name: str,
    min_args: int,
    max_args: int | None,
    core: Core,
    returns,
    *,
    empty_default: bool = False,
    params: tuple[int, int] = (0, 0),
    wrap: Callable[[exp.Expression], exp.Expression] | None = None,
) -> FunctionSpec:
    """An aggregate row; ``wrap`` post-processes the finished aggregate (outside OVER/FILTER)."""
    if isinstance(returns, HogType):
        returns = const(returns)

    def lower(call: Call) -> exp.Expression:
        finished = finish(core(call), call, empty_default)
        return wrap(finished) if wrap is not None else finished

    return FunctionSpec(
        name=name,
        min_args=min_args,
        max_args=max_args,
        returns=returns,
        impl={"duckdb": lower},
        aggregate=True,
        min_params=params[0],
        max_params=params[1],
    )


def _count(call: Call) -> exp.Expression:
    if not call.args:
        return fn("count", exp.Star())
    return fn("count", *_distinct(call, call.args))


def _count_distinct(call: Call) -> exp.Expression:
    return fn("count", exp.Distinct(expressions=call.args))


def _approx_count_distinct(call: Call) -> exp.Expression:
    """ClickHouse's ``uniq`` is an approximate count: DuckDB's HyperLogLog (exact on tiny sets,
    within about 2% beyond); ``uniqExact``/``count(DISTINCT)`` stay exact."""
    value = call.args[0] if len(call.args) == 1 else fn("row", *call.args)
    return fn("approx_count_distinct", value)


def _simple(engine: str) -> Core:
    return lambda call: fn(engine, *_distinct(call, call.args))


def _quantile_level(call: Call) -> exp.Expression:
    level = literal_value(call.params[0]) if call.params else 0.5
    if not isinstance(level, (int, float)) or not 0 <= level <= 1:
        raise HogQLError("quantile level must be a constant between 0 and 1")
    return exp.Literal.number(level)


def _quantile(call: Call) -> exp.Expression:
    return fn("quantile_cont", call.args[0], _quantile_level(call))


def _quantiles(call: Call) -> exp.Expression:
    levels = [literal_value(p) for p in call.params]
    if not all(isinstance(v, (int, float)) for v in levels):
        raise HogQLError("quantiles levels must be constants")
    return fn("quantile_cont", call.args[0], exp.Array(expressions=[exp.Literal.number(v) for v in levels]))


def _median(call: Call) -> exp.Expression:
    return fn("quantile_cont", call.args[0], exp.Literal.number(0.5))


def _exact_quantile(level: Callable[[Call], exp.Expression]):
    """ClickHouse's quantileExact: the sorted values' element at ``floor(level * count)``, an
    actual value rather than an interpolation (DuckDB's quantile_disc picks the one below when
    ``level * count`` is whole)."""

    def lower(call: Call) -> exp.Expression:
        collected = finish(fn("list", call.args[0]), call, empty_default=False)
        present = exp.Lambda(this=exp.Not(this=exp.Is(this=exp.column("_v"), expression=exp.Null())),
                             expressions=[exp.to_identifier("_v")])
        values = fn("list_sort", fn("list_filter", collected, present))
        count = fn("len", values.copy())
        position = exp.Add(
            this=exp.Cast(this=fn("floor", exp.Mul(this=level(call), expression=count)), to=exp.DataType.build("BIGINT")),
            expression=exp.Literal.number(1),
        )
        return fn("list_extract", values, fn("least", position, count.copy()))

    return lower


def _group_array(call: Call) -> exp.Expression:
    core = fn("list", *_distinct(call, call.args[:1]))
    return core


def _group_uniq_array(call: Call) -> exp.Expression:
    return fn("list", exp.Distinct(expressions=call.args[:1]))


def _top_k(call: Call) -> exp.Expression:
    k = literal_value(call.params[0]) if call.params else 10
    if not isinstance(k, int):
        raise HogQLError("topK needs a constant integer")
    return fn("approx_top_k", call.args[0], exp.Literal.number(k))


def _string_agg(call: Call) -> exp.Expression:
    return fn("string_agg", *call.args)


def _non_null_list(aggregate: exp.Expression) -> exp.Expression:
    """ClickHouse's groupArray skips NULLs and gives ``[]`` over no rows."""
    item = exp.to_identifier("_x")
    keep = exp.Lambda(
        this=exp.Not(this=exp.Is(this=exp.column("_x"), expression=exp.Null())), expressions=[item]
    )
    return exp.Coalesce(this=fn("list_filter", aggregate, keep), expressions=[exp.Array(expressions=[])])


def _arg(engine: str) -> Core:
    return lambda call: fn(engine, call.args[0], call.args[1])


FLOAT_N = T.FLOAT64.as_nullable()
ARRAY_OF_FIRST = lambda ts: T.array_of(ts[0] if ts else T.UNKNOWN)  # noqa: E731


def _sum_type(types):
    t = types[0] if types else T.UNKNOWN
    if t.name.startswith("Float") or t.name in ("Unknown", "String"):
        return T.FLOAT64.as_nullable(t.nullable)
    if t.name.startswith("UInt"):
        return T.UINT64.as_nullable(t.nullable)
    return T.INT64.as_nullable(t.nullable)


FUNCTIONS = [
    aggregate("count", 0, 1, _count, T.UINT64),
    aggregate("countDistinct", 1, None, _count_distinct, T.UINT64),
    aggregate("uniq", 1, None, _approx_count_distinct, T.UINT64),
    aggregate("uniqExact", 1, None, _count_distinct, T.UINT64),
    aggregate("uniqHLL12", 1, None, _approx_count_distinct, T.UINT64),
    aggregate("uniqTheta", 1, None, _approx_count_distinct, T.UINT64),
    aggregate("sum", 1, 1, _simple("sum"), _sum_type, empty_default=True),
    aggregate("avg", 1, 1, _simple("avg"), FLOAT_N),
    aggregate("min", 1, 1, _simple("min"), same_as(0), empty_default=True),
    aggregate("max", 1, 1, _simple("max"), same_as(0), empty_default=True),
    aggregate("any", 1, 1, _simple("any_value"), same_as(0), empty_default=True),
    aggregate("anyLast", 1, 1, _simple("last"), same_as(0), empty_default=True),
    aggregate("anyHeavy", 1, 1, _simple("mode"), same_as(0), empty_default=True),
    aggregate("argMin", 2, 2, _arg("arg_min"), same_as(0), empty_default=True),
    aggregate("argMax", 2, 2, _arg("arg_max"), same_as(0), empty_default=True),
    aggregate("groupArray", 1, 1, _group_array, ARRAY_OF_FIRST, wrap=_non_null_list),
    aggregate("groupUniqArray", 1, 1, _group_uniq_array, ARRAY_OF_FIRST, wrap=_non_null_list),
    aggregate("array_agg", 1, 1, _group_array, ARRAY_OF_FIRST),
    aggregate("median", 1, 1, _median, FLOAT_N),
    replace(aggregate("medianExact", 1, 1, _median, same_as(0)),
            impl={"duckdb": _exact_quantile(lambda call: exp.Literal.number(0.5))}),
    aggregate("quantile", 1, 1, _quantile, FLOAT_N, params=(1, 1)),
    replace(aggregate("quantileExact", 1, 1, _quantile, same_as(0), params=(1, 1)),
            impl={"duckdb": _exact_quantile(_quantile_level)}),
    aggregate("quantiles", 1, 1, _quantiles, lambda ts: T.array_of(T.FLOAT64), params=(1, 20)),
    aggregate("topK", 1, 1, _top_k, ARRAY_OF_FIRST, params=(1, 1)),
    aggregate("stddevPop", 1, 1, _simple("stddev_pop"), FLOAT_N),
    aggregate("stddevSamp", 1, 1, _simple("stddev_samp"), FLOAT_N),
    aggregate("varPop", 1, 1, _simple("var_pop"), FLOAT_N),
    aggregate("varSamp", 1, 1, _simple("var_samp"), FLOAT_N),
    aggregate("covarPop", 2, 2, _arg("covar_pop"), FLOAT_N),
    aggregate("covarSamp", 2, 2, _arg("covar_samp"), FLOAT_N),
    aggregate("corr", 2, 2, _arg("corr"), FLOAT_N),
    aggregate("skewPop", 1, 1, _simple("skewness"), FLOAT_N),
    aggregate("kurtPop", 1, 1, _simple("kurtosis_pop"), FLOAT_N),
    aggregate("string_agg", 2, 2, _string_agg, T.NULLABLE_STRING),
    aggregate("every", 1, 1, _simple("bool_and"), T.UINT8),
    aggregate("groupBitAnd", 1, 1, _simple("bit_and"), same_as(0), empty_default=True),
    aggregate("groupBitOr", 1, 1, _simple("bit_or"), same_as(0), empty_default=True),
    aggregate("groupBitXor", 1, 1, _simple("bit_xor"), same_as(0), empty_default=True),
]  # fmt: skip
