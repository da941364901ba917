"""JSON functions over JSON text (``JSONExtract*`` with variadic key paths)."""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from hedgerow.hogql import types as T
from hedgerow.hogql.errors import HogQLError
from hedgerow.hogql.functions.spec import Call, fn, literal_value, spec
from hedgerow.hogql.nodes import inline_string
from hedgerow.hogql.types import HogType


def pointer_segment(key: str | int) -> str:
    """One JSON-pointer segment: 1-based ints become array indexes, ``~``/``/`` are escaped."""
    if isinstance(key, int):
        return str(key - 1) if key > 0 else str(key)
    return key.replace("~", "~0").replace("/", "~1")


def json_pointer(keys: list) -> str:
    return "".join("/" + pointer_segment(k) for k in keys)


def json_path(keys: list) -> str:
    """A JSONPath for keys with negative (from the end) indexes, which pointers cannot express."""
    parts = ["$"]
    for key in keys:
        if isinstance(key, int):
            parts.append(f"[{key - 1}]" if key > 0 else f"[#{key}]")
        else:
            parts.append(f'."{key}"')
    return "".join(parts)


def pointer(call: Call, start: int = 1) -> exp.Expression:
    """The path arguments of a JSONExtract* call as one JSON-pointer expression."""
    keys = call.args[start:]
    values = [literal_value(k) for k in keys]
    if all(isinstance(v, (str, int)) for v in values):
        if any(isinstance(v, int) and v < 0 for v in values) and not any(
            isinstance(v, str) and ('"' in v or "\\" in v) for v in values
        ):
            return inline_string(json_path(values))
        return inline_string(json_pointer(values))
    parts: exp.Expression = exp.Literal.string("")
    for key in keys:
        escaped = fn(
            "replace",
            fn("replace", exp.Cast(this=key, to=exp.DataType.build("VARCHAR")), exp.Literal.string("~"), exp.Literal.string("~0")),
            exp.Literal.string("/"),
            exp.Literal.string("~1"),
        )
        parts = exp.DPipe(this=exp.DPipe(this=parts, expression=exp.Literal.string("/")), expression=escaped)
    return parts


def doc(call: Call) -> exp.Expression:
    """The call's JSON document; text that is not JSON reads as missing (ClickHouse gives the
    default), where the engine would fail the whole query. Stored JSON columns are valid."""
    value = call.args[0].copy()
    if call.types[0].name == "JSON":
        return value
    return exp.Case(ifs=[exp.If(this=fn("json_valid", value.copy()), true=value)], default=exp.Null())


def _string(call: Call) -> exp.Expression:
    value = fn("json_extract_string", doc(call), pointer(call))
    return exp.Coalesce(this=value, expressions=[exp.Literal.string("")])


def _typed(duck_type: str):
    def lower(call: Call) -> exp.Expression:
        raw = fn("json_extract_string", doc(call), pointer(call))
        value: exp.Expression = exp.TryCast(this=raw, to=exp.DataType.build(duck_type, dialect="duckdb"))
        if duck_type != "DOUBLE":  # ClickHouse truncates a fractional number to an integer
            kind = fn("json_type", doc(call), pointer(call))
            truncated = exp.TryCast(
                this=fn("trunc", exp.TryCast(this=raw.copy(), to=exp.DataType.build("DOUBLE"))),
                to=exp.DataType.build(duck_type, dialect="duckdb"),
            )
            value = exp.Case(
                ifs=[exp.If(this=exp.EQ(this=kind, expression=exp.Literal.string("DOUBLE")), true=truncated)],
                default=value,
            )
        return exp.Coalesce(this=value, expressions=[exp.Literal.number(0)])

    return lower


def _bool(call: Call) -> exp.Expression:
    """1 for JSON ``true`` or a non-zero integer, else 0 (ClickHouse's JSONExtractBool)."""
    raw = fn("json_extract_string", doc(call), pointer(call))
    kind = fn("json_type", doc(call), pointer(call))
    truth = exp.Case(
        ifs=[
            exp.If(this=exp.EQ(this=kind, expression=exp.Literal.string("BOOLEAN")),
                   true=exp.EQ(this=raw, expression=exp.Literal.string("true"))),
            exp.If(this=exp.In(this=kind.copy(), expressions=[exp.Literal.string("BIGINT"), exp.Literal.string("UBIGINT")]),
                   true=exp.NEQ(this=raw.copy(), expression=exp.Literal.string("0"))),
        ],
        default=exp.false(),
    )
    return exp.Cast(
        this=exp.Coalesce(this=truth, expressions=[exp.false()]),
        to=exp.DataType.build("UTINYINT", dialect="duckdb"),
    )


def _length(call: Call) -> exp.Expression:
    """Keys of an object, items of an array, else 0 (ClickHouse's JSONLength)."""
    kind = fn("json_type", doc(call), pointer(call))
    return exp.Case(
        ifs=[
            exp.If(this=exp.EQ(this=kind, expression=exp.Literal.string("OBJECT")),
                   true=fn("len", fn("json_keys", doc(call), pointer(call)))),
            exp.If(this=exp.EQ(this=kind.copy(), expression=exp.Literal.string("ARRAY")),
                   true=fn("json_array_length", doc(call), pointer(call))),
        ],
        default=exp.Literal.number(0),
    )


def _raw(call: Call) -> exp.Expression:
    value = exp.Cast(this=fn("json_extract", doc(call), pointer(call)), to=exp.DataType.build("VARCHAR"))
    return exp.Coalesce(this=value, expressions=[exp.Literal.string("")])


def _has(call: Call) -> exp.Expression:
    return exp.Not(this=exp.Is(this=fn("json_extract", doc(call), pointer(call)), expression=exp.Null()))


def _array_length(call: Call) -> exp.Expression:
    return fn("json_array_length", doc(call), pointer(call))


def _keys(call: Call) -> exp.Expression:
    return fn("json_keys", doc(call), pointer(call))


def _array_raw(call: Call) -> exp.Expression:
    sub = fn("json_extract", doc(call), pointer(call))
    items = exp.Cast(this=fn("from_json", sub, exp.Literal.string('["json"]')), to=exp.DataType.build("VARCHAR[]"))
    return exp.Case(  # anything but an array gives []
        ifs=[exp.If(this=exp.EQ(this=fn("json_type", doc(call), pointer(call)), expression=exp.Literal.string("ARRAY")), true=items)],
        default=exp.Cast(this=exp.Array(expressions=[]), to=exp.DataType.build("VARCHAR[]")),
    )

# DuckDB calls every non-negative integer UBIGINT; ClickHouse says Int64 up to Int64's maximum.

_JSON_TYPE_NAMES = {
    "OBJECT": "Object", "ARRAY": "Array", "VARCHAR": "String", "BIGINT": "Int64",
    "UBIGINT": "Int64", "DOUBLE": "Double", "BOOLEAN": "Bool", "NULL": "Null",
}  # fmt: skip


def _type(call: Call) -> exp.Expression:
    kind = fn("json_type", doc(call), pointer(call))
    ifs = [
        exp.If(this=exp.EQ(this=kind.copy(), expression=exp.Literal.string(k)), true=exp.Literal.string(v))
        for k, v in _JSON_TYPE_NAMES.items()
    ]
    return exp.Case(ifs=ifs, default=exp.Null())


_SCALARS = {
    "String": (T.STRING, _string), "Bool": (T.UINT8, _bool), "UInt8": (T.UINT8, _typed("UTINYINT")),
    "Int8": (HogType("Int8"), _typed("TINYINT")), "Int16": (HogType("Int16"), _typed("SMALLINT")),
    "Int32": (HogType("Int32"), _typed("INTEGER")), "Int64": (T.INT64, _typed("BIGINT")),
    "UInt16": (HogType("UInt16"), _typed("USMALLINT")), "UInt32": (HogType("UInt32"), _typed("UINTEGER")),
    "UInt64": (T.UINT64, _typed("UBIGINT")), "Float32": (HogType("Float32"), _typed("FLOAT")),
    "Float64": (T.FLOAT64, _typed("DOUBLE")),
}  # fmt: skip


def _target(args, what: str = "JSONExtract") -> tuple[str, bool]:
    """The ClickHouse type named by a JSONExtract call's last argument, and whether Nullable."""
    name = literal_value(args[-1]) if args else None
    if not isinstance(name, str):
        raise HogQLError(f"{what} needs a constant type name as its last argument")
    name = name.strip()
    nullable = name.startswith("Nullable(") and name.endswith(")")
    inner = name[len("Nullable("):-1] if nullable else name
    if inner not in _SCALARS:
        raise HogQLError(f"{what} does not support the type '{name}'")
    return inner, nullable


def _extract_type(args, types) -> HogType:
    inner, nullable = _target(args)
    return _SCALARS[inner][0].as_nullable(nullable)


def _extract(call: Call) -> exp.Expression:
    """``JSONExtract(json, path..., 'Type')``: the typed extractor; Nullable types keep NULL
    where the value is missing or of another type."""
    inner, nullable = _target(call.args)
    lowering = _SCALARS[inner][1]
    path_call = replace(call, args=call.args[:-1], types=call.types[:-1])
    value = lowering(path_call)
    if not nullable:
        return value
    kind = fn("json_type", doc(path_call), pointer(path_call))
    wanted = _KINDS[inner]
    return exp.Case(ifs=[exp.If(this=exp.In(this=kind, expressions=[exp.Literal.string(k) for k in wanted]), true=value)], default=exp.Null())


_NUMBER_KINDS = ("BIGINT", "UBIGINT", "DOUBLE")
_KINDS = {name: ("VARCHAR",) if name == "String" else ("BOOLEAN",) if name == "Bool" else _NUMBER_KINDS for name in _SCALARS}


def _json_value(call: Call) -> exp.Expression:
    """``JSON_VALUE(json, '$.path')``: a scalar as text, '' when missing or not a scalar."""
    value = fn("json_extract_string", doc(call), call.args[1])
    scalar = exp.Not(this=exp.In(this=fn("json_type", doc(call), call.args[1].copy()), expressions=[exp.Literal.string("OBJECT"), exp.Literal.string("ARRAY")]))
    return exp.Coalesce(this=exp.Case(ifs=[exp.If(this=scalar, true=value)], default=exp.Null()), expressions=[exp.Literal.string("")])


FUNCTIONS = [
    spec("JSONExtractString", 1, None, returns=T.STRING, duckdb=_string),
    spec("JSONExtractInt", 1, None, returns=T.INT64, duckdb=_typed("BIGINT")),
    spec("JSONExtractUInt", 1, None, returns=T.UINT64, duckdb=_typed("UBIGINT")),
    spec("JSONExtractFloat", 1, None, returns=T.FLOAT64, duckdb=_typed("DOUBLE")),
    spec("JSONExtractBool", 1, None, returns=T.UINT8, duckdb=_bool),
    spec("JSONExtractRaw", 1, None, returns=T.STRING, duckdb=_raw),
    spec("JSONHas", 1, None, returns=T.UINT8, duckdb=_has),
    spec("JSONLength", 1, None, returns=T.UINT64, duckdb=_length),
    spec("JSONArrayLength", 1, None, returns=T.UINT64.as_nullable(), duckdb=_array_length),
    spec("JSONType", 1, None, returns=T.NULLABLE_STRING, duckdb=_type),
    spec("JSONExtractKeys", 1, None, returns=T.array_of(T.STRING), duckdb=_keys),
    spec("JSONExtractArrayRaw", 1, None, returns=T.array_of(T.STRING), duckdb=_array_raw),
    spec("isValidJSON", 1, returns=T.UINT8, duckdb="json_valid"),
    replace(spec("JSONExtract", 2, None, duckdb=_extract), typed_by_args=_extract_type),
    spec("JSON_VALUE", 2, returns=T.STRING, duckdb=_json_value),
]  # fmt: skip
