"""Stage 2: a decoded payload to the request's events, its token and its ``sent_at``.

Body shapes (PostHog accepts all of them, untagged):

* a batch envelope ``{"api_key"|"token", "batch": [...], "sent_at", "historical_migration"}``;
* an array of events (historic posthog-js, recordings);
* a single event object;
* on ``/engage``, a person-update object without an event name (it becomes ``$identify``).

Token: the envelope's ``api_key``/``token`` wins; otherwise each event's ``token``, ``$token``,
``api_key`` or ``properties.token``, and every event must carry the same one (an event without
a token next to one with a token counts as a second token, as in Rust capture); the query's
``token``/``api_key`` is the last resort. Distinct id: ``distinct_id`` or ``$distinct_id`` at the
top level, else ``properties.distinct_id``; non-strings are written as compact JSON, NUL
becomes U+FFFD, and the value is cut to 200 characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import orjson

from hedgerow.ingest.errors import (
    EmptyBatch,
    InvalidToken,
    MissingDistinctId,
    MissingEventName,
    MultipleTokens,
    NoToken,
    RequestParsingError,
)

MAX_DISTINCT_ID_LENGTH = 200
_TOKEN_KEYS = ("token", "$token", "api_key")


@dataclass(slots=True)
class CaptureRequest:
    """What one capture request carries, before any normalisation."""

    token: str
    events: list[dict[str, Any]]
    distinct_ids: list[str]
    sent_at: Any = None
    """The envelope's (or the query's ``_``) ``sent_at``; events may carry their own."""
    historical_migration: bool = False


def parse_request(
    payload: Any, *, query: Mapping[str, str] | None = None, path: str = ""
) -> CaptureRequest:
    """Split ``payload`` into events, resolve the token, and check names and distinct ids."""
    query = query or {}
    envelope_token: Any = None
    sent_at: Any = None
    historical = False
    if isinstance(payload, dict) and "batch" in payload:
        events = payload["batch"]
        if not isinstance(events, list):
            raise RequestParsingError("batch must be an array of events")
        envelope_token = payload.get("api_key") or payload.get("token")
        sent_at = payload.get("sent_at")
        historical = payload.get("historical_migration") is True
    elif isinstance(payload, list):
        events = payload
    elif isinstance(payload, dict):
        events = [payload]
    else:
        raise RequestParsingError("expected an event, an array of events or a batch object")
    if not events:
        raise EmptyBatch()
    for event in events:
        if not isinstance(event, dict):
            raise RequestParsingError("every event must be a JSON object")
    if sent_at is None and query.get("_"):
        sent_at = query["_"]

    token = envelope_token if envelope_token else _events_token(events)
    if not token:
        token = query.get("token") or query.get("api_key")
    if not token:
        raise NoToken()
    token = _check_token(token)

    engage = "engage" in path
    distinct_ids = []
    append = distinct_ids.append
    for event in events:
        name = event.get("event")
        if not isinstance(name, str) or not name:
            if name is None and engage:
                event["event"] = "$identify"
            elif name is None or name == "":
                raise MissingEventName()
            else:
                raise RequestParsingError("event name must be a string")
        props = event.get("properties")
        if props is None:
            props = event["properties"] = {}
        elif not isinstance(props, dict):
            raise RequestParsingError("properties must be a JSON object")
        append(extract_distinct_id(event, props))
    return CaptureRequest(token, events, distinct_ids, sent_at, historical)


def extract_distinct_id(event: Mapping[str, Any], properties: Mapping[str, Any]) -> str:
    """The event's distinct id as PostHog stores it, or :class:`MissingDistinctId`."""
    value = event.get("distinct_id")
    if value is None:
        value = event.get("$distinct_id")
        if value is None:
            value = properties.get("distinct_id")
            if value is None:
                raise MissingDistinctId()
    if type(value) is not str:
        try:
            value = orjson.dumps(value).decode()
        except orjson.JSONEncodeError as exc:
            raise RequestParsingError(f"distinct_id cannot be stored: {exc}") from None
    if not value:
        raise MissingDistinctId()
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    if len(value) > MAX_DISTINCT_ID_LENGTH:
        value = value[:MAX_DISTINCT_ID_LENGTH]
    return value


def _event_token(event: Mapping[str, Any]) -> Any:
    for key in _TOKEN_KEYS:
        value = event.get(key)
        if value is not None:
            return value
    props = event.get("properties")
    if isinstance(props, dict):
        value = props.get("token")
        if isinstance(value, str):
            return value
    return None


def _events_token(events: list[dict[str, Any]]) -> Any:
    first = _event_token(events[0])
    for event in events[1:]:
        if _event_token(event) != first:
            raise MultipleTokens()
    return first


def _check_token(token: Any) -> str:
    """PostHog's token shape check (Django ``_check_token_shape``)."""
    if not isinstance(token, str):
        raise InvalidToken("not_string")
    token = token.strip()
    if not token:
        raise NoToken()
    if len(token) > 64:
        raise InvalidToken("too_long")
    if not token.isascii():
        raise InvalidToken("not_ascii")
    if token.startswith("phx_"):
        raise InvalidToken("personal_api_key")
    return token
