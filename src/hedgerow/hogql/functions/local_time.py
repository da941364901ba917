"""Moving timestamps between stored UTC and the project's wall clock.

Storage holds naive UTC timestamps; calendar functions (``toDate``, ``toStartOfDay``,
``toHour``, ``dateDiff('day', ...)``) must see project-local wall time, and DateTime results
go back to naive UTC so display and comparisons stay uniform. For UTC projects both are the
identity, so the SQL stays as plain as hand-written SQL.

A DateTime may carry its own zone (``toTimeZone(ts, 'Asia/Tokyo')``, or a constant zone
argument such as ``toHour(ts, 'Asia/Tokyo')``): a call then reads wall clocks in that zone
(:func:`call_zone`), as ClickHouse does, and the stored value stays the same instant.
"""

from __future__ import annotations

from typing import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlglot import exp

from hedgerow.hogql.errors import HogQLError
from hedgerow.hogql.functions.spec import Env, FunctionSpec, fn, literal_value
from hedgerow.hogql.types import HogType


def zone_index(spec: FunctionSpec, args: Sequence[exp.Expression]) -> int | None:
    """Where a call's time-zone argument is, if it has one.

    ``zone_arg`` -1 means "the last argument beyond the required ones, when it is a constant
    string" (``toStartOfInterval(ts, interval[, origin][, zone])``).
    """
    if spec.zone_arg is None:
        return None
    if spec.zone_arg >= 0:
        return spec.zone_arg if len(args) > spec.zone_arg else None
    last = len(args) - 1
    if last >= spec.min_args and isinstance(literal_value(args[last]), str):
        return last
    return None


def explicit_zone(spec: FunctionSpec, args: Sequence[exp.Expression]) -> str | None:
    """The constant time-zone argument of a call, validated; None when it has none."""
    index = zone_index(spec, args)
    if index is None:
        return None
    value = literal_value(args[index])
    if not isinstance(value, str):
        raise HogQLError(f"The time zone argument of {spec.name}() must be a constant string")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise HogQLError(f"Unknown time zone '{value}'") from None
    return value


def call_zone(
    spec: FunctionSpec, args: Sequence[exp.Expression], types: Sequence[HogType]
) -> str | None:
    """The zone a call reads wall clocks in: its zone argument, else its first zoned DateTime's."""
    return explicit_zone(spec, args) or next(
        (t.zone for t in types if t.is_datetime and t.zone), None
    )


def to_local(env: Env, value: exp.Expression, hog_type: HogType) -> exp.Expression:
    """Wall-clock time in the project timezone (a naive timestamp) for a DateTime value."""
    if not hog_type.is_datetime or env.timezone == "UTC":
        return value
    tz = exp.Literal.string(env.timezone)
    return fn("timezone", tz, fn("timezone", exp.Literal.string("UTC"), value))


def to_utc(env: Env, wall_clock: exp.Expression) -> exp.Expression:
    """Naive UTC timestamp for a project-local wall-clock timestamp."""
    if env.timezone == "UTC":
        return wall_clock
    tz = exp.Literal.string(env.timezone)
    return fn("timezone", exp.Literal.string("UTC"), fn("timezone", tz, wall_clock))


def as_date(env: Env, value: exp.Expression, hog_type: HogType) -> exp.Expression:
    """The project-local calendar date of a Date/DateTime/String value."""
    if hog_type.is_date:
        return value
    if hog_type.is_datetime:
        return exp.Cast(this=to_local(env, value, hog_type), to=exp.DataType.build("DATE"))
    return exp.TryCast(this=value, to=exp.DataType.build("DATE"))


def as_local_timestamp(env: Env, value: exp.Expression, hog_type: HogType) -> exp.Expression:
    """A project-local naive timestamp for Date/DateTime/String input."""
    if hog_type.is_datetime:
        return to_local(env, value, hog_type)
    if hog_type.is_date:
        return exp.Cast(this=value, to=exp.DataType.build("TIMESTAMP"))
    return exp.TryCast(this=value, to=exp.DataType.build("TIMESTAMP"))
