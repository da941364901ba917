"""The list envelope: ``limit``/``offset`` in, ``count``/``next``/``previous``/``results`` out.

``next`` and ``previous`` are absolute URLs that keep every other query parameter, as DRF's
``LimitOffsetPagination`` makes them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import URL, QueryParams

from hedgerow.services.catalogue import Listed


def _with(url: URL, **params: Any) -> str:
    """``url`` with ``params`` set (None removes one); keys sorted, as DRF writes them."""
    items = [(k, v) for k, v in QueryParams(url.query).multi_items() if k not in params]
    items += [(k, str(v)) for k, v in params.items() if v is not None]
    return str(url.replace(query=urlencode(sorted(items, key=lambda kv: kv[0]))))


def envelope(url: URL, listed: Listed) -> dict[str, Any]:
    """DRF's paginated body for one page of a list (``count`` left out when not counted)."""
    next_url = None
    if listed.has_more:
        next_url = _with(url, limit=listed.limit, offset=listed.offset + listed.limit)
    previous_url = None
    if listed.offset > 0:
        if listed.offset - listed.limit <= 0:
            previous_url = _with(url, limit=listed.limit, offset=None)
        else:
            previous_url = _with(url, limit=listed.limit, offset=listed.offset - listed.limit)
    body: dict[str, Any] = {"next": next_url, "previous": previous_url, "results": list(listed.results)}
    if listed.count is not None:
        body = {"count": listed.count, **body}
    return body
