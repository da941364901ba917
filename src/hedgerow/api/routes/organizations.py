"""Organizations: ``/api/organizations/`` and ``/api/organizations/:id/`` (``@current``)."""

from hedgerow.api.routing import RouteTable

routes = RouteTable()
routes.bind("GET", "/api/organizations/", "organization.list", name="organizations_list")
routes.bind("GET", "/api/organizations/{organization_id}/", "organization.retrieve",
            name="organizations_retrieve")  # fmt: skip
