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


def optional_text(value: Any, attr: str, max_length: int) -> str | None:
    """DRF's ``CharField(allow_null=True, allow_blank=True, max_length=...)``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValidationError("Not a valid string.", code="invalid", attr=attr)
    text = str(value)
    if "\x00" in text:
        raise ValidationError("Null characters are not allowed.", code="null_characters_not_allowed", attr=attr)
    if len(text) > max_length:
        raise ValidationError(
            f"Ensure this field has no more than {max_length} characters.", code="max_length", attr=attr
        )
    return text


TRUE_WORDS = frozenset({"true", "1", "t", "y", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "f", "n", "no", "off"})


def boolean(value: Any, attr: str) -> bool:
    """DRF's ``BooleanField``: true/false and their usual spellings (and 1/0), else 400."""
    if isinstance(value, bool):
        return value
    if type(value) is int and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in TRUE_WORDS | FALSE_WORDS:
        return value.lower() in TRUE_WORDS
    raise ValidationError("Must be a valid boolean.", code="invalid", attr=attr)


def tag_list(value: Any, attr: str = "tags") -> list[str]:
    """A list of tag names (deduplicated, in order); each a string of at most 255 characters."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError(f'Expected a list of items but got type "{type(value).__name__}".',
                              code="not_a_list", attr=attr)  # fmt: skip
    tags = [optional_text(tag, attr, 255) for tag in value]
    return list(dict.fromkeys(t.strip() for t in tags if t and t.strip()))


def json_object(value: Any, attr: str, message: str = "Must be a JSON object.") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError(message, code="invalid", attr=attr)
    return value
