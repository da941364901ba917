"""Field rules several services share, with DRF's codes and sentences."""

from __future__ import annotations

from typing import Any

from hedgerow.control_chars import has_control
from hedgerow.errors import ValidationError


def required_text(value: Any, attr: str, max_length: int) -> str:
    """A non-blank string of at most ``max_length`` characters, or DRF's 400 for ``attr``."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("This field may not be blank.", code="blank", attr=attr)
    if len(value) > max_length:
        raise ValidationError(
            f"Ensure this field has no more than {max_length} characters.", code="max_length", attr=attr
        )
    return value


def name_text(value: Any, attr: str, max_length: int) -> str:
    """A name people read (a project's, a key's label): required text on one line, free of
    control characters, so it cannot forge or colour a line of the audit log."""
    text = required_text(value, attr, max_length)
    if has_control(text):
        raise ValidationError("This field may not contain control characters.", code="invalid", attr=attr)
    return text
