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


def optional_text(value: Any, attr: str, max_length: int) -> str | None:
    """DRF's ``CharField(allow_null=True, allow_blank=True, max_length=...)``, kept as sent."""
    return char_field(value, attr, max_length=max_length, allow_null=True, allow_blank=True, trim=False)


# DRF's BooleanField spellings, exactly (it does not fold case: "tRuE" is refused).
TRUE_WORDS = frozenset({"t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "1"})
FALSE_WORDS = frozenset({"f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "0"})


def boolean_field(value: Any, attr: str) -> bool:
    """DRF's ``BooleanField``: booleans, 1/0 and their usual spellings, else 400."""
    if isinstance(value, bool):
        return value
    if type(value) in (int, float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value in TRUE_WORDS | FALSE_WORDS:
        return value in TRUE_WORDS
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


MAX_JSON_DEPTH = 64
"""How deep a stored JSON value may nest (objects and arrays): far more than any PostHog
setting uses, far less than what would exhaust the serialiser that answers it."""


def shallow_json(value: Any, attr: str, depth: int = 0) -> Any:
    """``value`` unchanged, or a 400 for ``attr`` when it nests deeper than :data:`MAX_JSON_DEPTH`."""
    if depth > MAX_JSON_DEPTH:
        raise ValidationError(f"Ensure this value nests at most {MAX_JSON_DEPTH} levels deep.", code="invalid",
                              attr=attr)  # fmt: skip
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        shallow_json(child, attr, depth + 1)
    return value
