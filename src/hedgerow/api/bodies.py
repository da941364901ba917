"""Reading request bodies under byte caps that hold while streaming, whatever the framing.

A cap is checked against ``Content-Length`` when one is sent (refused before a byte is read)
and again against the bytes actually received, so a chunked upload stops at the cap too.
Multipart bodies are also capped per part: at most :data:`MAX_FILES` files and
:data:`MAX_FIELDS` text fields, each text field at most :data:`MAX_FIELD_BYTES`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from hedgerow.errors import ParseError, PayloadTooLarge
from hedgerow.ids import is_digits

MAX_BODY_BYTES = 20 * 1024 * 1024
MAX_FILES = 4
MAX_FIELDS = 200
MAX_FIELD_BYTES = 1024 * 1024
FORM = "multipart/form-data"


def is_form(request: Request) -> bool:
    """Whether the body is announced as multipart form data."""
    return request.headers.get("content-type", "").lower().startswith(FORM)


def _refuse_declared(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length", "")
    if is_digits(declared) and int(declared) > limit:
        raise PayloadTooLarge()


async def _capped(request: Request, limit: int) -> AsyncIterator[bytes]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge()
        yield chunk


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refusing more than ``limit`` bytes without reading them all."""
    _refuse_declared(request, limit)
    return b"".join([chunk async for chunk in _capped(request, limit)])


async def read_form(request: Request, limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """A multipart body as a dict: text fields as strings, files as their bytes (first of each)."""
    _refuse_declared(request, limit)
    parser = MultiPartParser(
        request.headers,
        _capped(request, limit),
        max_files=MAX_FILES,
        max_fields=MAX_FIELDS,
        max_part_size=MAX_FIELD_BYTES,
    )
    try:
        form = await parser.parse()
    except MultiPartException as error:
        raise ParseError(f"Multipart form parse error - {error.message}") from None
    found: dict[str, Any] = {}
    if not form.multi_items():  # no part at all (a torn or garbage body): nothing to act on
        await form.close()
        raise ParseError("Multipart form parse error - the body holds no parts")
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                found.setdefault(key, await value.read())
            else:
                found.setdefault(key, value)
    finally:
        await form.close()
    return found
