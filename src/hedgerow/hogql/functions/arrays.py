"""Array and tuple functions (1-based, like ClickHouse and DuckDB)."""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from hedgerow.hogql import types as T
from hedgerow.hogql.functions.defaults import default_value, or_default
from hedgerow.hogql.functions.slices import one_based_slice
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
    """ClickHouse's arraySlice (see :mod:`.slices`)."""

    def take(arr: exp.Expression, first: exp.Expression, count: exp.Expression) -> exp.Expression:
        last = exp.Sub(this=exp.Add(this=first.copy(), expression=count), expression=exp.Literal.number(1))
        return fn("list_slice", arr, first, last)

    return one_based_slice(
        call.args[0], call.args[1], call.args[2] if len(call.args) > 2 else None,
        size=lambda arr: fn("len", arr), take=take,
    )


def _lambda(params: list[str], body: exp.Expression) -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(p) for p in params])


def _indexed(arr: exp.Expression, body: exp.Expression) -> exp.Expression:
    """``[body(_i) for _i in 1..len(arr)]``."""
    indexes = fn("range", exp.Literal.number(1), exp.Add(this=fn("len", arr), expression=exp.Literal.number(1)))
    return fn("list_transform", indexes, _lambda(["_i"], body))


def _at(arr: exp.Expression, index: exp.Expression) -> exp.Expression:
    return fn("list_extract", arr.copy(), index)


def _cum_sum(call: Call) -> exp.Expression:
    arr = call.args[-1] if len(call.args) == 1 else fn("list_transform", call.args[1], call.args[0])
    running = fn("list_sum", fn("list_slice", arr.copy(), exp.Literal.number(1), exp.column("_i")))
    return _indexed(arr, running)


def _difference(call: Call) -> exp.Expression:
    arr = call.args[0]
    previous = exp.Sub(this=exp.column("_i"), expression=exp.Literal.number(1))
    step = exp.Case(
        ifs=[exp.If(this=exp.EQ(this=exp.column("_i"), expression=exp.Literal.number(1)), true=exp.Literal.number(0))],
        default=exp.Sub(this=_at(arr, exp.column("_i")), expression=_at(arr, previous)),
    )
    return _indexed(arr, step)


def _compact(call: Call) -> exp.Expression:
    """Consecutive duplicates dropped (NULLs compare equal, as in ClickHouse)."""
    arr = call.args[0]
    previous = exp.Sub(this=exp.column("_i"), expression=exp.Literal.number(1))
    keep = exp.or_(
        exp.EQ(this=exp.column("_i"), expression=exp.Literal.number(1)),
        exp.NullSafeNEQ(this=exp.column("_x"), expression=_at(arr, previous)),
    )
    return fn("list_filter", arr, _lambda(["_x", "_i"], keep))


def _first_index(call: Call) -> exp.Expression:
    matches = fn("list_transform", call.args[1], call.args[0])
    return exp.Coalesce(this=fn("list_position", matches, exp.true()), expressions=[exp.Literal.number(0)])


def _last_index(call: Call) -> exp.Expression:
    matches = fn("list_reverse", fn("list_transform", call.args[1], call.args[0]))
    position = fn("list_position", matches, exp.true())
    from_end = exp.Add(this=exp.Sub(this=fn("len", call.args[1].copy()), expression=position), expression=exp.Literal.number(1))
    return exp.Coalesce(this=from_end, expressions=[exp.Literal.number(0)])


def _last(call: Call) -> exp.Expression:
    last = fn("list_extract", fn("list_filter", call.args[1], call.args[0]), exp.Neg(this=exp.Literal.number(1)))
    return or_default(last, call.result)


def _pop(front: bool):
    def lower(call: Call) -> exp.Expression:
        arr = call.args[0]
        if front:
            return fn("list_slice", arr, exp.Literal.number(2), fn("len", arr.copy()))
        return fn("list_slice", arr, exp.Literal.number(1), exp.Sub(this=fn("len", arr.copy()), expression=exp.Literal.number(1)))

    return lower


def _resize(call: Call) -> exp.Expression:
    """Truncated or padded to ``size`` (from the end when negative), padding with the type's
    default or the given value."""
    arr, size = call.args[0], call.args[1]
    pad = call.args[2] if len(call.args) > 2 else default_value(_item(call.types)) or exp.Null()
    index = exp.Case(
        ifs=[exp.If(this=exp.GTE(this=size.copy(), expression=exp.Literal.number(0)), true=exp.column("_i"))],
        default=exp.Add(this=exp.Add(this=fn("len", arr.copy()), expression=size.copy()), expression=exp.column("_i")),
    )
    item = exp.Case(
        ifs=[exp.If(this=exp.LTE(this=index.copy(), expression=fn("len", arr.copy())), true=_at(arr, index))],
        default=pad,
    )
    indexes = fn("range", exp.Literal.number(1), exp.Add(this=fn("abs", size), expression=exp.Literal.number(1)))
    return fn("list_transform", indexes, _lambda(["_i"], item))


def _with_constant(call: Call) -> exp.Expression:
    indexes = fn("range", exp.Cast(this=call.args[0], to=exp.DataType.build("BIGINT")))
    return fn("list_transform", indexes, _lambda(["_i"], call.args[1]))


def _rotate(direction: int):
    def lower(call: Call) -> exp.Expression:
        arr, steps = call.args
        shift = steps if direction > 0 else exp.Neg(this=steps)
        # 1-based source index of item _i after rotating left by ``shift``
        source = exp.Add(
            this=exp.Mod(
                this=exp.Paren(this=exp.Add(
                    this=exp.Mod(
                        this=exp.Paren(this=exp.Add(this=exp.Sub(this=exp.column("_i"), expression=exp.Literal.number(1)), expression=shift)),
                        expression=fn("len", arr.copy()),
                    ),
                    expression=fn("len", arr.copy()),
                )),
                expression=fn("len", arr.copy()),
            ),
            expression=exp.Literal.number(1),
        )
        return _indexed(arr, _at(arr, source))

    return lower


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


def _sort(descending: bool):
    """``arraySort([func,] arr)``: by value, or by ``func(x)`` keeping ties in array order."""

    def lower(call: Call) -> exp.Expression:
        if len(call.args) == 1:
            return fn("list_reverse_sort" if descending else "list_sort", call.args[0])
        func, arr = call.args[0], call.args[1]
        key = fn("list_extract", fn("list_transform", exp.Array(expressions=[exp.column("_x")]), func), exp.Literal.number(1))
        entry = fn("row", key, exp.column("_i"), exp.column("_x"))  # sorts by key, then position
        entries = fn("list_transform", arr, _lambda(["_x", "_i"], entry))
        ordered = fn("list_reverse_sort" if descending else "list_sort", entries)
        value = fn("struct_extract", exp.column("_e"), exp.Literal.number(3))
        return fn("list_transform", ordered, _lambda(["_e"], value))

    return lower


def _intersect(call: Call) -> exp.Expression:
    """Distinct items of the first array present in every other one, in first-seen order."""
    present = [fn("list_contains", other, exp.column("_x")) for other in call.args[1:]]
    keep = exp.and_(*present) if present else exp.true()
    return _distinct(replace(call, args=[fn("list_filter", call.args[0], _lambda(["_x"], keep))]))


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
    spec("arraySort", 1, 2, returns=same_as(-1), duckdb=_sort(descending=False)),
    spec("arrayReverseSort", 1, 2, returns=same_as(-1), duckdb=_sort(descending=True)),
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
    spec("arrayCumSum", 1, 2, returns=same_as(-1), duckdb=_cum_sum),
    spec("arrayDifference", 1, returns=same_as(0), duckdb=_difference),
    spec("arrayCompact", 1, returns=same_as(0), duckdb=_compact),
    spec("arrayProduct", 1, returns=T.FLOAT64, duckdb=lambda c: exp.Cast(this=fn("list_product", c.args[0]), to=exp.DataType.build("DOUBLE"))),
    spec("arrayFirstIndex", 2, returns=T.UINT64, duckdb=_first_index),
    spec("arrayLastIndex", 2, returns=T.UINT64, duckdb=_last_index),
    spec("arrayLast", 2, returns=_array_arg_item(1), duckdb=_last),
    spec("arrayPopBack", 1, returns=same_as(0), duckdb=_pop(front=False)),
    spec("arrayPopFront", 1, returns=same_as(0), duckdb=_pop(front=True)),
    spec("arrayResize", 2, 3, returns=same_as(0), duckdb=_resize),
    spec("arrayWithConstant", 2, returns=lambda ts: T.array_of(ts[1]), duckdb=_with_constant),
    spec("arrayRotateLeft", 2, returns=same_as(0), duckdb=_rotate(1)),
    spec("arrayRotateRight", 2, returns=same_as(0), duckdb=_rotate(-1)),
    spec("arrayIntersect", 1, None, returns=same_as(0), duckdb=_intersect),
    spec("tupleElement", 2, 3, returns=T.UNKNOWN, duckdb=_tuple_element),
    spec("tuple", 1, None, returns=lambda ts: T.HogType("Tuple"), duckdb=lambda c: exp.Tuple(expressions=c.args)),
]  # fmt: skip
