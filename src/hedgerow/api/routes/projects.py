"""Projects: ``/api/projects/`` (``/api/environments/`` is the same)."""

from hedgerow.api.routing import RouteTable

routes = RouteTable()
routes.bind("GET", "/api/projects/", "project.list", name="projects_list")
routes.bind("POST", "/api/projects/", "project.create", name="projects_create", status=201)
routes.bind("GET", "/api/projects/{project_id}/", "project.retrieve", name="projects_retrieve")
routes.update("/api/projects/{project_id}/", "project.update", name="projects")
