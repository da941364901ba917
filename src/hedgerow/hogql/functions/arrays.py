"""Array and tuple functions (1-based, like ClickHouse and DuckDB)."""

from __future__ import annotations

from sqlglot import exp

from hedgerow.hogql import types as T
from hedgerow.hogql.functions.defaults import or_default
from hedgerow.hogql.errors import HogQLError
from hedgerow.hogql.functions.spec import Call, fn, literal_value, same_as, spec
from hedgerow.hogql.types import HogType


def _item(types) -> HogType:
    arr = types[0] if types else T.UNKNOWN
    return arr.item if arr.name == "Array" and arr.item is not None else T.UNKNOWN


def _array_arg_item(index: int):
    def rule(types):
        arr = types[index] if len(types) > index else T.UNKNOWN
        return arr.item if arr.name == "Array" and arr.item is not None else T.UNKNOWN

    return rule


def _array(call: Call) -> exp.Expression:
    return exp.Array(expressions=call.args)


def _lambda_then_array(engine: str):
    return lambda call: fn(engine, call.args[1], call.args[0])


def _exists(call: Call) -> exp.Expression:
    filtered = fn("list_filter", call.args[1], call.args[0])
    return exp.GT(this=fn("len", filtered), expression=exp.Literal.number(0))


def _all(call: Call) -> exp.Expression:
    filtered = fn("list_filter", call.args[1], call.args[0])
    return exp.EQ(this=fn("len", filtered), expression=fn("len", call.args[1].copy()))


def _count(call: Call) -> exp.Expression:
    if len(call.args) == 1:
        return fn("len", fn("list_filter", call.args[0], exp.Lambda(
            this=exp.column("_x"), expressions=[exp.to_identifier("_x")])))
    return fn("len", fn("list_filter", call.args[1], call.args[0]))


def _first(call: Call) -> exp.Expression:
    first = fn("list_extract", fn("list_filter", call.args[1], call.args[0]), exp.Literal.number(1))
    return or_default(first, call.result)


def element(array: exp.Expression, index: exp.Expression, result: HogType) -> exp.Expression:
    """``array[index]``, 1-based, negative from the end; out of range gives the type default."""
    return or_default(fn("list_extract", array, index), result)


def _element(call: Call) -> exp.Expression:
    return element(call.args[0], call.args[1], call.result)


def _index_of(call: Call) -> exp.Expression:
    return exp.Coalesce(this=fn("list_position", *call.args), expressions=[exp.Literal.number(0)])


def _slice(call: Call) -> exp.Expression:
    arr, offset = call.args[0], call.args[1]
    if len(call.args) > 2:
        end = exp.Sub(this=exp.Add(this=offset.copy(), expression=call.args[2]), expression=exp.Literal.number(1))
    else:
        end = fn("len", arr.copy())
    return fn("list_slice", arr, offset, end)


def _enumerate(call: Call) -> exp.Expression:
    return fn("range", exp.Literal.number(1), exp.Add(this=fn("len", call.args[0]), expression=exp.Literal.number(1)))


def _sum(call: Call) -> exp.Expression:
    return exp.Coalesce(this=fn("list_sum", call.args[-1] if len(call.args) == 1 else fn("list_transform", call.args[1], call.args[0])), expressions=[exp.Literal.number(0)])


def _concat(call: Call) -> exp.Expression:
    return fn("flatten", exp.Array(expressions=call.args))


def _range(call: Call) -> exp.Expression:
    return fn("range", *call.args)


def _count_equal(call: Call) -> exp.Expression:
    lam = exp.Lambda(this=exp.EQ(this=exp.column("_x"), expression=call.args[1]), expressions=[exp.to_identifier("_x")])
    return fn("len", fn("list_filter", call.args[0], lam))


def _has(call: Call) -> exp.Expression:
    # list_position finds NULL too (has([1, NULL], NULL) = 1) and misses give NULL, not NULL
    # propagation from a NULL needle (has([1, 2], NULL) = 0), as in ClickHouse.
    return exp.Not(this=exp.Is(this=fn("list_position", *call.args), expression=exp.Null()))


def _distinct(call: Call) -> exp.Expression:
    """Distinct non-NULL items in first-seen order (DuckDB's list_distinct reorders)."""
    arr = call.args[0]
    first_seen = exp.and_(
        exp.EQ(this=fn("list_position", arr.copy(), exp.column("_x")), expression=exp.column("_i")),
        exp.Not(this=exp.Is(this=exp.column("_x"), expression=exp.Null())),
    )
    lam = exp.Lambda(this=first_seen, expressions=[exp.to_identifier("_x"), exp.to_identifier("_i")])
    return fn("list_filter", arr, lam)


def _tuple_element(call: Call) -> exp.Expression:
    index = literal_value(call.args[1])
    if not isinstance(index, int) or index < 1:
        raise HogQLError("tupleElement needs a constant 1-based index")
    return fn("struct_extract", call.args[0], exp.Literal.number(index))


ARRAY = lambda types: T.array_of(T.common(list(types)) if types else T.NOTHING)  # noqa: E731

FUNCTIONS = [
    spec("array", 0, None, returns=ARRAY, duckdb=_array),
    spec("range", 1, 3, returns=T.array_of(T.UINT64), duckdb=_range),
    spec("has", 2, returns=T.UINT8, duckdb=_has),
    spec("hasAll", 2, returns=T.UINT8, duckdb="list_has_all"),
    spec("hasAny", 2, returns=T.UINT8, duckdb="list_has_any"),
    spec("indexOf", 2, returns=T.UINT64, duckdb=_index_of),
    spec("arrayElement", 2, returns=_item, duckdb=_element),
    spec("arrayConcat", 1, None, returns=same_as(0), duckdb=_concat),
    spec("arrayMap", 2, returns=lambda ts: T.array_of(T.UNKNOWN), duckdb=_lambda_then_array("list_transform")),
    spec("arrayFilter", 2, returns=same_as(1), duckdb=_lambda_then_array("list_filter")),
    spec("arrayExists", 2, returns=T.UINT8, duckdb=_exists),
    spec("arrayAll", 2, returns=T.UINT8, duckdb=_all),
    spec("arrayFirst", 2, returns=_array_arg_item(1), duckdb=_first),
    spec("arraySort", 1, returns=same_as(0), duckdb="list_sort"),
    spec("arrayReverseSort", 1, returns=same_as(0), duckdb="list_reverse_sort"),
    spec("arrayReverse", 1, returns=same_as(0), duckdb="list_reverse"),
    spec("arrayDistinct", 1, returns=same_as(0), duckdb=_distinct),
    spec("arrayUniq", 1, returns=T.UINT64, duckdb=lambda c: fn("len", fn("list_distinct", c.args[0]))),
    spec("arrayCount", 1, 2, returns=T.UINT64, duckdb=_count),
    spec("arraySum", 1, 2, returns=lambda ts: T.FLOAT64 if any(t.item and t.item.name.startswith("Float") for t in ts) else T.INT64, duckdb=_sum),
    spec("arrayAvg", 1, returns=T.FLOAT64, duckdb="list_avg"),
    spec("arrayMin", 1, returns=_item, duckdb="list_min"),
    spec("arrayMax", 1, returns=_item, duckdb="list_max"),
    spec("arraySlice", 2, 3, returns=same_as(0), duckdb=_slice),
    spec("arrayPushBack", 2, returns=same_as(0), duckdb="list_append"),
    spec("arrayPushFront", 2, returns=same_as(0), duckdb=lambda c: fn("list_prepend", c.args[1], c.args[0])),
    spec("arrayFlatten", 1, returns=lambda ts: ts[0].item or T.UNKNOWN, duckdb="flatten"),
    spec("arrayZip", 2, None, returns=lambda ts: T.array_of(T.UNKNOWN), duckdb="list_zip"),
    spec("arrayEnumerate", 1, returns=T.array_of(T.UINT64), duckdb=_enumerate),
    spec("arrayJoin", 1, returns=_item, duckdb="unnest"),
    spec("countEqual", 2, returns=T.UINT64, duckdb=_count_equal),
    spec("tupleElement", 2, 3, returns=T.UNKNOWN, duckdb=_tuple_element),
    spec("tuple", 1, None, returns=lambda ts: T.HogType("Tuple"), duckdb=lambda c: exp.Tuple(expressions=c.args)),
]  # fmt: skip
