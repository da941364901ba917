"""The SDKs' hottest endpoint (/flags/, /decide/) served without the router.

Flag evaluation is a few tens of microseconds; Starlette's router, middleware stack and
request objects cost more than that per call. This outermost layer answers those paths
straight from the ASGI scope (CORS included) and hands everything else on. The routed
endpoints in :mod:`hedgerow.api.routes.flags` remain, and behave the same: both call
:func:`~hedgerow.api.routes.flags.answer`.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

import orjson

from starlette.types import ASGIApp, Receive, Scope, Send

from hedgerow.api.routes.flags import answer
from hedgerow.errors import SERVER_ERROR_BODY, Exposed

log = logging.getLogger("hedgerow.api")

ROUTES = {"/flags": "flags", "/flags/": "flags", "/decide": "decide", "/decide/": "decide"}
METHODS = ("GET", "POST")


class HotPaths:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state = getattr(app, "state", None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = ROUTES.get(scope.get("path", "")) if scope["type"] == "http" else None
        if route is None or scope["method"] not in METHODS:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        query: dict[str, str] = {}
        for key, value in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True):
            query.setdefault(key, value)
        chunks = []
        size = 0
        more = True
        while more:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= 2 * 1024 * 1024 + 1:
                chunks.append(chunk)
            more = message.get("more_body", False)
        try:
            status, media_type, body = answer(
                self.state.services, route, scope["method"], query, headers, b"".join(chunks)
            )
        except Exposed as error:
            status, media_type, body = error.status, "application/json", orjson.dumps(error.body())
        except Exception:  # noqa: BLE001 - never let an error escape to the server
            log.exception("flag evaluation failed")
            status, media_type, body = 500, "application/json", orjson.dumps(SERVER_ERROR_BODY)
        response_headers = [
            (b"content-type", media_type.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        origin = headers.get("origin")
        if origin:
            response_headers += [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-credentials", b"true"),
                (b"vary", b"Origin"),
            ]
        else:
            response_headers.append((b"access-control-allow-origin", b"*"))
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": body})
