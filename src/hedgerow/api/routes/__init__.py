"""Every route module, in one list: the app, OpenAPI and the scope-matrix test read it."""

from __future__ import annotations

from hedgerow.api.routes import (
    cohorts,
    feature_flags,
    health,
    organizations,
    personal_api_keys,
    projects,
    query,
    schema,
    users,
)
from hedgerow.api.routing import Route, RouteTable

TABLES: tuple[RouteTable, ...] = (
    health.routes,
    schema.routes,
    projects.routes,
    organizations.routes,
    users.routes,
    personal_api_keys.routes,
    feature_flags.routes,
    cohorts.routes,
    query.routes,
)


def all_routes() -> list[Route]:
    return [route for table in TABLES for route in table]
