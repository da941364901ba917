"""Path normalisation before routing: optional trailing slashes and the environments alias.

PostHog answers with or without the trailing slash, and serves ``/api/environments/:id/...``
as an alias of ``/api/projects/:id/...`` (same id). Routes are declared once, with the slash,
under ``/api/projects/``; this middleware maps every spelling onto them.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

ENVIRONMENTS = "/api/environments/"
PROJECTS = "/api/projects/"
ORIGINAL_PATH = "hedgerow.original_path"


class PathNormaliser:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: object | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            original = scope["path"]
            path = original
            if path.startswith(ENVIRONMENTS):
                path = PROJECTS + path[len(ENVIRONMENTS):]
            if not path.endswith("/"):
                path += "/"
            if path != original:
                scope = dict(scope, path=path)
            scope[ORIGINAL_PATH] = original
        await self.app(scope, receive, send)
