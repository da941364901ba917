"""Agents and the audit trail: ``/api/organizations/:id/agents/`` and ``…/audit_log/``
(``@current`` is the caller's organization)."""

from hedgerow.api.routing import RouteTable

routes = RouteTable()

BASE = "/api/organizations/{organization_id}/agents/"
ONE = BASE + "{agent_id}/"

routes.bind("GET", BASE, "agent.list", name="agents_list")
routes.bind("POST", BASE, "agent.create", name="agents_create", status=201)
routes.bind("GET", ONE, "agent.retrieve", name="agents_retrieve")
routes.update(ONE, "agent.update", name="agents")
routes.bind("DELETE", ONE, "agent.revoke", name="agents_destroy", status=204)

routes.bind("GET", "/api/organizations/{organization_id}/audit_log/", "audit.list", name="audit_log_list")
