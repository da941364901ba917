"""Errors the stores raise: driver exceptions are translated into these at the store boundary."""

from __future__ import annotations

from hedgerow.errors import HedgerowError, Internal


class StoreError(HedgerowError):
    """Base of errors raised by a store."""


class Duplicate(StoreError):
    """A write broke a uniqueness rule (the caller decides what the client hears)."""


class StoreUnavailable(Internal):
    """The database could not be reached or failed; never shown to a client."""
