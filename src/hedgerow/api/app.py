"""The application factory."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Route as StarletteRoute

from hedgerow.api.client_address import ClientAddress
from hedgerow.api.dispatch import keyed_endpoint, public_endpoint, unrouted
from hedgerow.api.errors import unexpected
from hedgerow.api.cors import PublicCORS
from hedgerow.api.hotpaths import HotPaths
from hedgerow.api.paths import PathNormaliser
from hedgerow.api.routes import all_routes
from hedgerow.config import Settings
from hedgerow.mcp.mount import MCPMount
from hedgerow.mcp.server import streamable_http_app
from hedgerow.services.container import Services


def create_app(settings: Settings | None = None, on_started: Callable[[], None] | None = None) -> HotPaths:
    """A ready-to-serve ASGI app; stores open in its lifespan and close with it.

    ``on_started`` runs once the stores are open and loaded, before the first request.
    """
    settings = settings or Settings.from_env()
    routes = all_routes()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        services = Services.open(settings, analytics=True)
        app.state.services = services
        app.state.mcp, sessions = streamable_http_app(services, f"http://{settings.host}:{settings.port}")
        try:
            async with sessions.run():
                if on_started is not None:
                    on_started()
                yield
        finally:
            services.close()

    starlette_routes = [
        StarletteRoute(
            route.path,
            keyed_endpoint(route) if route.auth == "key" else public_endpoint(route),
            methods=[route.method],
            name=route.name,
        )
        for route in routes
    ]
    app = Starlette(
        routes=starlette_routes,
        exception_handlers={HTTPException: unrouted, Exception: unexpected},
        lifespan=lifespan,
    )
    app.state.client_address = ClientAddress(settings.trusted_proxies)
    public = [route.path for route in routes if route.auth == "public" and route.path != "/api/schema/"]
    wrapped = HotPaths(MCPMount(PathNormaliser(PublicCORS(app, public)), app.state))
    wrapped.state = app.state  # the running services, for in-process tests and tools
    return wrapped
