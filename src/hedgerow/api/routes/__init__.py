"""Every route module, in one list: the app, OpenAPI and the scope-matrix test read it."""

from hedgerow.api.routes import (
    actions,
    agents,
    annotations,
    capture,
    cohorts,
    dashboards,
    definitions,
    experiments,
    feature_flags,
    flag_definitions,
    flags,
    health,
    insights,
    hog_functions,
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
    actions.routes,
    insights.routes,
    dashboards.routes,
    hog_functions.routes,
    experiments.routes,
)


def all_routes() -> list[Route]:
    return [route for table in TABLES for route in table]
