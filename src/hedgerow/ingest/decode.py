"""Stage 1: raw request bytes to a JSON payload.

PostHog's order (``rust/capture/src/payload/decompression.rs``, ``v0_request.rs``):

1. a form body (``application/x-www-form-urlencoded``, or a GET's query) is unwrapped to its
   ``data`` field first; its ``compression`` field counts as a hint like the query's;
2. gunzip when the hint says gzip (``Content-Encoding: gzip``, ``?compression=gzip-js``) **or**
   the bytes start with the gzip magic ``1f 8b`` (the current browser SDK sends no hint);
3. otherwise lz-string when the hint is ``lz64``, base64 when it is ``base64``;
4. the text is UTF-8; if it still looks strictly like base64 (legacy clients), decode once more.

Size: the raw body is limited by the route (2 MB event routes, 20 MB ``/batch/``) and the
decompressed body by ``max_size`` as well, so a small gzip bomb cannot expand in memory.

Cost: with ``inline_limit`` set, decoding stops with :class:`DecodeInWorker` as soon as it
turns out costly (a body or a decompressed text over the limit, or any lz-string, which is a
pure-Python loop), so the caller can do it again on a worker thread instead of the event loop.
A worker still holds the GIL for as long as one C call runs, and parsing 16 MB of JSON in one
call takes 100-250 ms: a text over ``PIECEWISE_BYTES`` that is an array of events or a batch
envelope is parsed an element at a time instead (:func:`parse_json_in_pieces`).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from typing import Any, Mapping
from urllib.parse import parse_qs

import orjson

from hedgerow.ingest.errors import (
    PayloadTooLarge,
    RequestDecodingError,
    RequestParsingError,
)
from hedgerow.ingest.lzstring import LZStringError, LZStringTooLarge, decompress_from_base64

EVENT_ROUTE_LIMIT = 2 * 1024 * 1024
"""Body limit of ``/e``, ``/i/v0/e``, ``/capture``, ``/track``, ``/engage``."""
BATCH_ROUTE_LIMIT = 20 * 1024 * 1024
"""Body limit of ``/batch``."""

_GZIP_MAGIC = b"\x1f\x8b"
_LZ64 = ("lz64", "lz-string")
INLINE_BYTES = 256 * 1024
"""What the capture paths decode on the event loop: bodies (and decompressed texts) up to
this size, never lz-string (see ``inline_limit``). An SDK's batch of 100 events (~100 KB)
stays on the loop, where it is fastest; parsing 256 KB takes ~1 ms."""
PIECEWISE_BYTES = 1024 * 1024
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_BOUNDS = json.JSONDecoder()


class DecodeInWorker(Exception):
    """Decoding this body costs more than ``inline_limit`` allows: do it off the event loop."""
_BASE64_STRICT = re.compile(rb"^[A-Za-z0-9+/]+={0,2}$")
_FORM_TYPE = "application/x-www-form-urlencoded"


def decode_body(
    body: bytes,
    *,
    content_type: str | None = None,
    content_encoding: str | None = None,
    query: Mapping[str, str] | None = None,
    method: str = "POST",
    max_size: int = EVENT_ROUTE_LIMIT,
    inline_limit: int | None = None,
) -> Any:
    """Decode one capture request to its JSON payload (dict or list).

    ``query`` maps each query parameter to its (first) value. Raises
    :class:`~hedgerow.ingest.errors.CaptureError` subclasses, and :class:`DecodeInWorker`
    when ``inline_limit`` is set and the work turns out bigger than that.
    """
    query = query or {}
    if len(body) > max_size:
        raise PayloadTooLarge(f"request body of {len(body)} bytes is over {max_size} bytes")
    if inline_limit is not None and len(body) > inline_limit:
        raise DecodeInWorker()
    hint = (query.get("compression") or "").lower()
    raw: bytes
    form = False
    if method.upper() == "GET" or (not body and "data" in query):
        data = query.get("data")
        if not data:
            raise RequestDecodingError("request missing data payload")
        raw = data.encode("utf-8", "surrogatepass")
        form = True
    elif _is_form(content_type, body):
        fields = parse_qs(body.decode("latin-1"), keep_blank_values=True)
        if "data" not in fields:
            raise RequestDecodingError("form body without a data field")
        raw = fields["data"][0].encode("latin-1")
        if "compression" in fields and not hint:
            hint = fields["compression"][0].lower()
        form = True
    else:
        raw = body

    if not raw:
        raise RequestDecodingError("empty request body")

    encoding = (content_encoding or "").strip().lower()
    if raw[:2] == _GZIP_MAGIC or hint in ("gzip", "gzip-js") or encoding == "gzip":
        raw = _gunzip(raw, max_size, inline_limit)
    elif hint in _LZ64:
        if inline_limit is not None:
            raise DecodeInWorker()
        raw = _lz64(raw, max_size)
    elif hint == "base64":
        raw = _b64(raw)
    elif encoding not in ("", "identity"):
        raise RequestDecodingError(f"unsupported content encoding {encoding!r}")

    if len(raw) > max_size:
        raise PayloadTooLarge(f"decompressed body is over {max_size} bytes")

    if raw[:1] not in (b"{", b"["):
        # Legacy rule: text that still looks strictly like base64 is decoded once more.
        candidate = raw.strip()
        if form:
            candidate = candidate.replace(b" ", b"+")  # a form's '+' may arrive as ' '
        if _BASE64_STRICT.match(candidate):
            raw = _b64(candidate)
            if raw[:2] == _GZIP_MAGIC:
                raw = _gunzip(raw, max_size, inline_limit)
    if len(raw) > PIECEWISE_BYTES:
        return parse_json_in_pieces(raw)
    return parse_json(raw)


def parse_json(raw: bytes | str) -> Any:
    """Parse JSON like serde_json would, tolerating lone UTF-16 surrogates.

    Browsers can send ``"\\ud800"`` escapes; orjson refuses them, so such bodies take a slow
    path that replaces each lone surrogate with U+FFFD.
    """
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        message = str(exc)
    if "surrogate" in message and "UTF-8" not in message:
        try:
            return _replace_surrogates(json.loads(raw))
        except ValueError:
            pass
    if "UTF-8" in message:
        raise RequestDecodingError("invalid UTF-8 in request body")
    raise RequestParsingError(message)


def parse_json_in_pieces(raw: bytes) -> Any:
    """:func:`parse_json`, but an array (or the ``batch`` array of an object) element by
    element, so no single call holds the GIL for long. The standard library's scanner finds
    where each element ends; orjson (through :func:`parse_json`) makes its value, so the
    result and what is refused are the same as a whole parse's."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestDecodingError("invalid UTF-8 in request body") from None
    start = _WHITESPACE.match(text, 0).end()
    try:
        if text[start:start + 1] == "[":
            value, end = _array_in_pieces(text, start)
        elif text[start:start + 1] == "{":
            value, end = _object_in_pieces(text, start)
        else:
            return parse_json(raw)
    except (ValueError, RecursionError) as exc:
        raise RequestParsingError(str(exc)[:200]) from None
    if _WHITESPACE.match(text, end).end() != len(text):
        raise RequestParsingError("trailing characters after the JSON value")
    return value


def _element(text: str, start: int) -> tuple[Any, int]:
    end = _BOUNDS.raw_decode(text, start)[1]
    return parse_json(text[start:end]), end  # orjson reads str as well


def _array_in_pieces(text: str, start: int) -> tuple[list[Any], int]:
    items: list[Any] = []
    at, done = _first_member(text, start, "]")
    while not done:
        item, at = _element(text, at)
        items.append(item)
        at, done = _after_member(text, at, "]")
    return items, at


def _object_in_pieces(text: str, start: int) -> tuple[dict[str, Any], int]:
    members: dict[str, Any] = {}
    at, done = _first_member(text, start, "}")
    while not done:
        if text[at:at + 1] != '"':
            raise ValueError(f"expected a key at character {at}")
        key, at = _element(text, at)
        at = _WHITESPACE.match(text, at).end()
        if text[at:at + 1] != ":":
            raise ValueError(f"expected ':' at character {at}")
        at = _WHITESPACE.match(text, at + 1).end()
        if key == "batch" and text[at:at + 1] == "[":
            members[key], at = _array_in_pieces(text, at)
        else:
            members[key], at = _element(text, at)
        at, done = _after_member(text, at, "}")
    return members, at


def _first_member(text: str, opener: int, closer: str) -> tuple[int, bool]:
    """Where the first member after the opening bracket starts, or past an empty container."""
    at = _WHITESPACE.match(text, opener + 1).end()
    return (at + 1, True) if text[at:at + 1] == closer else (at, False)


def _after_member(text: str, at: int, closer: str) -> tuple[int, bool]:
    """Past the comma to the next member, or past the closing bracket (then True)."""
    at = _WHITESPACE.match(text, at).end()
    separator = text[at:at + 1]
    if separator == closer:
        return at + 1, True
    if separator != ",":
        raise ValueError(f"expected ',' or {closer!r} at character {at}")
    return _WHITESPACE.match(text, at + 1).end(), False


def _is_form(content_type: str | None, body: bytes) -> bool:
    if content_type and content_type.split(";", 1)[0].strip().lower() == _FORM_TYPE:
        return True
    return body[:5] == b"data="


def _gunzip(raw: bytes, max_size: int, inline_limit: int | None = None) -> bytes:
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    cap = max_size if inline_limit is None else min(max_size, inline_limit)
    try:
        out = inflater.decompress(raw, cap + 1)
    except zlib.error as exc:
        raise RequestDecodingError(f"invalid gzip data: {exc}") from None
    if cap < max_size and (len(out) > cap or inflater.unconsumed_tail):
        raise DecodeInWorker()
    if len(out) > max_size or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"decompressed body is over {max_size} bytes")
    if not inflater.eof:
        raise RequestDecodingError("truncated gzip data")
    return out


def _lz64(raw: bytes, max_size: int) -> bytes:
    try:
        text = raw.decode("ascii").strip().replace(" ", "+")
        return decompress_from_base64(text, max_chars=max_size).encode("utf-8", "surrogatepass")
    except LZStringTooLarge:
        raise PayloadTooLarge(f"decompressed body is over {max_size} bytes") from None
    except (UnicodeError, LZStringError) as exc:
        raise RequestDecodingError(f"invalid lz64 data: {exc}") from None


def _b64(raw: bytes) -> bytes:
    cleaned = raw.strip().replace(b" ", b"+")
    try:
        return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise RequestDecodingError(f"invalid base64 data: {exc}") from None


def _replace_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_surrogates(v) for v in value]
    return value
