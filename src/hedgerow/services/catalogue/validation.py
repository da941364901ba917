"""Operation inputs: model validation, with errors in DRF's words.

Only the first error is reported (PostHog's handler does the same), with ``attr`` naming the
field — nested names joined with ``__`` — and DRF's code and sentence for the failure.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import pydantic
from pydantic_core import PydanticCustomError

from hedgerow.errors import ValidationError

# pydantic error type -> (DRF code, sentence template)
_DRF_ERRORS: dict[str, tuple[str, str]] = {
    "missing": ("required", "This field is required."),
    "none_required": ("invalid_input", "This field must be null."),
    "string_type": ("invalid_input", "Not a valid string."),
    "int_type": ("invalid_input", "A valid integer is required."),
    "int_parsing": ("invalid_input", "A valid integer is required."),
    "int_from_float": ("invalid_input", "A valid integer is required."),
    "float_type": ("invalid_input", "A valid number is required."),
    "float_parsing": ("invalid_input", "A valid number is required."),
    "bool_type": ("invalid_input", "Must be a valid boolean."),
    "bool_parsing": ("invalid_input", "Must be a valid boolean."),
    "list_type": ("not_a_list", 'Expected a list of items but got type "{input_type}".'),
    "dict_type": ("not_a_dict", 'Expected a dictionary of items but got type "{input_type}".'),
    "model_type": ("invalid_input", "Invalid data. Expected a dictionary, but got {input_type}."),
    "model_attributes_type": (
        "invalid_input",
        "Invalid data. Expected a dictionary, but got {input_type}.",
    ),
    "string_too_long": ("max_length", "Ensure this field has no more than {max_length} characters."),
    "string_too_short": ("blank", "This field may not be blank."),
    "too_long": ("max_length", "Ensure this field has no more than {max_length} elements."),
    "literal_error": ("invalid_choice", '"{input}" is not a valid choice.'),
    "enum": ("invalid_choice", '"{input}" is not a valid choice.'),
    "datetime_parsing": (
        "invalid_input",
        "Datetime has wrong format. Use one of these formats instead: "
        "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
    ),
    "datetime_from_date_parsing": (
        "invalid_input",
        "Datetime has wrong format. Use one of these formats instead: "
        "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
    ),
    "less_than_equal": ("max_value", "Ensure this value is less than or equal to {le}."),
    "greater_than_equal": ("min_value", "Ensure this value is greater than or equal to {ge}."),
    "uuid_parsing": ("invalid_input", "Must be a valid UUID."),
    "uuid_type": ("invalid_input", "Must be a valid UUID."),
}

_JSON_NAMES = {
    str: "str",
    int: "int",
    float: "float",
    bool: "bool",
    list: "list",
    dict: "dict",
    type(None): "NoneType",
}


def validate(model: type[pydantic.BaseModel], data: Any) -> pydantic.BaseModel:
    """``data`` validated by ``model``, or the first problem as a DRF-shaped 400."""
    if issubclass(model, pydantic.RootModel):
        return model.model_validate(data)  # the operation checks the value itself
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationError(
            f"Invalid data. Expected a dictionary, but got {_JSON_NAMES.get(type(data), 'str')}.",
            code="invalid",
            attr="non_field_errors",
        )
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as error:
        raise drf_error(error) from None


def drf_error(error: pydantic.ValidationError) -> ValidationError:
    """The first error of a pydantic failure, in DRF's code and words."""
    first = error.errors(include_url=False)[0]
    loc = [str(part) for part in first["loc"]]
    attr = "__".join(loc) if loc else None
    code, template = _DRF_ERRORS.get(first["type"], ("invalid_input", ""))
    context: dict[str, Any] = dict(first.get("ctx") or {})
    value = first.get("input")
    context.setdefault("input", value)
    context["input_type"] = _JSON_NAMES.get(type(value), type(value).__name__)
    if first["type"] not in ("missing", "none_required") and value is None:
        code, template = "null", "This field may not be null."
    if template:
        try:
            detail = template.format(**context)
        except (KeyError, IndexError):
            detail = template
    else:
        message = str(first.get("msg", "Invalid input."))
        # pydantic prefixes custom validator errors with "Value error, "
        detail = message.removeprefix("Value error, ")
        ctx_error = context.get("error")
        if isinstance(ctx_error, ValidationError):
            return ValidationError(ctx_error.detail, code=ctx_error.code, attr=ctx_error.attr or attr)
    return ValidationError(detail, code=code, attr=attr)


def json_text(schema: dict[str, Any], **field: Any) -> Any:
    """A field that arrives as text holding JSON (a query parameter such as ``properties``):
    documented as the JSON it must hold, read by the operation itself."""
    extra = {"contentMediaType": "application/json", "contentSchema": schema}
    return pydantic.Field(default=None, json_schema_extra=extra, **field)


TEXT_LIST: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
"""The JSON a list-of-names parameter holds (``tags``, ``event_names``...)."""


def _iso_datetime(raw: Any) -> Any:
    """Text must be ISO 8601 (pydantic alone would also read numbers as Unix times)."""
    if isinstance(raw, datetime):
        return raw
    if isinstance(raw, str) and len(raw) <= 64:
        try:
            return datetime.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise PydanticCustomError("datetime_parsing", "Input should be a valid datetime")


IsoDatetime = Annotated[datetime, pydantic.BeforeValidator(_iso_datetime),
                        pydantic.WithJsonSchema({"type": "string", "format": "date-time"})]  # fmt: skip
"""A datetime given as ISO 8601 text (``2026-01-02T03:04:05Z``), refused in DRF's words otherwise."""
