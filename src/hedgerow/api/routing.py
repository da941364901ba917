"""The route table: REST's bindings onto the operation catalogue, plus the public endpoints.

A keyed route binds ``(method, path, status)`` to an operation: the scope, rate category and
place come from the operation, so REST, MCP and the CLI cannot disagree about them. Public
routes (capture, flags, remote config, health, the schema) take a project token or nothing
and keep a plain handler. The app, the OpenAPI document and the scope-matrix test are all
derived from this table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from hedgerow.auth.scopes import Scope
from hedgerow.services.catalogue import Operation
from hedgerow.services.operations import CATALOGUE

Handler = Callable[..., Any]

PROJECT_PARAM = "{project_id}"


@dataclass(frozen=True)
class Route:
    """One endpoint: ``operation`` for keyed routes, ``handler`` for public ones."""

    method: str
    path: str
    name: str
    status: int = 200
    operation: Operation | None = None
    handler: Handler | None = None
    project_from_token: bool = False
    summary: str = ""

    @property
    def auth(self) -> str:
        return "key" if self.operation is not None else "public"

    @property
    def scope(self) -> Scope | None:
        return self.operation.scope if self.operation else None

    @property
    def extra_scopes(self) -> tuple[Scope, ...]:
        return self.operation.also if self.operation else ()

    @property
    def exempt_from_limits(self) -> bool:
        return self.operation.about_caller if self.operation else False

    @property
    def self_service(self) -> bool:
        return self.operation.self_service if self.operation else False

    @property
    def accepts_project_secret(self) -> bool:
        return self.operation.accepts_project_secret if self.operation else False

    @property
    def project_based(self) -> bool:
        """Under a project: named in the path, or by the ``token`` query parameter."""
        return PROJECT_PARAM in self.path or self.project_from_token


class RouteTable:
    """A module's routes, in declaration order."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def bind(self, method: str, path: str, operation: str, *, name: str, status: int = 200,
             project_from_token: bool = False) -> None:  # fmt: skip
        """``method path`` runs ``operation`` and answers ``status`` on success."""
        if not path.endswith("/"):
            raise ValueError(f"route paths end with a slash: {path}")
        op = CATALOGUE[operation]
        self.routes.append(Route(method, path, name, status, operation=op,
                                 project_from_token=project_from_token, summary=op.summary))  # fmt: skip

    def update(self, path: str, operation: str, *, name: str, status: int = 200) -> None:
        """PATCH (``<name>_partial_update``) and PUT (``<name>_update``) onto one operation:
        DRF treats both as partial updates of the same resource here."""
        self.bind("PATCH", path, operation, name=f"{name}_partial_update", status=status)
        self.bind("PUT", path, operation, name=f"{name}_update", status=status)

    def public(self, method: str, path: str, *, name: str) -> Callable[[Handler], Handler]:
        """A public endpoint (project token or no credentials), handled as it is."""

        def register(handler: Handler) -> Handler:
            summary = (handler.__doc__ or "").strip().split("\n")[0]
            self.routes.append(Route(method, path, name, handler=handler, summary=summary))
            return handler

        return register

    def __iter__(self) -> Iterator[Route]:
        return iter(self.routes)
