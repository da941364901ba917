"""Dashboards: ``/api/projects/:id/dashboards/`` (and ``/api/environments/:id/dashboards/``)."""

from hedgerow.api.routing import RouteTable

routes = RouteTable()

BASE = "/api/projects/{project_id}/dashboards/"
ONE = BASE + "{dashboard_id:int}/"

routes.bind("GET", BASE, "dashboard.list", name="dashboards_list")
routes.bind("POST", BASE, "dashboard.create", name="dashboards_create", status=201)
routes.bind("GET", ONE, "dashboard.retrieve", name="dashboards_retrieve")
routes.update(ONE, "dashboard.update", name="dashboards")
routes.bind("DELETE", ONE, "dashboard.destroy", name="dashboards_destroy", status=405)
