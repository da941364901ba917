"""The one place identifiers are quoted for engine SQL."""

from __future__ import annotations


def quote_identifier(name: str, quote: str = '"') -> str:
    """Quote ``name`` for SQL, doubling any embedded quote character. NUL is refused."""
    if "\x00" in name:
        raise ValueError("identifier contains NUL")
    return quote + name.replace(quote, quote * 2) + quote
