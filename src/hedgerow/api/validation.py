"""Request bodies as JSON (validation against an operation's input model is the catalogue's)."""

from __future__ import annotations

from typing import Any

import orjson

from hedgerow.errors import ParseError

def parse_json(raw: bytes) -> Any:
    """The body as JSON (None for an empty body); 400 ``parse_error`` when it is not JSON."""
    if not raw or not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ParseError(f"JSON parse error - {error}") from None
