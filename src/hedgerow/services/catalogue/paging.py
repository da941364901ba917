"""List inputs: ``limit``/``offset`` read as leniently as DRF's LimitOffsetPagination."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hedgerow.services.catalogue.operation import Listed

T = TypeVar("T")


MAX_COUNT = 2**62
"""Where a limit or offset stops growing: past any row count, within every database's integers."""


def _lenient(raw: Any, default: int, *, positive: bool) -> int:
    """``raw`` as a non-negative integer (positive when asked), else ``default``; at most
    :data:`MAX_COUNT`."""
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    if value < 0 or (positive and value == 0):
        return default
    return min(value, MAX_COUNT)


class Paged(BaseModel):
    """A list operation's input: malformed ``limit``/``offset`` fall back to the defaults."""

    model_config = ConfigDict(extra="ignore")
    DEFAULT_LIMIT: ClassVar[int] = 100
    MAX_LIMIT: ClassVar[int | None] = None

    # Documented as text: anything is read, and what is not a count falls back to the default.
    limit: int | None = Field(default=None, json_schema_extra={"type": "string"})
    offset: int = Field(default=0, json_schema_extra={"type": "string"})

    @field_validator("limit", mode="before")
    @classmethod
    def _limit(cls, raw: Any) -> int:
        value = _lenient(raw, cls.DEFAULT_LIMIT, positive=True)
        return min(value, cls.MAX_LIMIT) if cls.MAX_LIMIT is not None else value

    @field_validator("offset", mode="before")
    @classmethod
    def _offset(cls, raw: Any) -> int:
        return _lenient(raw, 0, positive=False)

    @property
    def page_limit(self) -> int:
        return self.limit if self.limit is not None else self.DEFAULT_LIMIT


def listing(args: Paged, fetch: Callable[[int, int], tuple[Sequence[Any], int | None]]) -> Listed:
    """One page: ``fetch(limit, offset) -> (rows, total)``."""
    rows, total = fetch(args.page_limit, args.offset)
    return Listed(list(rows), total, args.page_limit, args.offset)


def sliced(args: Paged, rows: Sequence[Any]) -> Listed:
    """One page of rows already in memory."""
    return listing(args, lambda limit, offset: (rows[offset : offset + limit], len(rows)))


def shown(args: Paged, rows: Sequence[T], show: Callable[[T], Any]) -> Listed:
    """One page of rows already in memory, each shown as ``show(row)`` (only the page's rows)."""
    page = sliced(args, rows)
    return Listed([show(row) for row in page.results], page.count, page.limit, page.offset)
