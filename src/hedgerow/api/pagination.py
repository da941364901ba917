"""The list envelope: ``limit``/``offset`` in, ``count``/``next``/``previous``/``results`` out.

``next`` and ``previous`` are absolute URLs that keep every other query parameter, as DRF's
``LimitOffsetPagination`` makes them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import URL, QueryParams


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def _non_negative(raw: str | None, default: int, *, strict_positive: bool) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        return default
    if value < 0 or (strict_positive and value == 0):
        return default
    return value


def page_from(query: QueryParams, default_limit: int = 100, max_limit: int | None = None) -> Page:
    """The requested page; malformed values fall back to defaults, as DRF does."""
    limit = _non_negative(query.get("limit"), default_limit, strict_positive=True)
    if max_limit is not None:
        limit = min(limit, max_limit)
    return Page(limit=limit, offset=_non_negative(query.get("offset"), 0, strict_positive=False))


def _with(url: URL, **params: Any) -> str:
    """``url`` with ``params`` set (None removes one); keys sorted, as DRF writes them."""
    items = [(k, v) for k, v in QueryParams(url.query).multi_items() if k not in params]
    items += [(k, str(v)) for k, v in params.items() if v is not None]
    return str(url.replace(query=urlencode(sorted(items, key=lambda kv: kv[0]))))


def envelope(url: URL, page: Page, results: Sequence[Any], count: int) -> dict[str, Any]:
    """DRF's paginated body for ``results`` (one page) out of ``count`` in all."""
    next_url = None
    if page.offset + page.limit < count:
        next_url = _with(url, limit=page.limit, offset=page.offset + page.limit)
    previous_url = None
    if page.offset > 0:
        if page.offset - page.limit <= 0:
            previous_url = _with(url, limit=page.limit, offset=None)
        else:
            previous_url = _with(url, limit=page.limit, offset=page.offset - page.limit)
    return {"count": count, "next": next_url, "previous": previous_url, "results": list(results)}


def paginate(
    url: URL,
    query: QueryParams,
    fetch: Callable[[Page], tuple[Sequence[Any], int]],
    default_limit: int = 100,
) -> dict[str, Any]:
    """Fetch one page with ``fetch(page) -> (rows, total)`` and wrap it in the envelope."""
    page = page_from(query, default_limit)
    rows, total = fetch(page)
    return envelope(url, page, rows, total)
