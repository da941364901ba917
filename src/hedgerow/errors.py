"""The error model.

One root, :class:`HedgerowError`. Errors a client may see are :class:`Exposed`: each class
declares its HTTP status and PostHog's ``type``/``code``; an instance carries the ``detail``
sentence and the ``attr`` (the field at fault, nested names joined with ``__``). Anything
else is :class:`Internal` and renders as an opaque 500 that never shows its message.

The web layer renders an exposed error as PostHog's body ``{"type","code","detail","attr"}``;
services, the compiler and the stores raise these classes and never know about HTTP.
"""

from __future__ import annotations

from typing import Any, ClassVar


class HedgerowError(Exception):
    """Root of every error Hedgerow raises on purpose."""


class Internal(HedgerowError):
    """A failure the client must not see the details of (rendered as a generic 500)."""


class Exposed(HedgerowError):
    """An error whose status, code and sentence are part of the API contract."""

    status: ClassVar[int] = 400
    type: ClassVar[str] = "validation_error"
    default_code: ClassVar[str] = "invalid_input"
    default_detail: ClassVar[str] = "Invalid input."
    default_headers: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        attr: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.detail = detail if detail is not None else self.default_detail
        self.code = code or self.default_code
        self.attr = attr
        self.headers = {**self.default_headers, **(headers or {})}
        super().__init__(self.detail)

    def body(self) -> Any:
        """The JSON body for this error; PostHog's DRF shape unless a subclass says otherwise."""
        return {"type": self.type, "code": self.code, "detail": self.detail, "attr": self.attr}


class ValidationError(Exposed):
    status = 400
    type = "validation_error"
    default_code = "invalid_input"
    default_detail = "Invalid input."


class ParseError(Exposed):
    status = 400
    type = "invalid_request"
    default_code = "parse_error"
    default_detail = "Malformed request."


class NotAuthenticated(Exposed):
    status = 401
    type = "authentication_error"
    default_code = "not_authenticated"
    default_detail = "Authentication credentials were not provided."
    default_headers = {"WWW-Authenticate": "Bearer"}


class AuthenticationFailed(Exposed):
    status = 401
    type = "authentication_error"
    default_code = "authentication_failed"
    default_detail = "Incorrect authentication credentials."
    default_headers = {"WWW-Authenticate": "Bearer"}


class PermissionDenied(Exposed):
    # drf-exceptions-hog reports permission errors with type "authentication_error".
    status = 403
    type = "authentication_error"
    default_code = "permission_denied"
    default_detail = "You do not have permission to perform this action."


class NotFound(Exposed):
    status = 404
    type = "invalid_request"
    default_code = "not_found"
    default_detail = "Not found."


class MethodNotAllowed(Exposed):
    status = 405
    type = "invalid_request"
    default_code = "method_not_allowed"

    def __init__(self, method: str = "", detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail or f'Method "{method}" not allowed.', **kwargs)


class Conflict(Exposed):
    status = 409
    type = "server_error"
    default_code = "conflict"
    default_detail = "Conflict."


class PayloadTooLarge(Exposed):
    status = 413
    type = "invalid_request"
    default_code = "payload_too_large"
    default_detail = "Request body is too large."


class Throttled(Exposed):
    status = 429
    type = "throttled_error"
    default_code = "throttled"

    def __init__(self, wait_seconds: int, **kwargs: Any) -> None:
        wait = max(1, int(wait_seconds))
        unit = "second" if wait == 1 else "seconds"
        super().__init__(
            f"Request was throttled. Expected available in {wait} {unit}.",
            headers={"Retry-After": str(wait)},
            **kwargs,
        )


class ServiceUnavailable(Exposed):
    status = 503
    type = "server_error"
    default_code = "service_unavailable"
    default_detail = "Service temporarily unavailable, try again later."


SERVER_ERROR_BODY = {
    "type": "server_error",
    "code": "error",
    "detail": "A server error occurred.",
    "attr": None,
}
"""What every unexpected failure renders as: no message, no trace, no path."""
