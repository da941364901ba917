"""Errors a capture request can end in.

What PostHog sends today: the Rust capture service (``rust/capture/src/api.rs``) answers an
error with the HTTP status and a **plain-text** sentence such as ``failed to parse request:
...``; the Django capture it replaced answered DRF JSON ``{"type","code","detail","attr"}``
(``generate_exception_response``). The JSON shape ``{"status","code","error"}`` quoted in some
notes comes from a fork of PostHog's capture, not from PostHog. SDKs look only at the status.

Hedgerow renders PostHog's DRF body (the shape every other endpoint uses, so one error handler
and one shape test cover capture too), with ``detail`` set to the Rust capture's sentence and
``code`` set to the snake_case name of the Rust error variant. ``text()`` gives the plain
Rust body for a route that wants to mimic it byte for byte.

| status | code | when |
|---|---|---|
| 400 | request_decoding_error | body cannot be decompressed / base64 / lz64 / utf-8 decoded |
| 400 | request_parsing_error | not JSON, wrong JSON shape, invalid ``uuid``, non-integer ``offset`` |
| 400 | empty_batch | no event in the request |
| 400 | missing_event_name | an event without a name |
| 400 | missing_distinct_id | an event without a usable distinct id |
| 401 | no_token | no project token anywhere |
| 401 | multiple_tokens | events of one request carry different tokens |
| 401 | invalid_token | malformed token (e.g. a ``phx_`` personal key) or no such project |
| 413 | payload_too_large | body or decompressed body over the route's limit |
| 503 | retryable_sink_error | the store could not durably write; the SDK should retry |
"""

from __future__ import annotations

from typing import Any, ClassVar

from hedgerow.errors import Exposed


class CaptureError(Exposed):
    """Base of capture errors; ``detail`` is the sentence Rust capture would send."""

    status: ClassVar[int] = 400
    type: ClassVar[str] = "validation_error"
    prefix: ClassVar[str] = ""

    def __init__(self, reason: str | None = None, **kwargs: Any) -> None:
        detail = self.default_detail if reason is None else f"{self.prefix}{reason}"
        super().__init__(detail, **kwargs)

    def text(self) -> str:
        """The plain-text body PostHog's Rust capture sends for this error."""
        return self.detail


class RequestDecodingError(CaptureError):
    default_code = "request_decoding_error"
    default_detail = "failed to decode request"
    prefix = "failed to decode request: "


class RequestParsingError(CaptureError):
    default_code = "request_parsing_error"
    default_detail = "failed to parse request"
    prefix = "failed to parse request: "


class EmptyBatch(CaptureError):
    default_code = "empty_batch"
    default_detail = "request holds no event"


class MissingEventName(CaptureError):
    default_code = "missing_event_name"
    default_detail = "event submitted with an empty event name"


class MissingDistinctId(CaptureError):
    default_code = "missing_distinct_id"
    default_detail = "event submitted without a distinct_id"


class NoToken(CaptureError):
    status = 401
    type = "authentication_error"
    default_code = "no_token"
    default_detail = "event submitted without an api_key"


class MultipleTokens(CaptureError):
    status = 401
    type = "authentication_error"
    default_code = "multiple_tokens"
    default_detail = "batch submitted with inconsistent api_key values"


class InvalidToken(CaptureError):
    status = 401
    type = "authentication_error"
    default_code = "invalid_token"
    default_detail = "API key is not valid"
    prefix = "API key is not valid: "


class PayloadTooLarge(CaptureError):
    status = 413
    type = "invalid_request"
    default_code = "payload_too_large"
    default_detail = "maximum event size exceeded"
    prefix = "maximum event size exceeded: "


class RetryableSinkError(CaptureError):
    status = 503
    type = "server_error"
    default_code = "retryable_sink_error"
    default_detail = "transient error, please retry"
