"""Window-only functions (``row_number``, ``lagInFrame``...); aggregates work with OVER too."""

from __future__ import annotations

from sqlglot import exp

from hedgerow.hogql import types as T
from hedgerow.hogql.errors import HogQLError
from hedgerow.hogql.functions.defaults import default_value
from hedgerow.hogql.functions.spec import Call, FunctionSpec, const, fn, same_as

WINDOW_ONLY = "window_only"


def _plain(engine: str):
    def lower(call: Call) -> exp.Expression:
        node = fn(engine, *call.args)
        node.meta["hog_agg_core"] = True
        return node

    return lower


def _frame_reaches(call: Call, side: str) -> bool:
    spec = call.window.args.get("spec") if call.window is not None else None
    if spec is None:
        return False
    bound = spec.args.get("end" if side == "following" else "start")
    text = str(bound).upper() if bound is not None else ""
    return "UNBOUNDED" in text


def _in_frame(engine: str, needs: str | None):
    def lower(call: Call) -> exp.Expression:
        value = call.args[0]
        offset = call.args[1] if len(call.args) > 1 else exp.Literal.number(1)
        default = call.args[2] if len(call.args) > 2 else default_value(call.types[0].as_nullable(False))
        if needs == "following" and not _frame_reaches(call, "following"):
            # ClickHouse's default frame ends at the current row: nothing follows in frame.
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
    window_function("lagInFrame", 1, 3, _in_frame("lag", None), same_as(0)),
    window_function("leadInFrame", 1, 3, _in_frame("lead", "following"), same_as(0)),
    window_function("lag", 1, 3, _plain("lag"), lambda ts: ts[0].as_nullable()),
    window_function("lead", 1, 3, _plain("lead"), lambda ts: ts[0].as_nullable()),
]

WINDOW_NAMES = frozenset(f.name for f in FUNCTIONS)


def require_window(name: str, in_window: bool) -> None:
    if name in WINDOW_NAMES and not in_window:
        raise HogQLError(f"Window function '{name}' needs an OVER clause")
