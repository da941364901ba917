"""What a handler receives: the parsed request, who is calling, and where."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.datastructures import QueryParams, URL

from hedgerow.auth.principal import Principal
from hedgerow.services.records import Project

if TYPE_CHECKING:
    from hedgerow.services.container import Services


@dataclass
class Call:
    """One API call, after authentication and authorization.

    ``data`` is the validated body model when the route declares one, else the raw JSON.
    """

    method: str
    url: URL
    path_params: dict[str, str]
    query: QueryParams
    data: Any
    principal: Principal | None
    project: Project | None
    services: "Services"
    headers: dict[str, str]

    @property
    def project_id(self) -> int:
        assert self.project is not None, "route is not project-based"
        return self.project.id
