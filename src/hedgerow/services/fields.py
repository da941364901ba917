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


def tag_list(value: Any, attr: str = "tags") -> list[str]:
    """A list of tag names (deduplicated, in order); each a string of at most 255 characters."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError(f'Expected a list of items but got type "{type(value).__name__}".',
                              code="not_a_list", attr=attr)  # fmt: skip
    tags = [char_field(tag, attr, max_length=255, allow_null=True, allow_blank=True) for tag in value]
    return list(dict.fromkeys(t.strip() for t in tags if t and t.strip()))


def json_object(value: Any, attr: str, message: str = "Must be a JSON object.") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError(message, code="invalid", attr=attr)
    return value


def name_text(value: Any, attr: str, max_length: int) -> str:
    """A name people read (a project's, a key's label): required text on one line, free of
    control characters, so it cannot forge or colour a line of the audit log."""
    text = required_text(value, attr, max_length)
    if has_control(text):
        raise ValidationError("This field may not contain control characters.", code="invalid", attr=attr)
    return text


def char_field(value: Any, attr: str, *, max_length: int | None = None, allow_null: bool = False,
               allow_blank: bool = False, trim: bool = True) -> str | None:  # fmt: skip
    """DRF's ``CharField``: a string (numbers are read as text), no NUL, within ``max_length``."""
    if value is None:
        if allow_null:
            return None
        raise ValidationError("This field may not be null.", code="null", attr=attr)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValidationError("Not a valid string.", code="invalid", attr=attr)
    text = str(value)
    if "\x00" in text:
        raise ValidationError("Null characters are not allowed.", code="null_characters_not_allowed", attr=attr)
    if trim:
        text = text.strip()
    if not text and not allow_blank:
        raise ValidationError("This field may not be blank.", code="blank", attr=attr)
    if max_length is not None and len(text) > max_length:
        raise ValidationError(
            f"Ensure this field has no more than {max_length} characters.", code="max_length", attr=attr
        )
    return text


def boolean_field(value: Any, attr: str) -> bool:
    """DRF's ``BooleanField``: booleans and their usual spellings."""
    if value in (True, "true", "True", "TRUE", "on", "On", "ON", "1", 1, "yes", "y", "t"):
        return True
    if value in (False, "false", "False", "FALSE", "off", "Off", "OFF", "0", 0, "no", "n", "f"):
        return False
    raise ValidationError("Must be a valid boolean.", code="invalid", attr=attr)
