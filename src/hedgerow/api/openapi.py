"""The OpenAPI document, derived from the route table and the operations it binds.

Every keyed operation documents its path and query parameters and its body from the
operation's input model, and every status it can answer with PostHog's error body.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from hedgerow import __version__
from hedgerow.api.routing import Route

_PARAM = re.compile(r"{([a-z_]+)(?::([a-z]+))?}")
_READS = ("GET", "HEAD", "DELETE")

ERROR_STATUSES = {
    "400": "Invalid input",
    "401": "No valid credentials",
    "403": "Not allowed",
    "404": "Not found",
    "405": "Method not allowed",
    "413": "Body too large",
    "429": "Rate limited",
}
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "attr": {"type": ["string", "null"]},
    },
    "required": ["type", "code", "detail", "attr"],
}


def _input_schema(route: Route) -> tuple[dict[str, Any], set[str]]:
    assert route.operation is not None
    schema = route.operation.input.model_json_schema(ref_template="#/components/schemas/{model}")
    return schema, set(schema.get("required", []))


def _operation(route: Route) -> dict[str, Any]:
    path_params = {name: kind for name, kind in _PARAM.findall(route.path)}
    operation: dict[str, Any] = {
        "operationId": route.name,
        "summary": route.summary,
        "tags": [route.path.strip("/").split("/")[1 if route.path.startswith("/api/") else 0]],
        "parameters": [
            {"name": name, "in": "path", "required": True,
             "schema": {"type": "integer"} if kind == "int" else {"type": "string"}}
            for name, kind in path_params.items()
        ],  # fmt: skip
        "responses": {str(route.status): {"description": "Success"}},
    }
    if route.operation is None:
        return operation
    operation["x-operation"] = route.operation.name
    operation["security"] = [{"PersonalAPIKeyAuth": [str(route.scope)]}]
    operation["x-required-scope"] = str(route.scope)
    schema, required = _input_schema(route)
    fields = {k: v for k, v in schema.get("properties", {}).items() if k not in path_params}
    if route.method in _READS:
        operation["parameters"] += [
            {"name": name, "in": "query", "required": name in required, "schema": _scalar(spec)}
            for name, spec in fields.items()
        ]
    else:
        needed = sorted(required & fields.keys())
        body = {**schema, "properties": fields, "required": needed}
        body.pop("title", None)
        operation["requestBody"] = {"required": bool(needed), "content": {"application/json": {"schema": body}}}
    for status, description in ERROR_STATUSES.items():
        operation["responses"][status] = {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    return operation


def _scalar(spec: dict[str, Any]) -> dict[str, Any]:
    """Query parameters arrive as text, read leniently as DRF reads them (a malformed
    ``limit`` falls back to the default); a closed set of choices stays a closed set."""
    choices = spec.get("enum") or next((s["enum"] for s in spec.get("anyOf", []) if "enum" in s), None)
    return {"type": "string", "enum": choices} if choices else {"type": "string"}


DOCUMENTED_PUBLIC = ("/_health/",)
"""Public routes in the document. The SDK endpoints (capture, /flags/, remote config) speak
the SDKs' protocol, not the REST API's, and PostHog's schema leaves them out too."""


def build(routes: Iterable[Route]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if route.operation is None and route.path not in DOCUMENTED_PUBLIC:
            continue
        path = _PARAM.sub(lambda m: "{" + m.group(1) + "}", route.path)
        paths.setdefault(path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Hedgerow (PostHog-compatible API)", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {
                "PersonalAPIKeyAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "phx_..."}
            },
        },
    }
