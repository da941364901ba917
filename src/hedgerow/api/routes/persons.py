"""The Persons API: ``/api/projects/:id/persons/``."""

from hedgerow.api.routing import RouteTable

routes = RouteTable()

BASE = "/api/projects/{project_id}/persons/"
ONE = BASE + "{person_id}/"

routes.bind("GET", BASE, "person.list", name="persons_list")
routes.bind("GET", ONE, "person.retrieve", name="persons_retrieve")
routes.update(ONE, "person.update", name="persons", status=202)
routes.bind("POST", ONE + "update_property/", "person.update_property", name="persons_update_property_create",
            status=202)  # fmt: skip
routes.bind("POST", ONE + "delete_property/", "person.delete_property", name="persons_delete_property_create",
            status=201)  # fmt: skip
routes.bind("DELETE", ONE, "person.delete", name="persons_destroy", status=202)
routes.bind("POST", BASE + "bulk_delete/", "person.bulk_delete", name="persons_bulk_delete_create",
            status=202)  # fmt: skip
routes.bind("POST", BASE, "person.create", name="persons_create", status=405)
