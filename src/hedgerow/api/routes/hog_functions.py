"""Destinations (hog functions): ``/api/projects/:id/hog_functions/``."""

from hedgerow.api.routing import RouteTable

routes = RouteTable()

BASE = "/api/projects/{project_id}/hog_functions/"
ONE = BASE + "{hog_function_id}/"

routes.bind("GET", BASE, "hog_function.list", name="hog_functions_list")
routes.bind("POST", BASE, "hog_function.create", name="hog_functions_create", status=201)
routes.bind("GET", ONE + "logs/", "hog_function.logs", name="hog_functions_logs_retrieve")
routes.bind("GET", ONE + "metrics/totals/", "hog_function.metrics_totals", name="hog_functions_metrics_totals_retrieve")
routes.bind("GET", ONE + "metrics/", "hog_function.metrics", name="hog_functions_metrics_retrieve")
routes.bind("GET", ONE, "hog_function.retrieve", name="hog_functions_retrieve")
routes.update(ONE, "hog_function.update", name="hog_functions")
routes.bind("DELETE", ONE, "hog_function.destroy", name="hog_functions_destroy", status=405)
