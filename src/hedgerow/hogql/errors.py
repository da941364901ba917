"""Errors the HogQL compiler raises.

Exposed errors subclass :class:`hedgerow.errors.ValidationError` (rendered as PostHog's 400
``validation_error``) and carry a stable ``code`` plus the source span (``start``/``end``
character offsets into the HogQL text, when known). Anything else that goes wrong inside the
compiler is a bug and raises :class:`HogQLInternalError`, which renders as an opaque 500.
"""

from __future__ import annotations

from typing import ClassVar

from hedgerow.errors import Exposed, Internal, ValidationError


class HogQLError(ValidationError):
    """A problem with the user's HogQL; the message names it, the span locates it."""

    default_code: ClassVar[str] = "invalid_input"
    default_detail: ClassVar[str] = "Invalid HogQL query."

    def __init__(
        self, detail: str | None = None, *, start: int | None = None, end: int | None = None
    ) -> None:
        super().__init__(detail)
        self.start = start
        self.end = end


class HogQLSyntaxError(HogQLError):
    """The text does not parse, or is not a single SELECT / set query."""

    default_code = "syntax_error"
    default_detail = "Syntax error."


class UnknownTableError(HogQLError):
    default_code = "unknown_table"


class UnknownFieldError(HogQLError):
    default_code = "unknown_field"


class UnsupportedFunctionError(HogQLError):
    default_code = "unsupported_function"


class ArityError(HogQLError):
    default_code = "wrong_arity"


class PlaceholderError(HogQLError):
    default_code = "invalid_placeholder"


class UnsupportedSyntaxError(HogQLError):
    default_code = "unsupported_syntax"


LIMIT_EXCEEDED = "hedgerow limit exceeded: "
"""Prefix of the engine error a size guard raises (see ``passes.limits.guard_sizes``); the
store turns such an error into a :class:`LimitExceeded` with the rest as its detail."""


class QueryError(HogQLError):
    """The engine rejected the query for a reason the user can act on (types, timeout...)."""

    default_code = "query_error"
    default_detail = "The query could not be executed."


class LimitExceeded(QueryError):
    """A query went past one of the limits it runs under (result bytes, value sizes, memory)."""

    default_code = "limit_exceeded"
    default_detail = "The query went past a limit."


class QueryTimeoutError(Exposed):
    """The engine stopped the query at its time limit (PostHog answers 504, as here)."""

    status = 504
    type = "server_error"
    default_code = "error"
    default_detail = (
        "Query has hit the max execution time before completing. See our docs for how to "
        "improve your query performance. You may need to materialize."
    )


class HogQLInternalError(Internal):
    """A compiler bug: rendered as a generic 500, never shown to the user."""
