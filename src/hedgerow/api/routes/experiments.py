"""Experiments: ``/api/projects/:id/experiments/``."""

from hedgerow.api.routing import RouteTable

routes = RouteTable()

BASE = "/api/projects/{project_id}/experiments/"
ONE = BASE + "{experiment_id:int}/"

routes.bind("GET", BASE, "experiment.list", name="experiments_list")
routes.bind("POST", BASE, "experiment.create", name="experiments_create", status=201)
routes.bind("GET", ONE, "experiment.retrieve", name="experiments_retrieve")
routes.update(ONE, "experiment.update", name="experiments")
routes.bind("DELETE", ONE, "experiment.destroy", name="experiments_destroy", status=405)
