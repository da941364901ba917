"""The MCP door: tools from the catalogue over Streamable HTTP at ``/mcp`` (and stdio).

Every request is authenticated with a personal API key (``Authorization: Bearer phx_…``);
``tools/list`` shows a key only the tools its scopes allow, and every ``tools/call`` runs
through :func:`~hedgerow.services.catalogue.invoke` — the same decision, rate limit and audit
row as REST. A refusal is a tool result with ``isError`` whose text gives the reason.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import mcp_types as types
import orjson
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.lowlevel import Server
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette

from hedgerow import __version__
from hedgerow.auth.authenticate import principal_for_key
from hedgerow.auth.principal import Principal
from hedgerow.auth.scopes import grants
from hedgerow.errors import Exposed
from hedgerow.mcp.tools import ToolBinding, structured
from hedgerow.services.catalogue import Detail, Reply, Where, invoke
from hedgerow.services.operations import CATALOGUE

if TYPE_CHECKING:
    from hedgerow.services.container import Services

log = logging.getLogger("hedgerow.mcp")

MAX_SESSIONS = 10_000
SWITCH = "switch-project"
INSTRUCTIONS = (
    "Hedgerow speaks PostHog's API. Tools act in one project at a time: the key's only project, "
    "or the one chosen with switch-project, or the project_id argument."
)


class SessionProjects:
    """The project each key chose with ``switch-project`` (bounded, least recently used out)."""

    def __init__(self, limit: int = MAX_SESSIONS) -> None:
        self._chosen: OrderedDict[str, int] = OrderedDict()
        self._limit = limit

    def get(self, key_id: str) -> int | None:
        return self._chosen.get(key_id)

    def set(self, key_id: str, project_id: int) -> None:
        self._chosen[key_id] = project_id
        self._chosen.move_to_end(key_id)
        while len(self._chosen) > self._limit:
            self._chosen.popitem(last=False)


class KeyVerifier:
    """Bearer keys are personal API keys: look each up as REST does."""

    def __init__(self, services: "Services") -> None:
        self._services = services

    async def verify_token(self, token: str) -> AccessToken | None:
        principal, _ = await anyio.to_thread.run_sync(principal_for_key, self._services.meta, token)
        if principal is None:
            return None
        # The principal rides along, so a tool call does not look its key up a second time.
        return AccessToken(token=token, client_id=principal.key_id, scopes=list(principal.scopes),
                           claims={PRINCIPAL: principal})  # fmt: skip


PRINCIPAL = "hedgerow_principal"


def bearer_key() -> str | None:
    """The key of the HTTP request being served (checked by :class:`KeyVerifier`)."""
    token = get_access_token()
    return token.token if token is not None else None


def verified_principal() -> Principal | None:
    """The principal :class:`KeyVerifier` found for the HTTP request being served."""
    token = get_access_token()
    return (token.claims or {}).get(PRINCIPAL) if token is not None else None


class MCPDoor:
    """The tools, bound to the running services; ``key`` says which key is calling (the
    request's bearer key over HTTP, the environment's over stdio)."""

    def __init__(self, services: "Services", key: Callable[[], str | None] = bearer_key) -> None:
        self.services = services
        self.key = key
        self.tools = {b.name: b for b in (ToolBinding(op) for op in CATALOGUE if op.tool is not None)}
        self.projects = SessionProjects()

    def principal(self) -> Principal | None:
        if self.key is bearer_key:
            found = verified_principal()
            if found is not None:
                return found
        key = self.key()
        if key is None:
            return None
        principal, _ = principal_for_key(self.services.meta, key)
        return principal

    async def list_tools(self, ctx: Any, params: Any) -> types.ListToolsResult:
        principal = await anyio.to_thread.run_sync(self.principal)
        visible = [
            binding.describe()
            for binding in self.tools.values()
            if principal is not None and grants(principal.scopes, binding.operation.scope)
            and all(grants(principal.scopes, extra) for extra in binding.operation.also)
        ]  # fmt: skip
        return types.ListToolsResult(tools=visible)

    async def call_tool(self, ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        binding = self.tools.get(params.name)
        if binding is None:
            return _error(f"Unknown tool: {params.name}")
        return await anyio.to_thread.run_sync(self._call, binding, dict(params.arguments or {}))

    def _call(self, binding: ToolBinding, arguments: dict[str, Any]) -> types.CallToolResult:
        principal = self.principal()
        operation = binding.operation
        where = Where()
        if operation.place == "project":
            raw = arguments.pop("project_id", None)
            chosen = raw if raw is not None else (self.projects.get(principal.key_id) if principal else None)
            where = Where(project=str(chosen) if chosen is not None else None)
        try:
            result = invoke(
                self.services, principal, operation, arguments, channel="mcp", where=where,
                detail=Detail("MCP", binding.name),
            )  # fmt: skip
        except Exposed as error:
            return _error(str(error.detail))
        except Exception:  # noqa: BLE001 - the model sees a plain failure, the log the cause
            log.exception("tool %s failed", binding.name)
            return _error(f"Error executing tool {binding.name}")
        if isinstance(result, Reply) and result.status >= 400:
            return _error(orjson.dumps(result.body).decode())
        if binding.name == SWITCH and principal is not None:
            self.projects.set(principal.key_id, int(result["id"]))
        body = structured(result)
        return types.CallToolResult(
            content=[types.TextContent(text=orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS).decode())],
            structured_content=body,
        )

    def server(self) -> Server[Any]:
        return Server(
            "hedgerow",
            version=__version__,
            instructions=INSTRUCTIONS,
            on_list_tools=self.list_tools,
            on_call_tool=self.call_tool,
        )


def _error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=text)], is_error=True)


def streamable_http_app(services: "Services", base_url: str) -> tuple[Starlette, Any]:
    """The ``/mcp`` app and its session manager (run it in the main app's lifespan)."""
    door = MCPDoor(services)
    server = door.server()
    app = server.streamable_http_app(
        streamable_http_path="/mcp",
        json_response=True,  # one JSON answer per call: no event stream to open and parse
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        auth=AuthSettings(issuer_url=base_url, resource_server_url=f"{base_url}/mcp", validate_token_resource=False),
        token_verifier=KeyVerifier(services),
    )
    return app, server.session_manager


async def serve_stdio(services: "Services", key: str) -> None:
    """Serve the tools over stdin/stdout for one key (``hedgerow mcp``)."""
    from mcp.server.stdio import stdio_server

    server = MCPDoor(services, key=lambda: key).server()
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())
