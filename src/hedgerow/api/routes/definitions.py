"""Event and property definitions: ``/api/projects/:id/event_definitions/`` and
``…/property_definitions/``."""

from hedgerow.api.routing import RouteTable

routes = RouteTable()

EVENTS = "/api/projects/{project_id}/event_definitions/"
PROPERTIES = "/api/projects/{project_id}/property_definitions/"

routes.bind("GET", EVENTS, "event_definition.list", name="event_definitions_list")
routes.bind("GET", EVENTS + "{definition_id}/", "event_definition.retrieve", name="event_definitions_retrieve")
routes.bind("GET", PROPERTIES, "property_definition.list", name="property_definitions_list")
routes.bind("GET", PROPERTIES + "{definition_id}/", "property_definition.retrieve",
            name="property_definitions_retrieve")  # fmt: skip
