"""Constants compared with dates are read in the project timezone, at compile time.

``timestamp > '2024-01-01'`` compares with the instant of local midnight in the project's
zone, converted to the stored UTC form, as one bound value (so the engine can still prune).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlglot import exp

from hedgerow.hogql.compilation import Compilation
from hedgerow.hogql.errors import HogQLError
from hedgerow.hogql.nodes import Value, type_of, typed
from hedgerow.hogql.parse import span_of
from hedgerow.hogql.types import HogType

COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


def to_stored(text: str, hog_type: HogType, timezone: str, node: exp.Expression) -> Value:
    """The stored-form constant for a date/datetime string compared with ``hog_type``."""
    try:
        if hog_type.is_date:
            return Value(this=dt.date.fromisoformat(text.strip()[:10]))
        parsed = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        start, end = span_of(node)
        raise HogQLError(f"Cannot parse '{text}' as a date/time", start=start, end=end) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(timezone))
    return Value(this=parsed.astimezone(dt.timezone.utc).replace(tzinfo=None))


def _convert(side: exp.Expression, other_type: HogType, c: Compilation) -> None:
    if isinstance(side, exp.Literal) and side.is_string and other_type.is_temporal:
        zone = other_type.zone or c.ctx.timezone  # a converted value reads text in its own zone
        side.replace(typed(to_stored(side.name, other_type, zone, side), other_type))


def run(c: Compilation) -> None:
    for node in list(c.tree.find_all(*COMPARISONS, exp.Between, exp.In)):
        if isinstance(node, COMPARISONS):
            left, right = node.this, node.expression
            _convert(right, type_of(left), c)
            _convert(left, type_of(right), c)
        elif isinstance(node, exp.Between):
            target = type_of(node.this)
            _convert(node.args["low"], target, c)
            _convert(node.args["high"], target, c)
        else:
            target = type_of(node.this)
            for value in node.expressions:
                _convert(value, target, c)
