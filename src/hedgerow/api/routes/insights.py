"""Saved insights: ``/api/projects/:id/insights/`` (and ``/api/environments/:id/insights/``)."""

from hedgerow.api.routing import RouteTable

routes = RouteTable()

BASE = "/api/projects/{project_id}/insights/"
ONE = BASE + "{insight_id}/"  # a numeric id or an 8-character short id

routes.bind("GET", BASE, "insight.list", name="insights_list")
routes.bind("POST", BASE, "insight.create", name="insights_create", status=201)
routes.bind("GET", ONE, "insight.retrieve", name="insights_retrieve")
routes.update(ONE, "insight.update", name="insights")
routes.bind("DELETE", ONE, "insight.destroy", name="insights_destroy", status=405)
