"""Operation outputs: one pydantic model per resource shape, the wire form derived from it.

An operation declares what it answers with ``output=``:

- an :class:`Output` model, or a union of them (``Insight | InsightBasic``: the handler
  answers one or the other, as its input asks): the handler returns instances of it (or a
  :class:`~hedgerow.services.catalogue.Listed` page of them, when its return annotation is
  ``Listed``; or a :class:`~hedgerow.services.catalogue.Reply` whose body is one);
- :data:`EMPTY`: it answers with no body (PostHog's 202s and forbidden deletes);
- nothing (``None``): its answer is JSON not modelled here (query results, whose shape
  belongs to the query kind) or not yet converted to a model.

The doors never shape a resource: REST renders :func:`wire` of the result, MCP answers it as
``structuredContent``, and the OpenAPI document and the MCP tools' ``outputSchema`` come from
:func:`output_schema`. Field order is declaration order, and it is the order on the wire.

Converting a resource that still answers with a hand-written dict: declare an ``Output``
subclass with the dict's keys as fields in the same order, typed as their JSON values
(datetimes as the ISO text the dict held, free-form parts as ``dict[str, Any]`` or ``Any``),
move the dict-building into a classmethod ``of(...)``, return the model from the handlers,
and pass ``output=TheModel`` to the operation. The resource's existing API tests, and the
recorded answers of ``tests/e2e/test_output_bytes.py`` (extend its scenario, recorded on the
code before the change), show the bytes did not change.
"""

from __future__ import annotations

from types import UnionType
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel, ConfigDict, TypeAdapter

if TYPE_CHECKING:
    from hedgerow.services.catalogue.operation import Operation


class Output(BaseModel):
    """Base of every output model: the fields are the answer, nothing else is, and each value
    already has its JSON type (strict: a wrong type is an error, never a silent conversion
    that would change the bytes on the wire)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Success(Output):
    """PostHog's ``{"success": true}``."""

    success: bool = True


class _Empty:
    """The answer has no body."""

    def __repr__(self) -> str:
        return "EMPTY"


EMPTY: Final = _Empty()

Declared = type[BaseModel] | UnionType | _Empty | None
"""What an operation may declare as its output (see the module's docstring)."""


class ErrorBody(Output):
    """PostHog's error body: the whole answer of an operation that always refuses."""

    type: str
    code: str
    detail: str
    attr: str | None


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "attr": {"type": ["string", "null"]},
    },
    "required": ["type", "code", "detail", "attr"],
}
"""PostHog's error body, ``{"type","code","detail","attr"}``."""


def wire(value: Any) -> Any:
    """``value`` with every output model turned into its JSON form (pages and replies kept)."""
    from hedgerow.services.catalogue.operation import Listed, Reply

    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Listed):
        return Listed([wire(v) for v in value.results], value.count, value.limit, value.offset)
    if isinstance(value, Reply):
        return Reply(value.status, wire(value.body), value.headers)
    if isinstance(value, list):
        return [wire(v) for v in value]
    return value


def lists(operation: "Operation") -> bool:
    """Whether the operation answers a page (its handler returns ``Listed``)."""
    from hedgerow.services.catalogue.operation import Listed

    return operation.handler.__annotations__.get("return") in ("Listed", Listed)


def _array(operation: "Operation") -> bool:
    """Whether the operation answers a bare JSON array (its handler returns ``list[...]``)."""
    returned = operation.handler.__annotations__.get("return")
    return str(returned).startswith("list[")


def item_schema(operation: "Operation", ref_template: str = "#/$defs/{model}") -> dict[str, Any] | None:
    """The JSON schema of one resource the operation answers with (None when not modelled)."""
    output = operation.output
    if isinstance(output, UnionType):
        return TypeAdapter(output).json_schema(ref_template=ref_template, mode="serialization")
    if not isinstance(output, type):
        return None
    return output.model_json_schema(ref_template=ref_template, mode="serialization")


PAGE_FIELDS: dict[str, Any] = {
    "count": {"type": ["integer", "null"]},
    "next": {"type": ["string", "null"]},
    "previous": {"type": ["string", "null"]},
}


def output_schema(operation: "Operation", ref_template: str = "#/$defs/{model}") -> dict[str, Any] | None:
    """The JSON schema of the operation's REST answer (a DRF page for lists); None when it
    answers with no body. Nested models are in ``$defs``."""
    if operation.output is EMPTY:
        return None
    item = item_schema(operation, ref_template) or {}
    if _array(operation):
        defs = item.pop("$defs", {})
        array = {"type": "array", "items": item}
        return {**array, "$defs": defs} if defs else array
    if not lists(operation):
        return item
    defs = item.pop("$defs", {})
    page = {
        "type": "object",
        "properties": {**PAGE_FIELDS, "results": {"type": "array", "items": item}},
        "required": ["next", "previous", "results"],
    }
    return {**page, "$defs": defs} if defs else page
