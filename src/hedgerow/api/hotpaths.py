"""The SDKs' hottest endpoints (/flags/, /decide/, and event capture) served without the router.

Flag evaluation is a few tens of microseconds; Starlette's router, middleware stack and
request objects cost more than that per call. Capture is the same story for single-event
requests (posthog-js posts one event per request to ``/e/``): measured with bench/ingest.py,
~25% more of them per second through this layer. It answers those paths straight from the
ASGI scope (CORS included) and hands everything else on (including OPTIONS, HEAD and
recordings). The routed endpoints remain, and behave the same: both call
:func:`~hedgerow.api.routes.flags.answer_async`, and for capture the ingestor with the helpers of
:mod:`hedgerow.api.routes.capture`.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

import orjson

from starlette.types import ASGIApp, Receive, Scope, Send

from hedgerow.api.routes.capture import CAPTURE_PATHS, OK, too_large
from hedgerow.api.routes.flags import answer_async
from hedgerow.errors import SERVER_ERROR_BODY, Exposed
from hedgerow.ids import is_digits
from hedgerow.ingest.pipeline import body_limit

log = logging.getLogger("hedgerow.api")

ROUTES = {"/flags": "flags", "/flags/": "flags", "/decide": "decide", "/decide/": "decide"}
CAPTURE = {**{path.rstrip("/"): path for path in CAPTURE_PATHS}, **{path: path for path in CAPTURE_PATHS}}
"""Capture paths, with or without the trailing slash, to the routed spelling."""
METHODS = ("GET", "POST")
FLAGS_BODY_LIMIT = 2 * 1024 * 1024
JSON = "application/json"


class HotPaths:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state = getattr(app, "state", None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in METHODS:
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        route = ROUTES.get(path)
        if route is not None:
            await self._flags(route, scope, receive, send)
            return
        capture_path = CAPTURE.get(path)
        if capture_path is not None:
            await self._capture(capture_path, scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _flags(self, route: str, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        body = await _read_body(receive, FLAGS_BODY_LIMIT + 1, keep_reading=True)
        try:
            status, media_type, payload = await answer_async(
                self.state.services, route, scope["method"], _query(scope), headers, body or b""
            )
        except Exposed as error:
            status, media_type, payload = error.status, JSON, orjson.dumps(error.body())
        except Exception:  # noqa: BLE001 - never let an error escape to the server
            log.exception("flag evaluation failed")
            status, media_type, payload = 500, JSON, orjson.dumps(SERVER_ERROR_BODY)
        await _respond(send, status, media_type, payload, headers.get("origin"))

    async def _capture(self, path: str, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        extra: dict[str, str] = {}
        try:
            limit = body_limit(path)
            declared = headers.get("content-length", "")
            if is_digits(declared) and int(declared) > limit:
                raise too_large(limit)
            body = await _read_body(receive, limit)
            if body is None:
                raise too_large(limit)
            client = scope.get("client")
            await self.state.services.ingestor.ingest(
                body, headers, _query(scope),
                self.state.client_address(headers.get("x-forwarded-for"),
                                          client[0] if client else None),
                path, scope["method"],
            )  # fmt: skip
            status, payload = 200, OK
        except Exposed as error:
            status, payload, extra = error.status, orjson.dumps(error.body()), error.headers
        except Exception:  # noqa: BLE001 - never let an error escape to the server
            log.exception("capture failed")
            status, payload = 500, orjson.dumps(SERVER_ERROR_BODY)
        await _respond(send, status, JSON, payload, headers.get("origin"), extra)


def _headers(scope: Scope) -> dict[str, str]:
    """Request headers by lower-case name (the first of repeated ones, as Starlette's)."""
    headers: dict[str, str] = {}
    for key, value in scope["headers"]:
        headers.setdefault(key.decode("latin-1"), value.decode("latin-1"))
    return headers


def _query(scope: Scope) -> dict[str, str]:
    """Query parameters, the first value of each."""
    query: dict[str, str] = {}
    for key, value in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True):
        query.setdefault(key, value)
    return query


async def _read_body(receive: Receive, limit: int, *, keep_reading: bool = False) -> bytes | None:
    """The body, or None once it passes ``limit`` bytes (then the rest is read and dropped
    when ``keep_reading``, else left unread)."""
    chunks = []
    size = 0
    more = True
    while more:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
        elif not keep_reading:
            return None
        more = message.get("more_body", False)
    return b"".join(chunks) if size <= limit or keep_reading else None


async def _respond(send: Send, status: int, media_type: str, body: bytes, origin: str | None,
                   extra: dict[str, str] | None = None) -> None:  # fmt: skip
    """The response, with the CORS headers the public endpoints send (see api/cors.py)."""
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", media_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    if origin:
        headers += [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-credentials", b"true"),
            (b"vary", b"Origin"),
        ]
    else:
        headers.append((b"access-control-allow-origin", b"*"))
    for name, value in (extra or {}).items():
        headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    message: dict[str, Any] = {"type": "http.response.start", "status": status, "headers": headers}
    await send(message)
    await send({"type": "http.response.body", "body": body})
