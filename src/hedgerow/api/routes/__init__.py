"""Every route module, in one list: the app, OpenAPI and the scope-matrix test read it."""

from hedgerow.api.routes import (
    agents,
    annotations,
    capture,
    cohorts,
    dashboards,
    definitions,
    feature_flags,
    flag_definitions,
    flags,
    health,
    insights,
    organizations,
    personal_api_keys,
    persons,
    projects,
    query,
    remote_config,
    schema,
    users,
)
from hedgerow.api.routing import Route, RouteTable

# The SDKs' hot paths first: Starlette tries routes in this order.
TABLES: tuple[RouteTable, ...] = (
    flags.routes,
    capture.routes,
    health.routes,
    remote_config.routes,
    schema.routes,
    projects.routes,
    organizations.routes,
    users.routes,
    personal_api_keys.routes,
    flag_definitions.routes,
    feature_flags.routes,
    cohorts.routes,
    persons.routes,
    definitions.routes,
    query.routes,
    agents.routes,
    annotations.routes,
    insights.routes,
    dashboards.routes,
)


def all_routes() -> list[Route]:
    return [route for table in TABLES for route in table]
