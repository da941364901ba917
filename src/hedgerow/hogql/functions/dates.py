"""Date and time functions, evaluated on the project's wall clock (see :mod:`.local_time`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

from sqlglot import exp

from hedgerow.hogql import types as T
from hedgerow.hogql.errors import HogQLError
from hedgerow.hogql.functions.local_time import as_date, as_local_timestamp, to_local, to_utc
from hedgerow.hogql.functions.spec import (
    ENGINE_CALL,
    Call,
    Env,
    FunctionSpec,
    fn,
    literal_value,
    nullable_if_any,
    spec,
)
from hedgerow.hogql.nodes import Value
from hedgerow.hogql.types import HogType

DATE = nullable_if_any(T.DATE)
DATETIME = nullable_if_any(T.DATETIME)
INT = nullable_if_any(T.UINT64)
U8 = nullable_if_any(T.UINT8)
U16 = nullable_if_any(T.HogType("UInt16"))
U32 = nullable_if_any(T.HogType("UInt32"))

UNITS = {
    "microsecond": "microsecond", "millisecond": "millisecond", "second": "second",
    "minute": "minute", "hour": "hour", "day": "day", "week": "week", "month": "month",
    "quarter": "quarter", "year": "year",
}  # fmt: skip
_UNIT_ALIASES = {"ss": "second", "s": "second", "mi": "minute", "n": "minute", "hh": "hour",
                 "h": "hour", "dd": "day", "d": "day", "wk": "week", "ww": "week", "mm": "month",
                 "m": "month", "qq": "quarter", "q": "quarter", "yyyy": "year", "yy": "year"}  # fmt: skip

INTERVAL_FUNCTIONS = {
    "second": "to_seconds", "minute": "to_minutes", "hour": "to_hours", "day": "to_days",
    "week": "to_weeks", "month": "to_months", "quarter": "to_quarters", "year": "to_years",
}  # fmt: skip


def unit_of(node: exp.Expression, what: str = "unit") -> str:
    value = literal_value(node)
    if not isinstance(value, str):
        raise HogQLError(f"The {what} must be a constant string")
    unit = value.lower().rstrip("s") if value.lower() not in _UNIT_ALIASES else value.lower()
    unit = _UNIT_ALIASES.get(unit, unit)
    if unit not in UNITS:
        raise HogQLError(f"Unknown time unit '{value}'")
    return unit


def interval(amount: exp.Expression, unit: str) -> exp.Expression:
    """An engine interval of ``amount`` ``unit``s."""
    return fn(INTERVAL_FUNCTIONS[unit], exp.Cast(this=amount, to=exp.DataType.build("BIGINT")))


def now_utc(env: Env) -> dt.datetime:
    now = env.now or dt.datetime.now(dt.timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    return now.astimezone(dt.timezone.utc).replace(tzinfo=None)


def today_local(env: Env) -> dt.date:
    return now_utc(env).replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(env.timezone)).date()


def _now(call: Call) -> exp.Expression:
    return Value(this=now_utc(call.env))


def _today(call: Call) -> exp.Expression:
    return Value(this=today_local(call.env))


def _yesterday(call: Call) -> exp.Expression:
    return Value(this=today_local(call.env) - dt.timedelta(days=1))


def _to_date(call: Call) -> exp.Expression:
    return as_date(call.env, call.args[0], call.types[0])


def _to_datetime(call: Call) -> exp.Expression:
    value, hog_type = call.args[0], call.types[0]
    if hog_type.is_datetime:
        return value
    if hog_type.is_numeric:
        return fn("timezone", exp.Literal.string("UTC"), fn("to_timestamp", value))
    return to_utc(call.env, as_local_timestamp(call.env, value, hog_type))


def _trunc_datetime(unit: str):
    def lower(call: Call) -> exp.Expression:
        local = as_local_timestamp(call.env, call.args[0], call.types[0])
        return to_utc(call.env, fn("date_trunc", exp.Literal.string(unit), local))

    return lower


def _bucket(minutes: int):
    def lower(call: Call) -> exp.Expression:
        local = as_local_timestamp(call.env, call.args[0], call.types[0])
        bucket = fn("time_bucket", interval(exp.Literal.number(minutes), "minute"), local)
        return to_utc(call.env, bucket)

    return lower


def _trunc_date(unit: str):
    def lower(call: Call) -> exp.Expression:
        local = as_local_timestamp(call.env, call.args[0], call.types[0])
        return exp.Cast(
            this=fn("date_trunc", exp.Literal.string(unit), local), to=exp.DataType.build("DATE")
        )

    return lower


def week_start(call: Call, date: exp.Expression, mode: int) -> exp.Expression:
    if mode % 2 == 1:  # Monday-based modes
        return exp.Cast(
            this=fn("date_trunc", exp.Literal.string("week"), date), to=exp.DataType.build("DATE")
        )
    days = exp.Cast(this=fn("dayofweek", date.copy()), to=exp.DataType.build("INTEGER"))
    return exp.Sub(this=date, expression=days)


def _week_mode(call: Call, index: int) -> int:
    if len(call.args) > index:
        mode = literal_value(call.args[index])
        if not isinstance(mode, int):
            raise HogQLError("The week mode must be a constant integer")
        return mode
    return 3 if call.env.week_start_day == 1 else 0


def _to_start_of_week(call: Call) -> exp.Expression:
    date = as_date(call.env, call.args[0], call.types[0])
    return week_start(call, date, _week_mode(call, 1))


def _to_monday(call: Call) -> exp.Expression:
    return week_start(call, as_date(call.env, call.args[0], call.types[0]), 1)


def _part(part: str):
    def lower(call: Call) -> exp.Expression:
        local = as_local_timestamp(call.env, call.args[0], call.types[0])
        return fn(part, local)

    return lower


def _day_of_week(call: Call) -> exp.Expression:
    local = as_local_timestamp(call.env, call.args[0], call.types[0])
    mode = literal_value(call.args[1]) if len(call.args) > 1 else 0
    # ClickHouse's modes: 0 Monday=1..Sunday=7, 1 Monday=0..Sunday=6, 2 Sunday=0..Saturday=6,
    # 3 Sunday=1..Saturday=7.
    if mode in (2, 3):
        base = fn("dayofweek", local)
        return exp.Add(this=base, expression=exp.Literal.number(1)) if mode == 3 else base
    if mode == 1:
        return exp.Sub(this=fn("isodow", local), expression=exp.Literal.number(1))
    return fn("isodow", local)


def _yyyymm(with_day: bool):
    def lower(call: Call) -> exp.Expression:
        local = as_local_timestamp(call.env, call.args[0], call.types[0])
        pattern = "%Y%m%d" if with_day else "%Y%m"
        return exp.Cast(this=fn("strftime", local, exp.Literal.string(pattern)), to=exp.DataType.build("BIGINT"))

    return lower


def _unix_timestamp(call: Call) -> exp.Expression:
    value, hog_type = call.args[0], call.types[0]
    if hog_type.is_date:
        value = exp.Cast(this=value, to=exp.DataType.build("TIMESTAMP"))
        value = to_utc(call.env, value)
    elif hog_type.is_string:
        value = to_utc(call.env, as_local_timestamp(call.env, value, hog_type))
    return exp.Cast(this=fn("floor", fn("epoch", value)), to=exp.DataType.build("BIGINT"))


def _unix_timestamp_milli(call: Call) -> exp.Expression:
    return fn("epoch_ms", call.args[0])


def _date_diff(call: Call) -> exp.Expression:
    unit = unit_of(call.args[0])
    start = as_local_timestamp(call.env, call.args[1], call.types[1])
    end = as_local_timestamp(call.env, call.args[2], call.types[2])
    if unit == "week":  # ClickHouse counts Monday boundaries... of weeks starting Monday
        start = fn("date_trunc", exp.Literal.string("week"), start)
        end = fn("date_trunc", exp.Literal.string("week"), end)
    if unit in _SECONDS_PER and call.env.timezone != "UTC":
        # Local hour (minute...) boundaries that exist: across a DST change the wall clock
        # skips or repeats an hour, so count the elapsed time between the truncated instants.
        first, last = (to_utc(call.env, fn("date_trunc", exp.Literal.string(unit), t)) for t in (start, end))
        seconds = exp.Sub(this=fn("epoch", last), expression=fn("epoch", first))
        return exp.Cast(
            this=fn("round", exp.Div(this=exp.Paren(this=seconds), expression=exp.Literal.number(_SECONDS_PER[unit]))),
            to=exp.DataType.build("BIGINT"),
        )
    return fn("date_diff", exp.Literal.string(unit), start, end)


_SECONDS_PER = {"second": 1, "minute": 60, "hour": 3600}


CALENDAR_UNITS = frozenset({"day", "week", "month", "quarter", "year"})


def shift(
    value: exp.Expression, value_type, amount: exp.Expression, unit: str, sign: int, env: Env
) -> exp.Expression:
    """``value ± amount unit``; a Date moved by whole days or more stays a Date, and a DateTime
    moved by days or more keeps its wall clock in its zone (across a DST change too)."""
    op = exp.Add if sign > 0 else exp.Sub
    if value_type.is_datetime and unit in CALENDAR_UNITS:
        zoned = replace(env, timezone=value_type.zone or env.timezone)
        if zoned.timezone != "UTC":
            local = to_local(zoned, value, value_type)
            return to_utc(zoned, exp.Paren(this=op(this=local, expression=interval(amount, unit))))
    moved: exp.Expression = exp.Paren(this=op(this=value, expression=interval(amount, unit)))
    if value_type.is_date and unit in CALENDAR_UNITS:
        moved = exp.Cast(this=moved, to=exp.DataType.build("DATE"))
    return moved


_UNIT_OF_INTERVAL_FUNCTION = {name: unit for unit, name in INTERVAL_FUNCTIONS.items()}


def interval_parts(node: exp.Expression) -> tuple[exp.Expression, str]:
    """``(amount, unit)`` of an already-lowered interval (``INTERVAL 2 DAY``, ``toIntervalDay(2)``)."""
    if isinstance(node, exp.Anonymous) and node.meta.get(ENGINE_CALL) and node.name in _UNIT_OF_INTERVAL_FUNCTION:
        amount = node.expressions[0]
        return (amount.this if isinstance(amount, exp.Cast) else amount), _UNIT_OF_INTERVAL_FUNCTION[node.name]
    raise HogQLError("Expected an INTERVAL argument (such as INTERVAL 1 DAY)")


def _date_add(sign: int, unit_first: bool = True):
    def lower(call: Call) -> exp.Expression:
        if len(call.args) == 2:  # dateAdd(date, INTERVAL n unit)
            amount, unit = interval_parts(call.args[1])
            return shift(call.args[0], call.types[0], amount, unit, sign, call.env)
        if unit_first:
            unit = unit_of(call.args[0])
            amount, value, value_type = call.args[1], call.args[2], call.types[2]
        else:
            unit = unit_of(call.args[2])
            value, amount, value_type = call.args[0], call.args[1], call.types[0]
        return shift(value, value_type, amount, unit, sign, call.env)

    return lower


def _shifted_type(types) -> HogType:
    """The type of a dateAdd/dateSub call: its date argument's, or a DateTime for a Date moved by
    less than a day."""
    if len(types) == 3:
        return types[2] if types[2].is_temporal else types[0]
    value, amount = types
    if value.is_date and amount.unit is not None and amount.unit not in CALENDAR_UNITS:
        return T.DATETIME.as_nullable(value.nullable)
    return value


def _add_unit(unit: str, sign: int):
    def lower(call: Call) -> exp.Expression:
        return shift(call.args[0], call.types[0], call.args[1], unit, sign, call.env)

    return lower


_EPOCH = dt.datetime(1970, 1, 1)
_FIRST_MONDAY = dt.datetime(1970, 1, 5)
_MONTHS_PER = {"month": 1, "quarter": 3, "year": 12}
_MONTH_ORIGIN = {"month": 1900 * 12, "quarter": 1900 * 12, "year": 0}


def _month_bucket(local: exp.Expression, amount: exp.Expression, unit: str) -> exp.Expression:
    """The first day of ``local``'s bucket of ``amount`` months/quarters/years.

    ClickHouse counts months and quarters from January 1900, years from year 0.
    """
    bigint = exp.DataType.build("BIGINT")
    index = exp.Add(
        this=exp.Mul(this=fn("year", local), expression=exp.Literal.number(12)),
        expression=exp.Sub(this=fn("month", local.copy()), expression=exp.Literal.number(1)),
    )
    width = exp.Mul(this=exp.Cast(this=amount, to=bigint), expression=exp.Literal.number(_MONTHS_PER[unit]))
    origin = exp.Literal.number(_MONTH_ORIGIN[unit])
    steps = fn("floor", exp.Div(this=exp.Paren(this=exp.Sub(this=index, expression=origin)), expression=exp.Paren(this=width)))
    start = exp.Add(this=origin.copy(), expression=exp.Mul(this=exp.Cast(this=steps, to=bigint), expression=width.copy()))
    year = exp.Cast(this=fn("floor", exp.Div(this=exp.Paren(this=start), expression=exp.Literal.number(12))), to=bigint)
    month = exp.Add(this=exp.Mod(this=exp.Paren(this=start.copy()), expression=exp.Literal.number(12)), expression=exp.Literal.number(1))
    return fn("make_date", year, month, exp.Literal.number(1))


def interval_result(value: HogType, interval_type: HogType, origin: HogType | None = None) -> HogType:
    """toStartOfInterval's type: a Date for weeks or longer (or Date input), else a DateTime;
    always a DateTime from a DateTime origin."""
    if origin is not None and origin.is_datetime:
        return T.DATETIME.as_nullable(value.nullable)
    if value.is_date or interval_type.unit in ("week", "month", "quarter", "year"):
        return T.DATE.as_nullable(value.nullable)
    return T.DATETIME.as_nullable(value.nullable)


def _months_from(origin: exp.Expression, local: exp.Expression, amount: exp.Expression, unit: str) -> exp.Expression:
    """The start of ``local``'s bucket of ``amount`` months/quarters/years counted from ``origin``."""
    width = exp.Mul(this=exp.Cast(this=amount, to=exp.DataType.build("BIGINT")), expression=exp.Literal.number(_MONTHS_PER[unit]))
    months = fn("date_diff", exp.Literal.string("month"), origin, local)
    steps = exp.Cast(this=fn("floor", exp.Div(this=months, expression=exp.Paren(this=width))), to=exp.DataType.build("BIGINT"))

    def shifted(by: exp.Expression) -> exp.Expression:
        return exp.Add(this=origin.copy(), expression=fn("to_months", exp.Mul(this=by, expression=width.copy())))

    candidate = shifted(steps)
    earlier = shifted(exp.Paren(this=exp.Sub(this=steps.copy(), expression=exp.Literal.number(1))))
    return exp.Case(ifs=[exp.If(this=exp.GT(this=candidate.copy(), expression=local.copy()), true=earlier)], default=candidate)


def _start_of_interval(call: Call) -> exp.Expression:
    amount, unit = interval_parts(call.args[1])
    local = as_local_timestamp(call.env, call.args[0], call.types[0])
    width = interval(amount, unit)
    if len(call.args) > 2:  # an origin
        origin = as_local_timestamp(call.env, call.args[2], call.types[2])
        if unit in _MONTHS_PER:
            bucket = _months_from(origin, local, amount, unit)
        else:
            bucket = fn("time_bucket", width, local, origin)
    elif unit in _MONTHS_PER:
        return _month_bucket(local, amount, unit)
    elif unit == "hour":  # ClickHouse counts hours from the day's midnight
        bucket = fn("time_bucket", width, local, fn("date_trunc", exp.Literal.string("day"), local.copy()))
    else:
        bucket = fn("time_bucket", width, local, Value(this=_FIRST_MONDAY if unit == "week" else _EPOCH))
    if call.result.is_date:
        return exp.Cast(this=bucket, to=exp.DataType.build("DATE"))
    return to_utc(call.env, bucket)


def _date_bin(call: Call) -> exp.Expression:
    """PostgreSQL's ``date_bin(interval, ts, origin)``: toStartOfInterval with an origin."""
    args, types = [call.args[1], call.args[0], call.args[2]], [call.types[1], call.types[0], call.types[2]]
    return _start_of_interval(replace(call, args=args, types=types))


def _to_interval(unit: str):
    return lambda call: interval(call.args[0], unit)


def _date_trunc(call: Call) -> exp.Expression:
    unit = unit_of(call.args[0])
    local = as_local_timestamp(call.env, call.args[1], call.types[1])
    return to_utc(call.env, fn("date_trunc", exp.Literal.string(unit), local))


_FORMAT = {
    "%i": "%M", "%M": "%B", "%e": "%-d", "%h": "%I", "%k": "%-H", "%l": "%-I", "%C": "%C",
    "%Q": "%Q", "%s": "%S", "%W": "%A", "%D": "%m/%d/%y", "%R": "%H:%M", "%F": "%Y-%m-%d",
    "%T": "%H:%M:%S", "%f": "%f",
}  # fmt: skip


def mysql_to_strftime(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        token = pattern[i : i + 2]
        if pattern[i] == "%" and len(token) == 2:
            out.append(_FORMAT.get(token, token))
            i += 2
        else:
            out.append(pattern[i])
            i += 1
    return "".join(out)


def _format_datetime(call: Call) -> exp.Expression:
    pattern = literal_value(call.args[1])
    if not isinstance(pattern, str):
        raise HogQLError("formatDateTime needs a constant format string")
    local = as_local_timestamp(call.env, call.args[0], call.types[0])
    return fn("strftime", local, exp.Literal.string(mysql_to_strftime(pattern)))


def _from_unix(call: Call) -> exp.Expression:
    return fn("timezone", exp.Literal.string("UTC"), fn("to_timestamp", call.args[0]))


def _to_time_zone(call: Call) -> exp.Expression:
    return call.args[0]


def _last_day_of_month(call: Call) -> exp.Expression:
    return fn("last_day", as_date(call.env, call.args[0], call.types[0]))


def _iso_part(part: str):
    def lower(call: Call) -> exp.Expression:
        return fn(part, as_local_timestamp(call.env, call.args[0], call.types[0]))

    return lower


def _time_zone_of(call: Call) -> exp.Expression:
    return exp.Literal.string(call.env.timezone)  # the value's own zone, else the project's


def _time_zone_offset(call: Call) -> exp.Expression:
    local = as_local_timestamp(call.env, call.args[0], call.types[0])
    seconds = exp.Sub(this=fn("epoch", local), expression=fn("epoch", call.args[0].copy()))
    return exp.Cast(this=seconds, to=exp.DataType.build("INTEGER"))


def _last_day_of_week(call: Call) -> exp.Expression:
    date = as_date(call.env, call.args[0], call.types[0])
    start = week_start(call, date, _week_mode(call, 1))
    return exp.Cast(this=exp.Add(this=start, expression=exp.Literal.number(6)), to=exp.DataType.build("DATE"))


def _to_week(call: Call) -> exp.Expression:
    mode = _week_mode(call, 1) if len(call.args) > 1 else 0
    local = as_local_timestamp(call.env, call.args[0], call.types[0])
    if mode == 0:  # Sunday-first, 0-53, week 1 starts on the first Sunday
        return exp.Cast(this=fn("strftime", local, exp.Literal.string("%U")), to=exp.DataType.build("UTINYINT", dialect="duckdb"))
    if mode == 3:  # ISO 8601
        return fn("week", local)
    raise HogQLError(f"toWeek mode {mode} is not supported (use 0, or 3 for ISO weeks)")


def _formatted_number(pattern: str):
    def lower(call: Call) -> exp.Expression:
        local = as_local_timestamp(call.env, call.args[0], call.types[0])
        return exp.Cast(this=fn("strftime", local, exp.Literal.string(pattern)), to=exp.DataType.build("UBIGINT", dialect="duckdb"))

    return lower


def _make_date_time(call: Call) -> exp.Expression:
    return to_utc(call.env, fn("make_timestamp", *call.args[:6]))


def _zoned(name: str, returns, lowering) -> FunctionSpec:
    """A function of one date/time value and an optional time zone (``toHour(ts[, zone])``)."""
    return spec(name, 1, 2, zone_arg=1, returns=returns, duckdb=lowering)


FUNCTIONS = [
    spec("now", 0, 1, zone_arg=0, returns=T.DATETIME, duckdb=_now),
    spec("today", 0, returns=T.DATE, duckdb=_today),
    spec("yesterday", 0, returns=T.DATE, duckdb=_yesterday),
    _zoned("toDate", lambda ts: T.DATE.as_nullable(ts[0].nullable or ts[0].is_string), _to_date),
    _zoned("toDateTime", lambda ts: T.DATETIME.as_nullable(ts[0].nullable or ts[0].is_string), _to_datetime),
    spec("toDateTime64", 1, 3, zone_arg=2, returns=lambda ts: T.DATETIME.as_nullable(ts[0].nullable or ts[0].is_string), duckdb=_to_datetime),
    spec("parseDateTime64BestEffortOrNull", 1, 3, zone_arg=2, returns=T.DATETIME.as_nullable(), duckdb=_to_datetime),
    _zoned("parseDateTimeBestEffort", T.DATETIME.as_nullable(), _to_datetime),
    spec("toTimeZone", 2, zone_arg=1, returns=lambda ts: ts[0], duckdb=_to_time_zone),
    _zoned("toStartOfDay", DATETIME, _trunc_datetime("day")),
    _zoned("toStartOfHour", DATETIME, _trunc_datetime("hour")),
    _zoned("toStartOfMinute", DATETIME, _trunc_datetime("minute")),
    _zoned("toStartOfSecond", DATETIME, _trunc_datetime("second")),
    _zoned("toStartOfFiveMinutes", DATETIME, _bucket(5)),
    _zoned("toStartOfFiveMinute", DATETIME, _bucket(5)),
    _zoned("toStartOfTenMinutes", DATETIME, _bucket(10)),
    _zoned("toStartOfFifteenMinutes", DATETIME, _bucket(15)),
    spec("toStartOfWeek", 1, 3, zone_arg=2, returns=DATE, duckdb=_to_start_of_week),
    _zoned("toMonday", DATE, _to_monday),
    _zoned("toStartOfMonth", DATE, _trunc_date("month")),
    _zoned("toStartOfQuarter", DATE, _trunc_date("quarter")),
    _zoned("toStartOfYear", DATE, _trunc_date("year")),
    _zoned("toLastDayOfMonth", DATE, _last_day_of_month),
    _zoned("toYear", U16, _part("year")),
    _zoned("toQuarter", U8, _part("quarter")),
    _zoned("toMonth", U8, _part("month")),
    _zoned("toDayOfYear", U16, _part("dayofyear")),
    _zoned("toDayOfMonth", U8, _part("dayofmonth")),
    spec("toDayOfWeek", 1, 3, zone_arg=2, returns=U8, duckdb=_day_of_week),
    _zoned("toHour", U8, _part("hour")),
    _zoned("toMinute", U8, _part("minute")),
    _zoned("toSecond", U8, _part("second")),
    _zoned("toISOWeek", U8, _iso_part("week")),
    _zoned("toISOYear", U16, _iso_part("isoyear")),
    _zoned("toYYYYMM", U32, _yyyymm(False)),
    _zoned("toYYYYMMDD", U32, _yyyymm(True)),
    _zoned("toUnixTimestamp", U32, _unix_timestamp),
    spec("toUnixTimestamp64Milli", 1, returns=T.INT64, duckdb=_unix_timestamp_milli),
    spec("fromUnixTimestamp", 1, returns=DATETIME, duckdb=_from_unix),
    spec("dateDiff", 3, 4, zone_arg=3, returns=T.INT64, duckdb=_date_diff),
    spec("date_diff", 3, 4, zone_arg=3, returns=T.INT64, duckdb=_date_diff),
    *[
        spec(name, 2, 3, returns=_shifted_type, duckdb=_date_add(sign))
        for name, sign in (("dateAdd", 1), ("dateSub", -1), ("date_add", 1), ("date_sub", -1),
                           ("date_subtract", -1))
    ],
    spec("timeStampAdd", 2, 3, returns=_shifted_type, duckdb=_date_add(1, unit_first=False)),
    spec("timeStampSub", 2, 3, returns=_shifted_type, duckdb=_date_add(-1, unit_first=False)),
    spec("toStartOfInterval", 2, 4, zone_arg=-1, returns=lambda ts: interval_result(ts[0], ts[1], ts[2] if len(ts) > 2 else None), duckdb=_start_of_interval),
    spec("date_bin", 3, returns=lambda ts: interval_result(ts[1], ts[0], ts[2]), duckdb=_date_bin),
    _zoned("timeZoneOf", T.STRING, _time_zone_of),
    _zoned("timeZoneOffset", nullable_if_any(T.HogType("Int32")), _time_zone_offset),
    _zoned("toStartOfISOYear", DATE, _trunc_date("isoyear")),
    spec("toLastDayOfWeek", 1, 3, zone_arg=2, returns=DATE, duckdb=_last_day_of_week),
    spec("toWeek", 1, 3, zone_arg=2, returns=U8, duckdb=_to_week),
    _zoned("toYYYYMMDDhhmmss", nullable_if_any(T.UINT64), _formatted_number("%Y%m%d%H%M%S")),
    _zoned("monthName", T.STRING, lambda call: fn("strftime", as_local_timestamp(call.env, call.args[0], call.types[0]), exp.Literal.string("%B"))),
    spec("fromUnixTimestamp64Milli", 1, returns=DATETIME, duckdb=lambda call: fn("epoch_ms", exp.Cast(this=call.args[0], to=exp.DataType.build("BIGINT")))),
    *[spec(name, 3, returns=DATE, duckdb="make_date") for name in ("makeDate", "make_date")],
    spec("makeDateTime", 6, 7, zone_arg=6, returns=DATETIME, duckdb=_make_date_time),
    spec("current_timestamp", 0, returns=T.DATETIME, duckdb=_now),
    spec("current_date", 0, returns=T.DATE, duckdb=_today),
    spec("to_char", 2, 3, zone_arg=2, returns=T.STRING, duckdb=_format_datetime),
    # PostgreSQL's timezone(zone, ts) is PostHog's toTimeZone(ts, zone)
    spec("timezone", 2, zone_arg=0, returns=lambda ts: ts[1], duckdb=lambda call: call.args[0]),
    spec("dateTrunc", 2, 3, zone_arg=2, returns=DATETIME, duckdb=_date_trunc),
    spec("date_trunc", 2, 3, zone_arg=2, returns=DATETIME, duckdb=_date_trunc),
    spec("formatDateTime", 2, 3, zone_arg=2, returns=T.STRING, duckdb=_format_datetime),
    *[
        spec(f"{verb}{unit.capitalize()}s", 2, returns=lambda ts: ts[0], duckdb=_add_unit(unit, sign))
        for verb, sign in (("add", 1), ("subtract", -1))
        for unit in ("year", "quarter", "month", "week", "day", "hour", "minute", "second")
    ],
    *[
        spec(f"toInterval{unit.capitalize()}", 1, returns=T.interval_of(unit), duckdb=_to_interval(unit))
        for unit in ("year", "quarter", "month", "week", "day", "hour", "minute", "second")
    ],
]  # fmt: skip
