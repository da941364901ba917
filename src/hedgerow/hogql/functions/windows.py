"""Window-only functions (``row_number``, ``lagInFrame``...); aggregates work with OVER too."""

from __future__ import annotations

import math

from sqlglot import exp

from hedgerow.hogql import types as T
from hedgerow.hogql.errors import HogQLError
from hedgerow.hogql.functions.defaults import default_value
from hedgerow.hogql.functions.spec import Call, FunctionSpec, const, fn, literal_value, same_as

WINDOW_ONLY = "window_only"


def _plain(engine: str):
    def lower(call: Call) -> exp.Expression:
        node = fn(engine, *call.args)
        node.meta["hog_agg_core"] = True
        return node

    return lower


def _bound(value: object, side: object) -> float | None:
    """A frame bound as a signed row offset (preceding < 0 < following); None if not constant."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.upper()
        if text == "CURRENT ROW":
            return 0
        if text == "UNBOUNDED":
            return -math.inf if str(side).lower() == "preceding" else math.inf
        return None
    rows = literal_value(value) if isinstance(value, exp.Expression) else None
    if not isinstance(rows, int):
        return None
    return -rows if str(side).lower() == "preceding" else rows


def frame_rows(window: exp.Window | None) -> tuple[float, float] | None:
    """The window frame as ``(first, last)`` row offsets from the current row, or None if it is
    not a constant frame. ClickHouse's default frame ends at the current row when the window is
    ordered and covers the partition otherwise."""
    if window is None:
        return None
    spec = window.args.get("spec")
    if spec is None:
        return (-math.inf, 0) if window.args.get("order") is not None else (-math.inf, math.inf)
    start = _bound(spec.args.get("start"), spec.args.get("start_side"))
    end = _bound(spec.args.get("end"), spec.args.get("end_side")) if spec.args.get("end") is not None else 0
    if start is None or end is None:
        return None
    if str(spec.args.get("kind", "")).upper() == "RANGE" and not (
        start in (-math.inf, 0) and end in (0, math.inf)
    ):
        return None
    return start, end


def _in_frame(engine: str, direction: int):
    """``lagInFrame``/``leadInFrame``: the row ``offset`` away when it lies inside the frame, else
    the default (ClickHouse); DuckDB's lag/lead ignore frames, so the frame is checked here."""

    def lower(call: Call) -> exp.Expression:
        value = call.args[0]
        offset = call.args[1] if len(call.args) > 1 else exp.Literal.number(1)
        default = call.args[2] if len(call.args) > 2 else default_value(call.types[0].as_nullable(False))
        rows = literal_value(offset)
        frame = frame_rows(call.window)
        if isinstance(rows, int) and frame is not None and not frame[0] <= direction * rows <= frame[1]:
            return default if default is not None else exp.Null()
        args = [value, offset] + ([default] if default is not None else [])
        node = fn(engine, *args)
        node.meta["hog_agg_core"] = True
        return node

    return lower


def window_function(name: str, min_args: int, max_args: int, lowering, returns) -> FunctionSpec:
    if isinstance(returns, T.HogType):
        returns = const(returns)
    return FunctionSpec(
        name=name,
        min_args=min_args,
        max_args=max_args,
        returns=returns,
        impl={"duckdb": lowering},
        aggregate=True,
    )


FUNCTIONS = [
    window_function("row_number", 0, 0, _plain("row_number"), T.UINT64),
    window_function("rank", 0, 0, _plain("rank"), T.UINT64),
    window_function("dense_rank", 0, 0, _plain("dense_rank"), T.UINT64),
    window_function("percent_rank", 0, 0, _plain("percent_rank"), T.FLOAT64),
    window_function("ntile", 1, 1, _plain("ntile"), T.UINT64),
    window_function("first_value", 1, 1, _plain("first_value"), same_as(0)),
    window_function("last_value", 1, 1, _plain("last_value"), same_as(0)),
    window_function("nth_value", 2, 2, _plain("nth_value"), same_as(0)),
    window_function("lagInFrame", 1, 3, _in_frame("lag", -1), same_as(0)),
    window_function("leadInFrame", 1, 3, _in_frame("lead", 1), same_as(0)),
    window_function("lag", 1, 3, _plain("lag"), lambda ts: ts[0].as_nullable()),
    window_function("lead", 1, 3, _plain("lead"), lambda ts: ts[0].as_nullable()),
]

WINDOW_NAMES = frozenset(f.name for f in FUNCTIONS)


def require_window(name: str, in_window: bool) -> None:
    if name in WINDOW_NAMES and not in_window:
        raise HogQLError(f"Window function '{name}' needs an OVER clause")
