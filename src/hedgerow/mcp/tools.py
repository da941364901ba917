"""MCP tools generated from the operation catalogue: names, schemas, hints, results.

A tool is an operation with a :class:`~hedgerow.services.catalogue.Tool` declaration. Its
input schema is the operation's input model (plus ``project_id`` for operations that live
under a project); its output schema is the operation's output model (a page of them for
lists), and its structured result is the operation's result in that model's JSON form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mcp_types as types

from hedgerow.services.catalogue import Listed, Operation, Reply, wire
from hedgerow.services.catalogue.output import item_schema, lists

PROJECT_ARGUMENT = {
    "type": "integer",
    "description": "The project to act in; defaults to the session's project (switch-project).",
}
LIST_OUTPUT = {
    "type": "object",
    "properties": {
        "count": {"type": ["integer", "null"]},
        "results": {"type": "array"},
        "has_more": {"type": "boolean"},
        "next_offset": {"type": ["integer", "null"]},
    },
    "required": ["results", "has_more"],
}
OBJECT_OUTPUT = {"type": "object", "additionalProperties": True}


@dataclass(frozen=True)
class ToolBinding:
    """A tool and the operation it runs."""

    operation: Operation

    @property
    def name(self) -> str:
        assert self.operation.tool is not None
        return self.operation.tool.name

    def describe(self) -> types.Tool:
        tool = self.operation.tool
        assert tool is not None
        return types.Tool(
            name=tool.name,
            title=tool.title,
            description=f"{tool.title}. {self.operation.summary} (needs {self.operation.scope})",
            input_schema=self.input_schema(),
            output_schema=self.output_schema(),
            annotations=types.ToolAnnotations(
                title=tool.title,
                read_only_hint=tool.read_only,
                destructive_hint=tool.destructive,
                idempotent_hint=tool.idempotent or tool.read_only,
                open_world_hint=False,
            ),
        )

    def input_schema(self) -> dict[str, Any]:
        tool = self.operation.tool
        assert tool is not None
        schema = dict(tool.input_schema or self.operation.input.model_json_schema())
        if schema.get("type") != "object":
            schema = {"type": "object", "additionalProperties": True}
        schema.pop("title", None)
        if self.operation.place == "project":
            schema["properties"] = {**schema.get("properties", {}), "project_id": PROJECT_ARGUMENT}
        return schema


    def output_schema(self) -> dict[str, Any]:
        """The structured result's schema: the output model (each of a page's results)."""
        item = item_schema(self.operation)
        if item is not None:
            item.pop("title", None)
        if lists(self.operation):
            if item is None:
                return LIST_OUTPUT
            defs = item.pop("$defs", None)
            results = {**LIST_OUTPUT["properties"]["results"], "items": item}
            schema = {**LIST_OUTPUT, "properties": {**LIST_OUTPUT["properties"], "results": results}}
            return {**schema, "$defs": defs} if defs else schema
        if item is not None and "anyOf" in item:
            return {"type": "object", **item}  # a union of output models: each is an object
        return item if item is not None and item.get("type") == "object" else OBJECT_OUTPUT


def structured(result: Any) -> dict[str, Any]:
    """An operation's result as the JSON object a tool answers with."""
    result = wire(result)
    if isinstance(result, Listed):
        more = result.has_more
        return {
            "count": result.count,
            "results": result.results,
            "has_more": more,
            "next_offset": result.offset + result.limit if more else None,
        }
    if isinstance(result, Reply):
        result = result.body if result.body is not None else {"status": result.status}
    if isinstance(result, dict):
        return result
    return {"result": result}
