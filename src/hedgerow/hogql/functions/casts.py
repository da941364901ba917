"""``CAST`` and the ``to<Type>`` conversion family (NULL on failure, like ``accurateCastOrNull``)."""

from __future__ import annotations

from sqlglot import exp

from hedgerow.hogql import types as T
from hedgerow.hogql.functions.local_time import to_local
from hedgerow.hogql.functions.spec import Call, fn, nullable_if_any, same_as, spec
from hedgerow.hogql.types import HogType

_D = exp.DataType.Type

_FROM_DTYPE: dict = {
    _D.TEXT: T.STRING, _D.VARCHAR: T.STRING, _D.CHAR: T.STRING,
    _D.BIGINT: T.INT64, _D.INT: HogType("Int32"), _D.SMALLINT: HogType("Int16"),
    _D.TINYINT: HogType("Int8"), _D.UBIGINT: T.UINT64, _D.UINT: HogType("UInt32"),
    _D.USMALLINT: HogType("UInt16"), _D.UTINYINT: T.UINT8, _D.DOUBLE: T.FLOAT64,
    _D.FLOAT: HogType("Float32"), _D.DATE: T.DATE, _D.DATE32: T.DATE,
    _D.DATETIME: T.DATETIME, _D.DATETIME64: T.DATETIME, _D.TIMESTAMP: T.DATETIME,
    _D.UUID: T.UUID, _D.BOOLEAN: T.BOOL, _D.DECIMAL: T.FLOAT64,
}  # fmt: skip


def cast_target_type(to: exp.DataType, source: HogType) -> HogType:
    """HogQL type of ``CAST(x AS to)``."""
    nullable = bool(to.args.get("nullable"))
    dtype = to.this
    if dtype == getattr(_D, "NULLABLE", None) and to.expressions:
        return cast_target_type(to.expressions[0], source).as_nullable()
    target = _FROM_DTYPE.get(dtype, T.UNKNOWN)
    return target.as_nullable(nullable or source.nullable)


def engine_type(hog_type: HogType) -> exp.DataType:
    """DuckDB column type for a HogQL type."""
    names = {
        "String": "VARCHAR", "Int64": "BIGINT", "Int32": "INTEGER", "Int16": "SMALLINT",
        "Int8": "TINYINT", "UInt64": "UBIGINT", "UInt32": "UINTEGER", "UInt16": "USMALLINT",
        "UInt8": "UTINYINT", "Float64": "DOUBLE", "Float32": "FLOAT", "Date": "DATE",
        "DateTime64": "TIMESTAMP", "UUID": "UUID", "Bool": "BOOLEAN",
    }  # fmt: skip
    return exp.DataType.build(names.get(hog_type.name, "VARCHAR"))


def try_cast(value: exp.Expression, duck_type: str) -> exp.Expression:
    return exp.TryCast(this=value, to=exp.DataType.build(duck_type))


def _to_string(call: Call) -> exp.Expression:
    value, hog_type = call.args[0], call.types[0]
    if hog_type.is_datetime:
        local = to_local(call.env, value, hog_type)
        return fn("strftime", local, exp.Literal.string("%Y-%m-%d %H:%M:%S"))
    text = exp.Cast(this=value, to=exp.DataType.build("VARCHAR"))
    if hog_type.name.startswith("Float"):  # ClickHouse prints 1.0 as '1'
        return fn("regexp_replace", text, exp.Literal.string(r"\.0$"), exp.Literal.string(""))
    return text


def _to_int(call: Call) -> exp.Expression:
    value, hog_type = call.args[0], call.types[0]
    if hog_type.is_numeric or hog_type.name == "Unknown":
        value = fn("trunc", value) if not hog_type.name.startswith(("Int", "UInt")) else value
    elif hog_type.is_string:
        value = exp.If(
            this=fn("regexp_full_match", fn("trim", value), exp.Literal.string(r"-?[0-9]+")),
            true=value,
            false=exp.Null(),
        )
    return try_cast(value, "BIGINT")


def _or_zero(inner) -> callable:
    return lambda call: exp.Coalesce(this=inner(call), expressions=[exp.Literal.number(0)])


def _to_float(call: Call) -> exp.Expression:
    return try_cast(call.args[0], "DOUBLE")


def _to_float_or_default(call: Call) -> exp.Expression:
    default = call.args[1] if len(call.args) > 1 else exp.Literal.number(0)
    return exp.Coalesce(this=_to_float(call), expressions=[default])


def _to_decimal(call: Call) -> exp.Expression:
    return try_cast(call.args[0], "DOUBLE")


def _to_bool(call: Call) -> exp.Expression:
    return try_cast(call.args[0], "BOOLEAN")


def _to_uuid(call: Call) -> exp.Expression:
    return try_cast(call.args[0], "UUID")


def _to_uuid_or_default(call: Call) -> exp.Expression:
    return exp.Coalesce(this=_to_uuid(call), expressions=[try_cast(call.args[1], "UUID")])


def _type_name(call: Call) -> exp.Expression:
    return exp.Literal.string(call.types[0].clickhouse(call.env.timezone))


FUNCTIONS = [
    spec("toString", 1, returns=nullable_if_any(T.STRING), duckdb=_to_string),
    spec("toInt", 1, returns=T.INT64.as_nullable(), duckdb=_to_int),
    spec("toIntOrZero", 1, returns=T.INT64, duckdb=_or_zero(_to_int)),
    spec("toInt64", 1, returns=T.INT64.as_nullable(), duckdb=_to_int),
    spec("toFloat", 1, returns=T.FLOAT64.as_nullable(), duckdb=_to_float),
    spec("toFloat64", 1, returns=T.FLOAT64.as_nullable(), duckdb=_to_float),
    spec("toFloatOrZero", 1, returns=T.FLOAT64, duckdb=_or_zero(_to_float)),
    spec("toFloatOrDefault", 1, 2, returns=T.FLOAT64, duckdb=_to_float_or_default),
    spec("toDecimal", 1, 2, returns=T.FLOAT64.as_nullable(), duckdb=_to_decimal),
    spec("toBool", 1, returns=T.BOOL.as_nullable(), duckdb=_to_bool),
    spec("toUUID", 1, returns=T.UUID.as_nullable(), duckdb=_to_uuid),
    spec("toUUIDOrDefault", 2, returns=T.UUID, duckdb=_to_uuid_or_default),
    spec("toTypeName", 1, returns=T.STRING, duckdb=_type_name),
    spec("toNullable", 1, returns=lambda ts: ts[0].as_nullable(), duckdb=lambda c: c.args[0]),
    spec("assumeNotNull", 1, returns=lambda ts: ts[0].as_nullable(False), duckdb=lambda c: c.args[0]),
    spec("toJSONString", 1, returns=T.STRING,
         duckdb=lambda c: exp.Cast(this=fn("to_json", c.args[0]), to=exp.DataType.build("VARCHAR"))),
    spec("hex", 1, returns=T.STRING, duckdb="hex"),
    spec("unhex", 1, returns=T.STRING, duckdb="unhex"),
    spec("cityHash64", 1, None, returns=T.UINT64, duckdb="hash"),
    spec("toStringOrNull", 1, returns=T.NULLABLE_STRING, duckdb=_to_string),
    spec("identity", 1, returns=same_as(0), duckdb=lambda c: c.args[0]),
]  # fmt: skip
