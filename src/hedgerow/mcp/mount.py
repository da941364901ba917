"""``/mcp`` (and its OAuth protected-resource metadata) go to the MCP app, the rest on."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

MCP_PATHS = ("/mcp", "/mcp/")
METADATA_PREFIX = "/.well-known/oauth-protected-resource"


class MCPMount:
    def __init__(self, app: ASGIApp, state: Any) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope.get("path", "")
            if path in MCP_PATHS or path.startswith(METADATA_PREFIX):
                mcp = getattr(self.state, "mcp", None)
                if mcp is not None:
                    await mcp(dict(scope, path=path.rstrip("/") or "/"), receive, send)
                    return
        await self.app(scope, receive, send)
