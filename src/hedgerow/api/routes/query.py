"""The query API: ``/api/projects/:id/query/`` (run), ``…/query/:query_id/`` (poll, cancel)."""

from hedgerow.api.routing import RouteTable

routes = RouteTable()

BASE = "/api/projects/{project_id}/query/"
ONE = BASE + "{query_id}/"

routes.bind("POST", BASE, "query.run", name="query_create")
routes.bind("GET", ONE, "query.status", name="query_retrieve")
routes.bind("DELETE", ONE, "query.cancel", name="query_destroy")
