"""Dates for the ``is_date_*`` operators, read the way the server reads them.

Instants are integers of nanoseconds since the Unix epoch (UTC), so that equality for
``is_date_exact`` keeps the server's nanosecond precision.

Both the property value and the filter value go through :func:`parse_date_text`:

1. a relative date (``-7d``, ``3h``, ``-1w``, ``-2m``, ``-1y``; number below 10 000)
   counts back from *now* on the team's wall clock and is read back in the team zone;
2. RFC 3339 with an explicit offset is honoured as written;
3. a naive date or date-time (``2024-06-01``, ``2024-06-01 10:00[:00[.123]]``, ``T`` or
   space) is wall-clock time in the team zone: a time that falls in a DST gap does not
   exist (no match) and an ambiguous one takes the earlier instant;
4. a few other common shapes are read as UTC (the server falls back to the
   ``dateparser`` crate here; only a subset of its formats is known to this module).

A property value may also be a number, or a string that parses as one: seconds since the
epoch.
"""

from __future__ import annotations

import calendar
import math
import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hedgerow.flags.values import parse_rust_float

UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1)
_NS = 1_000_000_000
# chrono's DateTime<Utc> range (years -262143 to 262142) in seconds.
_MIN_SECONDS = -8_334_601_228_800
_MAX_SECONDS = 8_210_266_876_799

_RELATIVE = re.compile(r"-?([0-9]+)([hdwmy])")
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))"
)
_NAIVE_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_NAIVE_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})[ T]([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2})(?:\.([0-9]+))?)?"
)
# A subset of what the dateparser crate also reads; naive forms are UTC there.
_FALLBACK_ZONED = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})[ T]([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2})(?:\.([0-9]+))?)?"
    r" ?(?:(UTC|GMT|Z)|([+-])([0-9]{2}):?([0-9]{2})?)"
)
_FALLBACK_SLASHED = re.compile(r"([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})")
_FALLBACK_TIMESTAMP = re.compile(r"[0-9]{10}(?:\.[0-9]{1,9})?|[0-9]{13}|[0-9]{16}|[0-9]{19}")


def zone(name: str | None) -> ZoneInfo | timezone:
    """The team time zone; unknown or empty names fall back to UTC."""
    if not name or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


class Clock:
    """*Now* for one evaluation, with relative dates worked out once each."""

    __slots__ = ("now", "tz", "_local", "_relative")

    def __init__(self, now: datetime | None, tz: ZoneInfo | timezone) -> None:
        if now is None:
            now = datetime.now(UTC)
        elif now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        self.now = now
        self.tz = tz
        self._local: datetime | None = None
        self._relative: dict[tuple[int, str], int | None] = {}

    def relative(self, number: int, unit: str) -> int | None:
        """The instant ``number`` ``unit`` before now on the team's wall clock."""
        key = (number, unit)
        if key not in self._relative:
            if self._local is None:
                self._local = self.now.astimezone(self.tz).replace(tzinfo=None)
            self._relative[key] = _relative_instant(self._local, number, unit, self.tz)
        return self._relative[key]


def parse_relative(text: str) -> tuple[int, str] | None:
    """``(number, unit)`` for a relative date such as ``-7d``, else None."""
    match = _RELATIVE.fullmatch(text)
    if match is None:
        return None
    number = int(match.group(1))
    return (number, match.group(2)) if number < 10_000 else None


def _relative_instant(local: datetime, number: int, unit: str, tz: Any) -> int | None:
    try:
        if unit == "h":
            shifted = local - timedelta(hours=number)
        elif unit == "d":
            shifted = local - timedelta(days=number)
        elif unit == "w":
            shifted = local - timedelta(weeks=number)
        elif unit == "m":
            shifted = _months_back(local, number)
        else:
            shifted = _years_back(local, number)
    except (OverflowError, ValueError):
        return None
    if shifted is None:
        return None
    return _wall_clock_to_ns(shifted.replace(microsecond=0), tz, shifted.microsecond * 1000)


def _months_back(local: datetime, months: int) -> datetime | None:
    # One month at a time, clamping the day each step (March 31 -2m -> January 29 in a
    # leap year, through February 29), like the server's loop.
    year, month, day = local.year, local.month, local.day
    for _ in range(months):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        if year < 1:
            return None
        day = min(day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


def _years_back(local: datetime, years: int) -> datetime | None:
    year, day = local.year, local.day
    for _ in range(years):
        year -= 1
        if year < 1:
            return None
        if local.month == 2:
            day = min(day, calendar.monthrange(year, 2)[1])
    return local.replace(year=year, day=day)


def _fraction_ns(digits: str | None) -> int:
    if not digits:
        return 0
    return int(digits[:9].ljust(9, "0"))


def _wall_clock_to_ns(naive: datetime, tz: Any, nanos: int) -> int | None:
    """A wall-clock time in ``tz`` as an instant: None in a DST gap, earliest if ambiguous."""
    if tz is UTC:
        seconds = (naive - _EPOCH) // timedelta(seconds=1)
        return seconds * _NS + nanos
    aware = naive.replace(tzinfo=tz)  # fold=0 is the earlier of two readings
    utc = aware.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != naive:
        return None  # the wall clock skipped this time
    seconds = (utc.replace(tzinfo=None) - _EPOCH) // timedelta(seconds=1)
    return seconds * _NS + nanos


def _fields_to_ns(groups: tuple, tz: Any) -> int | None:
    year, month, day, hour, minute, second, fraction = (groups + (None,) * 7)[:7]
    try:
        naive = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return None
    return _wall_clock_to_ns(naive, tz, _fraction_ns(fraction))


def _offset_seconds(sign: str, hours: str, minutes: str | None) -> int | None:
    h, m = int(hours), int(minutes or 0)
    if h > 23 or m > 59:
        return None
    return (h * 3600 + m * 60) * (-1 if sign == "-" else 1)


@lru_cache(maxsize=8192)
def parse_absolute(text: str, tz: Any) -> int | None:
    """An absolute date or date-time as an instant (see the module notes), else None."""
    match = _RFC3339.fullmatch(text)
    if match is not None:
        *fields, zulu, sign, oh, om = match.groups()
        base = _fields_to_ns(tuple(fields), UTC)
        if base is None:
            return None
        offset = 0 if zulu else _offset_seconds(sign, oh, om)
        return None if offset is None else base - offset * _NS
    match = _NAIVE_DATE.fullmatch(text)
    if match is not None:
        return _fields_to_ns(match.groups(), tz)
    match = _NAIVE_DATETIME.fullmatch(text)
    if match is not None:
        return _fields_to_ns(match.groups(), tz)
    return _parse_fallback(text)


def _parse_fallback(text: str) -> int | None:
    text = text.strip()
    match = _FALLBACK_ZONED.fullmatch(text)
    if match is not None:
        *fields, named, sign, oh, om = match.groups()
        base = _fields_to_ns(tuple(fields), UTC)
        offset = 0 if named else _offset_seconds(sign, oh, om)
        return None if base is None or offset is None else base - offset * _NS
    match = _FALLBACK_SLASHED.fullmatch(text)
    if match is not None:
        return _fields_to_ns(match.groups(), UTC)
    if _FALLBACK_TIMESTAMP.fullmatch(text):
        whole, _, fraction = text.partition(".")
        scale = {10: 1, 13: 1_000, 16: 1_000_000, 19: _NS}[len(whole)]
        return int(whole) * (_NS // scale) + _fraction_ns(fraction)
    return None


def parse_date_text(text: str, clock: Clock) -> int | None:
    """A date string (relative or absolute) as an instant, both filter and property side."""
    relative = parse_relative(text)
    if relative is not None:
        return clock.relative(*relative)
    return parse_absolute(text, clock.tz)


def timestamp_to_ns(value: float) -> int | None:
    """Seconds since the epoch as the server converts them (Rust casts included)."""
    if math.isnan(value):
        return 0  # `NaN as i64` is 0 in Rust, so NaN reads as the epoch
    if math.isinf(value):
        return None
    seconds = math.floor(value)
    nanos_f = math.fmod(value, 1.0) * 1e9
    nanos = math.floor(nanos_f + 0.5) if nanos_f >= 0 else 0  # round half away; `as u32` clamps at 0
    if not _MIN_SECONDS <= seconds <= _MAX_SECONDS or nanos >= 2 * _NS:
        return None
    return seconds * _NS + nanos


def property_instant(value: Any, clock: Clock) -> int | None:
    """The instant a property value stands for, or None when it is not a date."""
    if type(value) is str:
        number = parse_rust_float(value)
        if number is not None:
            return timestamp_to_ns(number)
        return parse_date_text(value, clock)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return timestamp_to_ns(float(value))
    return None
