"""An operation: one use case, declared once, served by every door (REST, MCP, CLI).

An operation names the object it acts on and whether it reads or writes it (together, the
scope a personal API key needs), where it lives (under a project, an organization, or about
the caller), the model its input is validated with, and the handler that does the work. The
doors only translate: REST binds ``(method, path, status)`` to an operation, MCP turns it
into a tool, the CLI calls it as the operator. :func:`~hedgerow.services.catalogue.invoke`
is the one way to run any of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from hedgerow.auth.principal import Principal
from hedgerow.auth.scopes import Scope
from hedgerow.services.catalogue.output import EMPTY, Declared

if TYPE_CHECKING:
    from hedgerow.services.container import Services
    from hedgerow.store.meta.tenancy import Project

Place = Literal["project", "organization", "global", "caller"]
Channel = Literal["rest", "mcp", "cli"]


class NoInput(BaseModel):
    """The input of an operation that takes none (unknown fields are ignored, as DRF does)."""

    model_config = ConfigDict(extra="ignore")


@dataclass(frozen=True)
class Tool:
    """How an operation shows itself as an MCP tool (PostHog's tool name where it has one)."""

    name: str
    title: str
    read_only: bool
    destructive: bool = False
    idempotent: bool = False
    input_schema: dict[str, Any] | None = None


@dataclass(frozen=True)
class Context:
    """What a handler is given besides its input: who calls, where, through which door."""

    principal: Principal
    services: "Services"
    channel: Channel
    project: "Project | None" = None
    organization_id: str | None = None

    @property
    def project_id(self) -> int:
        assert self.project is not None, "the operation does not live under a project"
        return self.project.id

    @property
    def user_id(self) -> int | None:
        return self.principal.user_id


Handler = Callable[[Context, Any], Any]


@dataclass(frozen=True)
class Operation:
    """One use case. ``scope`` is what a key must hold; ``also`` lists further scopes."""

    name: str
    scope: Scope
    handler: Handler
    input: type[BaseModel]
    place: Place
    summary: str
    rate: str = "default"
    also: tuple[Scope, ...] = ()
    accepts_project_secret: bool = False
    self_service: bool = False
    tool: Tool | None = None
    output: Declared = None

    @property
    def object(self) -> str:
        return self.scope.object

    @property
    def action(self) -> str:
        return self.scope.action

    @property
    def about_caller(self) -> bool:
        """Operations about the caller itself (``users/@me``): key limits do not apply."""
        return self.place == "caller"


@dataclass(frozen=True)
class Listed:
    """A page of a list: ``count`` is the total (None when not counted), ``offset``/``limit``
    the page that was asked for. Doors render it: REST as DRF's envelope, MCP as an object."""

    results: list[Any]
    count: int | None
    limit: int
    offset: int

    @property
    def has_more(self) -> bool:
        if self.count is None:
            return len(self.results) >= self.limit
        return self.offset + self.limit < self.count


@dataclass(frozen=True)
class Reply:
    """A result that says more than a body: its own status (``body`` None answers with no
    body, as PostHog's 202/204/405 do) and headers (``ETag``)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


SOFT_DELETE_ONLY = "Hard deletion is not allowed: 405 with no body (soft-delete with ``deleted: true``)."


@dataclass
class Catalogue:
    """Every operation by name, in declaration order."""

    operations: dict[str, Operation] = field(default_factory=dict)

    def operation(
        self,
        name: str,
        scope: str,
        *,
        input: type[BaseModel] = NoInput,
        place: Place = "project",
        rate: str | None = None,
        also: tuple[str, ...] = (),
        accepts_project_secret: bool = False,
        self_service: bool = False,
        tool: Tool | None = None,
        output: Declared = None,
    ) -> Callable[[Handler], Handler]:
        parsed = Scope.parse(scope)

        def register(handler: Handler) -> Handler:
            if name in self.operations:
                raise ValueError(f"operation declared twice: {name}")
            self.operations[name] = Operation(
                name=name,
                scope=parsed,
                handler=handler,
                input=input,
                place=place,
                summary=(handler.__doc__ or "").strip().split("\n")[0],
                rate=rate or ("write" if parsed.action == "write" else "default"),
                also=tuple(Scope.parse(s) for s in also),
                accepts_project_secret=accepts_project_secret,
                self_service=self_service,
                tool=tool,
                output=output,
            )
            return handler

        return register

    def soft_delete_only(self, name: str, scope: str, *, input: type[BaseModel], summary: str = SOFT_DELETE_ONLY,
                         ) -> None:  # fmt: skip
        """Declare ``name`` as PostHog's refused hard deletion: 405 with no body (such a
        resource is soft-deleted with ``deleted: true``)."""
        def refuse(ctx: Context, args: Any) -> Reply:
            return Reply(405)

        refuse.__doc__ = summary
        self.operation(name, scope, input=input, output=EMPTY)(refuse)

    def __getitem__(self, name: str) -> Operation:
        return self.operations[name]

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.operations.values())

    def merge(self, *others: "Catalogue") -> "Catalogue":
        for other in others:
            for op in other:
                if op.name in self.operations:
                    raise ValueError(f"operation declared twice: {op.name}")
                self.operations[op.name] = op
        return self
