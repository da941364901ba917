"""The calling user: ``GET /api/users/@me/``."""

from hedgerow.api.routing import RouteTable

routes = RouteTable()
routes.bind("GET", "/api/users/@me/", "user.me", name="users_retrieve")
