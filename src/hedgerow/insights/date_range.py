"""Insight date ranges and interval buckets, in the project timezone (PostHog's QueryDateRange).

``date_from``/``date_to`` accept ``all``, ISO dates and datetimes (naive ones are local, unpadded
``2024-1-5`` too) and the relative grammar ``[-][N]unit[Start|End]`` with units ``h`` hours,
``d`` days, ``w`` weeks, ``m`` months, ``q`` quarters (13 weeks), ``y`` years, ``M`` minutes, ``s``
seconds; ``Start``/``End`` act on hours, days, months and years (``wStart``/``qStart`` are just
the start of the day, as in PostHog). Relative ``date_from`` values are truncated to the start of
the day (of the hour for an hours delta), except for minute intervals; relative ``date_to`` values
never are. Unless ``explicitDate``, ``date_to`` is moved to the end of its day (with a relative
end, of its hour for hourly insights, of its minute for minute ones), so the current, partial
bucket is always included, and the events window starts at the start of the first bucket (exactly
at ``date_from`` for hourly and minute intervals with a relative start or an hours delta, at the
start of the day for weekly ones).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from hedgerow.errors import ValidationError

DEFAULT_DAYS = 7
EARLIEST, LATEST = dt.datetime(1900, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(3000, 1, 1, tzinfo=dt.timezone.utc)
"""Dates outside these bounds are refused (400), as are ranges of more than MAX_BUCKETS intervals."""
MAX_BUCKETS = 50_000
SUB_DAY = ("minute", "hour")
RELATIVE = re.compile(r"^(-?)(\d*)([hdwmqyMs])(Start|End)?$")
_UNPADDED = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(.*)$")
_ABSOLUTE_DAY = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")


def add_months(value: dt.datetime, months: int) -> dt.datetime:
    """``value`` shifted by whole months, the day clamped to the month's end (relativedelta)."""
    index = value.month - 1 + months
    year, month = value.year + index // 12, index % 12 + 1
    return value.replace(year=year, month=month, day=min(value.day, calendar.monthrange(year, month)[1]))


def shift(value: dt.datetime, unit: str, amount: int) -> dt.datetime:
    if unit in ("m", "y"):
        return add_months(value, amount * (12 if unit == "y" else 1))
    step = {"h": dt.timedelta(hours=1), "d": dt.timedelta(days=1), "w": dt.timedelta(weeks=1),
            "q": dt.timedelta(weeks=13), "M": dt.timedelta(minutes=1), "s": dt.timedelta(seconds=1)}[unit]  # fmt: skip
    return value + step * amount


def _position(value: dt.datetime, unit: str, position: str) -> dt.datetime:
    if unit == "h":
        start = value.replace(minute=0, second=0, microsecond=0)
        return start if position == "Start" else start.replace(minute=59, second=59, microsecond=999999)
    start = value.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "m":
        if position == "Start":
            return start.replace(day=1)
        last = calendar.monthrange(start.year, start.month)[1]
        return start.replace(day=last, hour=23, minute=59, second=59, microsecond=999999)
    if unit == "y":
        if position == "Start":
            return start.replace(month=1, day=1)
        last = calendar.monthrange(start.year, start.month)[1]
        return start.replace(day=min(31, last), hour=23, minute=59, second=59, microsecond=999999)
    if position == "Start":
        return start
    return start.replace(hour=23, minute=59, second=59, microsecond=999999)


@dataclass(frozen=True)
class ParsedDate:
    value: dt.datetime
    relative_unit: str | None  # None for absolute dates


def parse_date(text: str, tz: ZoneInfo, now: dt.datetime, *, field: str, truncate: bool = True) -> ParsedDate:
    """One ``date_from``/``date_to`` value as an aware local datetime (see module docstring);
    without ``truncate``, a relative value keeps its time (minute intervals)."""
    try:
        parsed = _parse_date(text, tz, now, field=field, truncate=truncate)
    except (OverflowError, ValueError):
        raise ValidationError(f"The date '{text}' is out of range", attr=field) from None
    if not EARLIEST <= parsed.value <= LATEST:
        raise ValidationError(f"The date '{text}' is out of range", attr=field)
    return parsed


def offset(value: dt.datetime, text: str, *, field: str) -> dt.datetime:
    """``value`` moved by a relative offset such as ``-1w`` or ``-14d`` (compare periods)."""
    match = RELATIVE.match(text.strip())
    if not match or match.group(4):
        raise ValidationError(f"Invalid relative date '{text}'", attr=field)
    sign, digits, unit, _ = match.groups()
    amount = int(digits) if digits else 1
    try:
        moved = shift(value, unit, -amount if sign else amount)
    except (OverflowError, ValueError):
        moved = None
    if moved is None or not EARLIEST <= moved <= LATEST:
        raise ValidationError(f"The date offset '{text}' is out of range", attr=field)
    return moved


def _parse_date(text: str, tz: ZoneInfo, now: dt.datetime, *, field: str, truncate: bool = True) -> ParsedDate:
    raw = text.strip()
    match = RELATIVE.match(raw)
    if match:
        sign, digits, unit, position = match.groups()
        amount = int(digits) if digits else (1 if sign else 0)
        value = shift(now, unit, -amount if sign else amount)
        if position:
            value = _position(value, unit, position)
        elif not truncate:
            pass
        elif unit == "h":
            value = value.replace(minute=0, second=0, microsecond=0)
        elif unit not in ("M", "s"):
            value = value.replace(hour=0, minute=0, second=0, microsecond=0)
        return ParsedDate(value, unit)
    padded = _UNPADDED.match(raw)
    if padded:
        year, month, day, rest = padded.groups()
        raw = f"{year}-{int(month):02d}-{int(day):02d}{rest}"
    try:
        parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        raise ValidationError(f"Invalid date '{text}'", attr=field) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return ParsedDate(parsed.astimezone(tz), None)


def start_of(value: dt.datetime, interval: str, week_start_day: int) -> dt.datetime:
    """The start of the ``interval`` bucket holding the local datetime ``value``."""
    if interval == "minute":
        return value.replace(second=0, microsecond=0)
    if interval == "hour":
        return value.replace(minute=0, second=0, microsecond=0)
    day = value.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "week":
        back = day.weekday() if week_start_day == 1 else (day.weekday() + 1) % 7
        return day - dt.timedelta(days=back)
    if interval == "month":
        return day.replace(day=1)
    return day


def step(value: dt.datetime, interval: str, count: int = 1) -> dt.datetime:
    """``value`` moved ``count`` buckets forward (naive local arithmetic, like relativedelta)."""
    if interval == "month":
        return add_months(value, count)
    size = {"minute": dt.timedelta(minutes=1), "hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1),
            "week": dt.timedelta(weeks=1)}[interval]  # fmt: skip
    naive = value.replace(tzinfo=None) + size * count
    return naive.replace(tzinfo=value.tzinfo)


@dataclass(frozen=True)
class DateRange:
    """A resolved range: local bounds, the interval, the events window and its buckets."""

    date_from: dt.datetime
    date_to: dt.datetime
    interval: str
    week_start_day: int
    window_from: dt.datetime
    """Where the events window starts (see module docstring); it ends at ``date_to``."""

    @property
    def buckets(self) -> list[dt.datetime]:
        start = start_of(self.date_from, self.interval, self.week_start_day)
        out = []
        while start <= self.date_to:
            out.append(start)
            if len(out) > MAX_BUCKETS:
                raise ValidationError(f"The date range has more than {MAX_BUCKETS:,} {self.interval} intervals",
                                      attr="interval")
            start = step(start, self.interval)
        return out

    def key(self, bucket: dt.datetime) -> str:
        """How a bucket appears in ``days`` (and in query rows)."""
        if self.interval in SUB_DAY:
            return bucket.strftime("%Y-%m-%d %H:%M:%S")
        return bucket.strftime("%Y-%m-%d")

    def label(self, bucket: dt.datetime) -> str:
        """PostHog's chart label of a bucket."""
        if self.interval == "week":
            first = max(bucket.date(), self.date_from.date())
            last = max(min(bucket.date() + dt.timedelta(days=6), self.date_to.date()), first)
            if first == last:
                return first.strftime("%-d-%b-%Y")
            if first.year != last.year:
                return f"{first.strftime('%-d-%b-%Y')} – {last.strftime('%-d-%b-%Y')}"
            if first.month != last.month:
                return f"{first.strftime('%-d-%b')} – {last.strftime('%-d-%b')}"
            return f"{first.strftime('%-d')}–{last.strftime('%-d %b')}"
        formats = {"day": "%-d-%b-%Y", "hour": "%-d-%b %H:%M", "minute": "%-d-%b %H:%M", "month": "%b %Y"}
        return bucket.strftime(formats[self.interval])

    def shifted(self, date_from: dt.datetime, date_to: dt.datetime) -> "DateRange":
        """The same range over other bounds (compare periods), window rule kept."""
        offset = self.window_from - self.date_from
        return DateRange(date_from, date_to, self.interval, self.week_start_day, date_from + offset)

    @property
    def date_from_iso(self) -> str:
        return self.date_from.isoformat()

    @property
    def date_to_iso(self) -> str:
        return self.date_to.isoformat()


def resolve(
    date_range: object | None,
    *,
    interval: str,
    timezone: str,
    week_start_day: int,
    now: dt.datetime,
    earliest: dt.datetime | None = None,
    exact: bool = False,
) -> DateRange:
    """Resolve a request's ``dateRange`` for ``interval`` (``now`` aware, any zone). An ``exact``
    range (PostHog's for ``BoldNumber``) keeps a relative start to the second, starts its window
    there, and ends at ``now`` itself when no ``date_to`` is given."""
    tz = ZoneInfo(timezone)
    local_now = now.astimezone(tz)
    raw_from = getattr(date_range, "date_from", None)
    raw_to = getattr(date_range, "date_to", None)
    explicit = bool(getattr(date_range, "explicitDate", None))

    if raw_from == "all":
        parsed_from = ParsedDate((earliest or local_now).astimezone(tz), None)
    elif raw_from:
        parsed_from = parse_date(raw_from, tz, local_now, field="date_from", truncate=interval != "minute" and not exact)
    else:
        start = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
        parsed_from = ParsedDate(step(start, "day", -DEFAULT_DAYS), "d")
    # a relative date_to keeps its time (what explicitDate and minute intervals then use)
    parsed_to = parse_date(raw_to, tz, local_now, field="date_to", truncate=False) if raw_to \
        else ParsedDate(local_now, "now")

    date_from, date_to = parsed_from.value, parsed_to.value
    if exact and not raw_to:
        return DateRange(date_from, date_to, interval, week_start_day, date_from)
    if not explicit:
        if interval not in SUB_DAY:
            date_to = date_to.replace(hour=23, minute=59, second=59, microsecond=999999)
        elif parsed_to.relative_unit is not None and interval == "hour":
            date_to = date_to.replace(minute=59, second=59, microsecond=999999)
        elif parsed_to.relative_unit is not None:
            date_to = date_to.replace(second=59, microsecond=999999)

    if explicit or exact or interval in SUB_DAY and parsed_from.relative_unit is not None:
        window_from = date_from
    elif interval == "day" and parsed_from.relative_unit == "h":
        window_from = date_from
    elif interval == "week":
        window_from = start_of(date_from, "day", week_start_day)
    else:
        window_from = start_of(date_from, interval, week_start_day)
    return DateRange(date_from, date_to, interval, week_start_day, window_from)


def to_utc(value: dt.datetime) -> dt.datetime:
    """An aware datetime as the naive UTC form events are stored in."""
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
