"""Printing stored text to a terminal: nothing a client chose may act on it.

Names and labels are refused with control characters now, but older rows may hold them, and
rich reads ``[...]`` as markup: control characters are shown as escapes and markup is
escaped, so a stored name can neither forge a line nor colour one.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from hedgerow.control_chars import escape_controls


def shown(text: object) -> str:
    """``text`` ready for a rich console: controls escaped, markup inert."""
    return escape(escape_controls(str(text)))


def console() -> Console:
    """A console that prints lines as given: no wrapping, no guessing of highlights."""
    return Console(highlight=False, soft_wrap=True)
