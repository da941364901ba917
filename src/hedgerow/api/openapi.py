"""The OpenAPI document, derived from the route table and the operations it binds.

Every keyed operation documents its path and query parameters and its body from the
operation's input model, its success answer from its output model, and every status it can
answer with PostHog's error body. A query parameter that carries JSON as text (declared
with ``contentMediaType: application/json`` and a ``contentSchema``) is documented as the
JSON it must hold.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

from hedgerow import __version__
from hedgerow.api.routing import Route
from hedgerow.services.catalogue.output import ERROR_SCHEMA, output_schema

_PARAM = re.compile(r"{([a-z_]+)(?::([a-z]+))?}")
_READS = ("GET", "HEAD", "DELETE")
_REF = "#/components/schemas/{model}"

ERROR_STATUSES = {
    "400": "Invalid input",
    "401": "No valid credentials",
    "403": "Not allowed",
    "404": "Not found",
    "405": "Method not allowed",
    "413": "Body too large",
    "429": "Rate limited",
}
NO_BODY = "No response body"


def _operation(route: Route, components: dict[str, Any]) -> dict[str, Any]:
    path_params = {name: kind for name, kind in _PARAM.findall(route.path)}
    operation: dict[str, Any] = {
        "operationId": route.name,
        "summary": route.summary,
        "tags": [route.path.strip("/").split("/")[1 if route.path.startswith("/api/") else 0]],
        "parameters": [],
        "responses": {str(route.status): {"description": "Success"}},
    }
    fields: dict[str, Any] = {}
    required: set[str] = set()
    schema: dict[str, Any] = {}
    if route.operation is not None:
        schema = route.operation.input.model_json_schema(ref_template=_REF)
        components.update(schema.pop("$defs", {}))
        fields = dict(schema.get("properties", {}))
        required = set(schema.get("required", []))
    operation["parameters"] = [_path_parameter(name, kind, fields.pop(name, None)) for name, kind in path_params.items()]
    if route.operation is None:
        return operation
    operation["x-operation"] = route.operation.name
    operation["security"] = [{"PersonalAPIKeyAuth": [str(route.scope)]}]
    operation["x-required-scope"] = str(route.scope)
    if route.method in _READS:
        operation["parameters"] += [_query_parameter(name, spec, name in required) for name, spec in fields.items()]
    elif schema.get("type", "object") == "object":
        needed = sorted(required & fields.keys())
        body = {**schema, "properties": fields, "required": needed}
        body.pop("title", None)
        operation["requestBody"] = {"required": bool(needed), "content": {"application/json": {"schema": body}}}
    else:  # the input is not an object of fields (a query request): its own schema, whole
        schema.pop("title", None)
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    operation["responses"] = {str(route.status): _success(route, components)}
    for status, description in ERROR_STATUSES.items():
        operation["responses"].setdefault(status, {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        })  # fmt: skip
    return operation


def _success(route: Route, components: dict[str, Any]) -> dict[str, Any]:
    """The documented answer of a call that succeeds (405 for the ones PostHog forbids)."""
    assert route.operation is not None
    schema = output_schema(route.operation, _REF)
    if schema is None or route.status == 204:  # a 204 has no body, whatever is declared
        return {"description": NO_BODY}
    components.update(schema.pop("$defs", {}))
    return {"description": route.summary or "Success", "content": {"application/json": {"schema": schema}}}


def _path_parameter(name: str, kind: str | None, spec: dict[str, Any] | None) -> dict[str, Any]:
    """A path segment: an integer where the route converts one, else the input field's text
    rule (a pattern where it has one)."""
    if kind == "int":
        schema: dict[str, Any] = {"type": "integer", "minimum": 0}
    else:
        schema = {"type": "string", **({"pattern": spec["pattern"]} if spec and "pattern" in spec else {})}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query_parameter(name: str, spec: dict[str, Any], required: bool) -> dict[str, Any]:
    parameter: dict[str, Any] = {"name": name, "in": "query", "required": required}
    branches = [s for s in spec.get("anyOf", []) if s.get("type") != "null"]
    inner = {**(branches[0] if branches else {}), **{k: v for k, v in spec.items() if k != "anyOf"}}
    if inner.get("contentMediaType") == "application/json" and "contentSchema" in inner:
        parameter["content"] = {"application/json": {"schema": inner["contentSchema"]}}
    elif len(branches) > 1:  # several forms of text (a date, or nothing)
        parameter["schema"] = {"anyOf": [_scalar(branch) for branch in branches]}
    else:
        parameter["schema"] = _scalar(inner)
    if "description" in spec:
        parameter["description"] = spec["description"]
    return parameter


def _scalar(spec: dict[str, Any]) -> dict[str, Any]:
    """A query parameter: a closed set of choices stays a closed set, a number or boolean the
    operation insists on stays one (with its bounds), text keeps its format or pattern.
    Parameters read leniently, as DRF reads ``limit``, declare themselves text."""
    if "enum" in spec:
        return {"type": "string", "enum": spec["enum"]}
    if spec.get("type") in ("integer", "number", "boolean"):
        return {k: spec[k] for k in ("type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") if k in spec}
    return {"type": "string", **{k: spec[k] for k in ("format", "pattern") if k in spec}}


DOCUMENTED_PUBLIC = ("/_health/",)
"""Public routes in the document. The SDK endpoints (capture, /flags/, remote config) speak
the SDKs' protocol, not the REST API's, and PostHog's schema leaves them out too."""


def build(routes: Iterable[Route]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    components: dict[str, Any] = {}
    for route in routes:
        if route.operation is None and route.path not in DOCUMENTED_PUBLIC:
            continue
        path = _PARAM.sub(lambda m: "{" + m.group(1) + "}", route.path)
        paths.setdefault(path, {})[route.method.lower()] = _operation(route, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Hedgerow (PostHog-compatible API)", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": {**components, "Error": ERROR_SCHEMA},
            "securitySchemes": {
                "PersonalAPIKeyAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "phx_..."}
            },
        },
    }


@functools.cache
def document() -> dict[str, Any]:
    """This server's document, built on first use and kept: the route table is fixed in code,
    and building it (every input and output model's JSON schema) took ~0.13 s at every app
    start, which every in-process test and every server process paid."""
    from hedgerow.api.routes import all_routes  # the route table's schema route imports this module

    return build(all_routes())
