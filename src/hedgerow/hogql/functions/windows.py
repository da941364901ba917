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


def frame_rows(window: exp.Window | None) -> tuple[float, float, bool] | None:
    """The window frame as ``(first, last, peers)``: row offsets from the current row, and
    whether a CURRENT ROW bound also takes in the row's peers (a RANGE frame); None if it is not
    a constant frame. ClickHouse's default frame is ``RANGE BETWEEN UNBOUNDED PRECEDING AND
    CURRENT ROW`` (the whole partition when the window is not ordered: all rows are peers)."""
    if window is None:
        return None
    spec = window.args.get("spec")
    if spec is None:
        return (-math.inf, 0, True) if window.args.get("order") is not None else (-math.inf, math.inf, False)
    start = _bound(spec.args.get("start"), spec.args.get("start_side"))
    end = _bound(spec.args.get("end"), spec.args.get("end_side")) if spec.args.get("end") is not None else 0
    if start is None or end is None:
        return None
    is_range = str(spec.args.get("kind", "")).upper() == "RANGE"
    if is_range and not (start in (-math.inf, 0) and end in (0, math.inf)):
        return None
    return start, end, is_range


def _over(window: exp.Window, function: exp.Expression) -> exp.Expression:
    over = window.copy()
    over.set("this", function)
    return over


def _peer_guarded(call: Call, engine: str, args: list[exp.Expression], default: exp.Expression) -> exp.Expression:
    """The row ``offset`` away when it is a peer of the current row (same ORDER BY keys), which a
    RANGE frame's CURRENT ROW bound takes in; else the default."""
    keys = [ordered.this for ordered in call.window.args["order"].expressions]
    key = keys[0] if len(keys) == 1 else fn("row", *keys)
    peer = exp.NullSafeEQ(this=_over(call.window, fn(engine, key.copy(), args[1].copy())), expression=key.copy())
    return exp.Case(ifs=[exp.If(this=peer, true=_over(call.window, fn(engine, *args)))], default=default)


def _in_frame(engine: str, direction: int):
    """``lagInFrame``/``leadInFrame``: the row ``offset`` away when it lies inside the frame, else
    the default (ClickHouse); DuckDB's lag/lead ignore frames, so the frame is checked here."""

    def lower(call: Call) -> exp.Expression:
        value = call.args[0]
        offset = call.args[1] if len(call.args) > 1 else exp.Literal.number(1)
        default = call.args[2] if len(call.args) > 2 else default_value(call.types[0].as_nullable(False))
        args = [value, offset] + ([default] if default is not None else [])
        rows = literal_value(offset)
        frame = frame_rows(call.window)
        if isinstance(rows, int) and frame is not None and not frame[0] <= direction * rows <= frame[1]:
            fallback = default.copy() if default is not None else exp.Null()
            bound = frame[1] if direction * rows > frame[1] else frame[0]
            if frame[2] and bound == 0 and call.window.args.get("order") is not None:
                return _peer_guarded(call, engine, args, fallback)
            return fallback
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
