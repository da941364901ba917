"""Feature flag management: ``/api/projects/:id/feature_flags/``."""

from hedgerow.api.routing import RouteTable

routes = RouteTable()

BASE = "/api/projects/{project_id}/feature_flags/"
ONE = BASE + "{flag_id:int}/"

routes.bind("GET", BASE, "feature_flag.list", name="feature_flags_list")
routes.bind("POST", BASE, "feature_flag.create", name="feature_flags_create", status=201)
routes.bind("GET", ONE, "feature_flag.retrieve", name="feature_flags_retrieve")
routes.update(ONE, "feature_flag.update", name="feature_flags")
routes.bind("DELETE", ONE, "feature_flag.destroy", name="feature_flags_destroy", status=405)
