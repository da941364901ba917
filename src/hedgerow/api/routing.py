"""The route table: every endpoint declares, in one place, what it needs.

A route names its method, path, operation id, the scope it requires (``None`` refuses
personal API keys), its rate-limit category, and whether it lives under a project. The app,
the OpenAPI document and the scope-matrix test are all derived from these declarations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from hedgerow.auth.scopes import Scope

Handler = Callable[..., Any]

PROJECT_PARAM = "{project_id}"


@dataclass(frozen=True)
class Route:
    """One endpoint. ``auth`` is ``"key"`` (personal API key + scopes) or ``"public"``.

    ``self_service`` routes are about personal API keys themselves: a key may only read
    itself there (no scope needed) and is refused everything else, whatever its scopes;
    their ``scope`` names the object for the audit log and the schema.
    """

    method: str
    path: str
    name: str
    handler: Handler
    scope: Scope | None
    rate: str = "default"
    auth: str = "key"
    status: int = 200
    body: type[BaseModel] | None = None
    exempt_from_limits: bool = False
    project_from_token: bool = False
    accepts_project_secret: bool = False
    extra_scopes: tuple[Scope, ...] = ()
    self_service: bool = False
    summary: str = ""

    @property
    def project_based(self) -> bool:
        """Under a project: named in the path, or by the ``token`` query parameter."""
        return PROJECT_PARAM in self.path or self.project_from_token


class RouteTable:
    """A module's routes; decorators append to it in declaration order."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        name: str,
        scope: str | None,
        rate: str | None = None,
        auth: str = "key",
        status: int = 200,
        body: type[BaseModel] | None = None,
        exempt_from_limits: bool = False,
        project_from_token: bool = False,
        accepts_project_secret: bool = False,
        also_requires: tuple[str, ...] = (),
        self_service: bool = False,
    ) -> Callable[[Handler], Handler]:
        if not path.endswith("/"):
            raise ValueError(f"route paths end with a slash: {path}")
        parsed = Scope.parse(scope) if scope else None
        if rate is None:
            rate = "write" if parsed and parsed.action == "write" else "default"

        def register(handler: Handler) -> Handler:
            self.routes.append(
                Route(
                    method=method,
                    path=path,
                    name=name,
                    handler=handler,
                    scope=parsed,
                    rate=rate,
                    auth=auth,
                    status=status,
                    body=body,
                    exempt_from_limits=exempt_from_limits,
                    project_from_token=project_from_token,
                    accepts_project_secret=accepts_project_secret,
                    extra_scopes=tuple(Scope.parse(s) for s in also_requires),
                    self_service=self_service,
                    summary=(handler.__doc__ or "").strip().split("\n")[0],
                )
            )
            return handler

        return register

    def get(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **kw)

    def patch(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, **kw)

    def put(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, **kw)

    def update(self, path: str, *, name: str, **kw: Any) -> Callable[[Handler], Handler]:
        """One handler for PATCH (``<name>_partial_update``) and PUT (``<name>_update``): DRF
        treats both as partial updates of the same resource here."""
        patch = self.route("PATCH", path, name=f"{name}_partial_update", **kw)
        put = self.route("PUT", path, name=f"{name}_update", **kw)

        def register(handler: Handler) -> Handler:
            return put(patch(handler))

        return register

    def delete(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, **kw)

    def __iter__(self) -> Iterator[Route]:
        return iter(self.routes)
