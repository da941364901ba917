"""The query API's request shapes (PostHog's ``QueryRequest`` and query nodes), as pydantic.

Only the fields Hedgerow acts on are declared; other fields PostHog's clients send (``tags``,
``version``, ``response``...) are accepted and ignored. The ``query`` field is a union over the
kinds registered with the query service, discriminated by ``kind``; a body that does not fit
is PostHog's 400 ``parse_error`` with pydantic's message.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Literal, Union

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from hedgerow.errors import ParseError

REFRESH_MODES = (
    "blocking",
    "async",
    "lazy_async",
    "force_blocking",
    "force_async",
    "force_cache",
    "async_except_on_cache_miss",
)


class Node(BaseModel):
    """A query node: unknown fields are ignored, declared ones are type-checked."""

    model_config = ConfigDict(extra="ignore")


class DateRange(Node):
    date_from: str | None = None
    date_to: str | None = None
    explicitDate: bool | None = None


class HogQLFilters(Node):
    dateRange: DateRange | None = None
    properties: list[dict[str, Any]] | dict[str, Any] | None = None
    filterTestAccounts: bool | None = None


class HogQLVariable(Node):
    variableId: str
    code_name: str
    value: Any = None
    isNull: bool | None = None


class HogQLQuery(Node):
    kind: Literal["HogQLQuery"]
    query: str
    values: dict[str, Any] | None = None
    filters: HogQLFilters | None = None
    variables: dict[str, HogQLVariable] | None = None
    modifiers: dict[str, Any] | None = None
    explain: bool | None = None
    name: str | None = None


class EventsQuery(Node):
    kind: Literal["EventsQuery"]
    select: list[str]
    where: list[str] | None = None
    properties: list[dict[str, Any]] | dict[str, Any] | None = None
    fixedProperties: list[dict[str, Any]] | dict[str, Any] | None = None
    event: str | None = None
    events: list[str] | None = None
    orderBy: list[str] | None = None
    after: str | None = None
    before: str | None = None
    limit: int | None = None
    offset: int | None = None
    personId: str | None = None
    actionId: int | None = None
    filterTestAccounts: bool | None = None
    modifiers: dict[str, Any] | None = None


Refresh = Union[bool, Literal[REFRESH_MODES]]  # type: ignore[valid-type]


@lru_cache(maxsize=8)
def request_model(kinds: tuple[type[Node], ...]) -> type[BaseModel]:
    """``QueryRequest`` whose ``query`` is one of ``kinds`` (by their ``kind`` literal)."""
    query_type: Any = kinds[0] if len(kinds) == 1 else Annotated[Union[kinds], Field(discriminator="kind")]
    return pydantic.create_model(
        "QueryRequest",
        __config__=ConfigDict(extra="ignore", populate_by_name=True),
        query=(query_type, ...),
        refresh=(Refresh | None, None),
        async_=(bool | None, Field(None, alias="async")),
        client_query_id=(str | None, None),
        name=(str | None, Field(None, max_length=128)),
        filters_override=(dict[str, Any] | None, None),
        variables_override=(dict[str, dict[str, Any]] | None, None),
        limit_context=(str | None, None),
    )


def parse_request(data: Any, kinds: tuple[type[Node], ...]) -> BaseModel:
    """The validated request, or PostHog's ``JSON parse error - <pydantic message>`` 400."""
    try:
        return request_model(kinds).model_validate(data)
    except pydantic.ValidationError as error:
        raise ParseError(f"JSON parse error - {error}") from None
