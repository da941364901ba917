"""The OpenAPI document, derived from the route table (the same table that decides access)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from hedgerow import __version__
from hedgerow.api.routing import Route

_PARAM = re.compile(r"{([a-z_]+)(?::[a-z]+)?}")


def _operation(route: Route) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": route.name,
        "summary": route.summary,
        "tags": [route.path.strip("/").split("/")[1 if route.path.startswith("/api/") else 0]],
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _PARAM.findall(route.path)
        ],
        "responses": {str(route.status): {"description": "Success"}},
    }
    if route.auth == "key":
        operation["security"] = [{"PersonalAPIKeyAuth": [str(route.scope)] if route.scope else []}]
        operation["x-required-scope"] = str(route.scope) if route.scope else None
    if route.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": route.body.model_json_schema()}},
        }
    return operation


def build(routes: Iterable[Route]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        path = _PARAM.sub(lambda m: "{" + m.group(1) + "}", route.path)
        paths.setdefault(path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Hedgerow (PostHog-compatible API)", "version": __version__},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "PersonalAPIKeyAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "phx_..."}
            }
        },
    }
