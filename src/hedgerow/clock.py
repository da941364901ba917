"""Time as the API speaks it: aware UTC datetimes in, DRF-style ISO 8601 strings out."""

from __future__ import annotations

from datetime import datetime, timezone


def now() -> datetime:
    """The current instant, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """Read a stored datetime as aware UTC (SQLite hands back naive values)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def iso(value: datetime | None) -> str | None:
    """Render like Django REST framework: ISO 8601, microseconds when non-zero, UTC as ``Z``."""
    if value is None:
        return None
    text = as_utc(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
