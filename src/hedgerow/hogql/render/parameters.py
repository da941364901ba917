"""ClickHouse types of bound values (``{p1:String}``) and their text on the wire.

ClickHouse binds parameters on the server: the query names each value's type and the value
travels apart from the SQL, as text that the server parses as that type.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hedgerow.hogql.errors import HogQLError


def parameter_type(value: Any) -> str:
    """The ClickHouse type a bound value is declared with."""
    if value is None:
        return "Nullable(Nothing)"
    if isinstance(value, bool):
        return "Bool"
    if isinstance(value, int):
        return "Int64" if value < 2**63 else "UInt64"
    if isinstance(value, float):
        return "Float64"
    if isinstance(value, str):
        return "String"
    if isinstance(value, dt.datetime):
        return "DateTime64(6, 'UTC')"
    if isinstance(value, dt.date):
        return "Date"
    if isinstance(value, (list, tuple)):
        items = [parameter_type(v) for v in value if v is not None]
        inner = items[0] if items and all(i == items[0] for i in items) else "String"
        if any(v is None for v in value):
            inner = f"Nullable({inner})" if items else "Nullable(Nothing)"
        return f"Array({inner if value else 'Nothing'})"
    raise HogQLError(f"Unsupported value type {type(value).__name__}")


def parameter_text(value: Any, *, nested: bool = False) -> str:
    """A bound value as the text the server parses (arrays in ClickHouse's literal syntax)."""
    if value is None:
        return "NULL" if nested else "\\N"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        text = value.strftime("%Y-%m-%d %H:%M:%S.%f")
        return f"'{text}'" if nested else text
    if isinstance(value, dt.date):
        return f"'{value.isoformat()}'" if nested else value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(parameter_text(v, nested=True) for v in value) + "]"
    text = str(value)
    if nested:  # inside an array: a quoted literal
        return "'" + _escape(text).replace("'", "\\'") + "'"
    return _escape(text)  # top level: ClickHouse's escaped (TSV) text


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
