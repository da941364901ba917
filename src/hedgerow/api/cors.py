"""CORS for the public endpoints (capture, flags, remote config): any origin may call them.

Web pages post events and ask for flags from their own origin, so these endpoints mirror the
caller's origin and headers and allow credentials, as PostHog does. The private API (personal
API keys) gets no CORS headers: browsers must not call it with a user's key from a page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALLOWED_METHODS = "GET, POST, OPTIONS"


class PublicCORS:
    def __init__(self, app: ASGIApp, public_paths: Iterable[str]) -> None:
        self.app = app
        paths = set(public_paths)
        self._exact = frozenset(p for p in paths if "{" not in p)
        self._patterns: list[re.Pattern[str]] = [compile_path(p)[0] for p in paths if "{" in p]

    def _is_public(self, path: str) -> bool:
        return path in self._exact or any(pattern.match(path) for pattern in self._patterns)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        cors = [(b"access-control-allow-origin", (origin or "*").encode("latin-1"))]
        if origin:
            cors += [(b"access-control-allow-credentials", b"true"), (b"vary", b"Origin")]
        if scope["method"] == "OPTIONS":
            requested = headers.get("access-control-request-headers", "content-type")
            await send({
                "type": "http.response.start",
                "status": 200,
                "headers": cors + [
                    (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
                    (b"access-control-allow-headers", requested.encode("latin-1")),
                    (b"access-control-max-age", b"3600"),
                    (b"content-length", b"0"),
                ],
            })
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": list(message.get("headers", [])) + cors}
            await send(message)

        await self.app(scope, receive, send_with_cors)
