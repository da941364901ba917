"""``{filters}``: the HogQLFilters date range and property filters as a HogQL condition.

Dates accept ISO strings (naive ones are in the project timezone), ``all``, and relative forms
``-7d``, ``-2w``, ``-1m``, ``-1y``, ``-6h`` with an optional ``Start``/``End`` suffix.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from sqlglot import exp

from hedgerow.hogql.errors import PlaceholderError
from hedgerow.hogql.functions.dates import now_utc
from hedgerow.hogql.nodes import Value
from hedgerow.hogql.parse import span_of
from hedgerow.hogql.property_filters import FilterEnv, field, property_filter

_RELATIVE = re.compile(r"^-?(\d+)([hdwmyq])(Start|End)?$")
_TIMESTAMP_FIELDS = {"events": "timestamp", "sessions": "$start_timestamp", "groups": "created_at",
                     "persons": "created_at"}  # fmt: skip
_SCOPES = {"events": "event", "sessions": "session", "groups": "group", "persons": "person"}


def parse_date(text: Any, timezone: str, now: Any, *, end: bool = False) -> dt.datetime | None:
    """A filter date as naive UTC; None for ``all``/empty."""
    if text in (None, "", "all"):
        return None
    if not isinstance(text, str):
        raise PlaceholderError("Filter dates must be strings")
    tz = ZoneInfo(timezone)
    local_now = now_utc_aware(now).astimezone(tz)
    match = _RELATIVE.match(text.strip())
    if match:
        amount, unit, edge = int(match.group(1)), match.group(2), match.group(3)
        try:
            value = _shift(local_now, unit, -amount)
            if edge:
                value = _edge(value, unit, edge == "End")
            return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        except (OverflowError, ValueError):  # before year 1 (or past 9999)
            raise PlaceholderError(f"Invalid filter date '{text}'") from None
    try:
        parsed = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise PlaceholderError(f"Invalid filter date '{text}'") from None
    if len(text.strip()) <= 10 and end:
        parsed = parsed + dt.timedelta(days=1)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)


def now_utc_aware(now: Any) -> dt.datetime:
    from hedgerow.hogql.functions.spec import Env

    return now_utc(Env(now=now)).replace(tzinfo=dt.timezone.utc)


def _shift(value: dt.datetime, unit: str, amount: int) -> dt.datetime:
    if unit == "h":
        return value + dt.timedelta(hours=amount)
    if unit == "d":
        return value + dt.timedelta(days=amount)
    if unit == "w":
        return value + dt.timedelta(weeks=amount)
    months = amount * {"m": 1, "q": 3, "y": 12}[unit]
    month_index = value.month - 1 + months
    year, month = value.year + month_index // 12, month_index % 12 + 1
    return value.replace(year=year, month=month, day=min(value.day, 28))


def _edge(value: dt.datetime, unit: str, end: bool) -> dt.datetime:
    start = value.replace(minute=0, second=0, microsecond=0)
    if unit != "h":
        start = start.replace(hour=0)
    if unit in ("m", "q", "y"):
        start = start.replace(day=1)
    if unit == "y":
        start = start.replace(month=1)
    if unit == "w":
        start = start - dt.timedelta(days=start.weekday())
    if not end:
        return start
    step = {"h": dt.timedelta(hours=1), "d": dt.timedelta(days=1), "w": dt.timedelta(weeks=1)}
    if unit in step:
        return start + step[unit] - dt.timedelta(microseconds=1)
    return _shift(start, unit, 1) - dt.timedelta(microseconds=1)


def _enclosing_table(node: exp.Expression) -> tuple[str | None, str | None]:
    select = node.find_ancestor(exp.Select)
    if select is None:
        return None, None
    tables = []
    from_ = select.args.get("from_") or select.args.get("from")
    if from_ is not None:
        tables.append(from_.this)
    tables += [j.this for j in select.args.get("joins") or []]
    for table in tables:
        if isinstance(table, exp.Table) and table.name in _TIMESTAMP_FIELDS:
            return table.name, table.alias_or_name
    return None, None


def _field(alias: str | None, *parts: str) -> exp.Expression:
    return field(*([alias] if alias else []), *parts)


def expand(name: str, node: exp.Expression, c) -> exp.Expression:
    """The expression for ``{filters}`` / ``{filters.dateRange.from|to}`` at ``node``."""
    filters = c.ctx.filters or {}
    date_range = filters.get("dateRange") or {}
    tz, now = c.ctx.timezone, c.ctx.now
    if name in ("filters.dateRange.from", "filters.dateRange.to"):
        end = name.endswith(".to")
        value = parse_date(date_range.get("date_to" if end else "date_from"), tz, now, end=end)
        if value is None:
            raise PlaceholderError(f"{{{name}}} has no value")
        return Value(this=value)
    if name != "filters":
        start, stop = span_of(node)
        raise PlaceholderError(f"Unknown placeholder {{{name}}}", start=start, end=stop)
    table, alias = _enclosing_table(node)
    conditions: list[exp.Expression] = []
    if table is not None:
        ts = _field(alias, _TIMESTAMP_FIELDS[table])
        date_from = parse_date(date_range.get("date_from"), tz, now)
        date_to = parse_date(date_range.get("date_to"), tz, now, end=True)
        if date_from is not None:
            conditions.append(exp.GTE(this=ts, expression=Value(this=date_from)))
        if date_to is not None:
            conditions.append(exp.LT(this=ts.copy(), expression=Value(this=date_to)))
        properties = filters.get("properties")
        if properties:
            env = FilterEnv(scope=_SCOPES[table], alias=alias, timezone=tz, now=now)
            conditions.append(property_filter(properties, env))
    elif filters.get("properties") or date_range:
        start, stop = span_of(node)
        raise PlaceholderError(
            "{filters} can only be used in a SELECT from events, sessions, persons or groups",
            start=start,
            end=stop,
        )
    if not conditions:
        return exp.true()
    return exp.Paren(this=exp.and_(*conditions))
