"""Actions: ``/api/projects/:id/actions/``."""

from hedgerow.api.routing import RouteTable

routes = RouteTable()

BASE = "/api/projects/{project_id}/actions/"
ONE = BASE + "{action_id:int}/"

routes.bind("GET", BASE, "action.list", name="actions_list")
routes.bind("POST", BASE, "action.create", name="actions_create", status=201)
routes.bind("GET", ONE, "action.retrieve", name="actions_retrieve")
routes.update(ONE, "action.update", name="actions")
routes.bind("DELETE", ONE, "action.destroy", name="actions_destroy", status=405)
