"""The one place identifiers and inline string constants are quoted for engine SQL."""

from __future__ import annotations


def quote_identifier(name: str, quote: str = '"', *, backslash_escapes: bool = False) -> str:
    """Quote ``name`` for SQL, doubling any embedded quote character (escaping it and any
    backslash with a backslash where the engine reads backslash escapes). NUL is refused."""
    if "\x00" in name:
        raise ValueError("identifier contains NUL")
    if backslash_escapes:
        return quote + name.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote
    return quote + name.replace(quote, quote * 2) + quote


def quote_string(value: str, *, backslash_escapes: bool = False) -> str:
    """A standard SQL string literal (quotes doubled; backslashes are not escapes). NUL refused.

    Only for constants the compiler itself decided are structural (JSON paths); user values
    are always bound as parameters.
    """
    if "\x00" in value:
        raise ValueError("string contains NUL")
    if backslash_escapes:
        value = value.replace("\\", "\\\\")
    return "'" + value.replace("'", "''") + "'"
