"""JSON responses, rendered with orjson."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def empty(status: int) -> Response:
    """A response with no body (PostHog's 202/204 and 405-on-DELETE answers)."""
    return Response(status_code=status)
