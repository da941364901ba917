"""Annotations: ``/api/projects/:id/annotations/``."""

from hedgerow.api.routing import RouteTable

routes = RouteTable()

BASE = "/api/projects/{project_id}/annotations/"
ONE = BASE + "{annotation_id:int}/"

routes.bind("GET", BASE, "annotation.list", name="annotations_list")
routes.bind("POST", BASE, "annotation.create", name="annotations_create", status=201)
routes.bind("GET", ONE, "annotation.retrieve", name="annotations_retrieve")
routes.update(ONE, "annotation.update", name="annotations")
routes.bind("DELETE", ONE, "annotation.destroy", name="annotations_destroy", status=405)
