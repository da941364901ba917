"""What the compiler knows about one HogQL function."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from sqlglot import exp

from hedgerow.hogql import types as T
from hedgerow.hogql.errors import ArityError
from hedgerow.hogql.types import HogType


@dataclass(frozen=True)
class Env:
    """Compilation facts a lowering may need (never a connection)."""

    timezone: str = "UTC"
    week_start_day: int = 0
    now: Any = None


@dataclass
class Call:
    """One call being lowered: arguments already lowered, with their HogQL types."""

    name: str
    args: list[exp.Expression]
    types: list[HogType]
    params: list[exp.Expression]
    result: HogType
    env: Env
    distinct: bool = False
    window: exp.Window | None = None
    condition: exp.Expression | None = None
    or_null: bool = False


ENGINE_CALL = "hog_engine_call"

Lowering = Callable[[Call], exp.Expression]
ReturnRule = Callable[[Sequence[HogType]], HogType]


@dataclass(frozen=True)
class FunctionSpec:
    """Arity, result type and per-engine lowering of a HogQL function."""

    name: str
    min_args: int
    max_args: int | None
    returns: ReturnRule
    impl: Mapping[str, Lowering]
    aggregate: bool = False
    min_params: int = 0
    max_params: int = 0
    typed_by_args: Callable[[Sequence[exp.Expression], Sequence[HogType]], HogType] | None = None
    """A result type that depends on constant arguments (``JSONExtract(json, 'k', 'Int64')``)."""
    zone_arg: int | None = None
    """Index of an optional constant time-zone argument (``toStartOfDay(ts, 'Europe/Paris')``);
    -1 for a trailing one after optional arguments (see ``local_time.zone_index``)."""

    def check(self, n_args: int, n_params: int, node: exp.Expression | None = None) -> None:
        """Raise :class:`ArityError` unless the argument and parameter counts fit."""
        from hedgerow.hogql.parse import span_of

        start, end = span_of(node) if node is not None else (None, None)
        if n_args < self.min_args or (self.max_args is not None and n_args > self.max_args):
            expected = (
                f"{self.min_args}" if self.min_args == self.max_args
                else f"at least {self.min_args}" if self.max_args is None
                else f"{self.min_args} to {self.max_args}"
            )  # fmt: skip
            raise ArityError(
                f"Function '{self.name}' expects {expected} arguments, got {n_args}",
                start=start,
                end=end,
            )
        if n_params < self.min_params or n_params > self.max_params:
            raise ArityError(
                f"Function '{self.name}' expects {self.min_params} to {self.max_params}"
                f" parameters, got {n_params}",
                start=start,
                end=end,
            )

    def return_type(self, arg_types: Sequence[HogType], args: Sequence[exp.Expression] = ()) -> HogType:
        if self.typed_by_args is not None:
            return self.typed_by_args(args, arg_types)
        return self.returns(arg_types)


def const(hog_type: HogType) -> ReturnRule:
    return lambda _types: hog_type


def nullable_if_any(hog_type: HogType) -> ReturnRule:
    return lambda types: hog_type.as_nullable(any(t.nullable for t in types))


def same_as(index: int = 0) -> ReturnRule:
    return lambda types: types[index] if len(types) > index else T.UNKNOWN


def common_of(start: int = 0) -> ReturnRule:
    return lambda types: T.common(list(types[start:]))


def fn(name: str, *args: exp.Expression) -> exp.Expression:
    """A call to engine function ``name`` (printed verbatim; marked as compiler-made)."""
    node = exp.Anonymous(this=name, expressions=list(args))
    node.meta[ENGINE_CALL] = True
    return node


def rename(engine_name: str) -> Lowering:
    """Lowering that calls ``engine_name`` with the same arguments."""
    return lambda call: fn(engine_name, *call.args)


def spec(
    name: str,
    min_args: int,
    max_args: int | None = -1,
    *,
    returns: ReturnRule | HogType = T.UNKNOWN,
    duckdb: Lowering | str | None = None,
    aggregate: bool = False,
    params: tuple[int, int] = (0, 0),
    zone_arg: int | None = None,
) -> FunctionSpec:
    """Shorthand for a table row; ``max_args=-1`` means "same as min", None unbounded."""
    if max_args == -1:
        max_args = min_args
    if isinstance(returns, HogType):
        returns = const(returns)
    lowering: Lowering = rename(duckdb) if isinstance(duckdb, str) else (duckdb or rename(name))
    return FunctionSpec(
        name=name,
        min_args=min_args,
        max_args=max_args,
        returns=returns,
        impl={"duckdb": lowering},
        aggregate=aggregate,
        min_params=params[0],
        max_params=params[1],
        zone_arg=zone_arg,
    )


def literal_value(node: exp.Expression) -> Any:
    """The Python value of a constant argument, or None if not a plain literal."""
    if isinstance(node, exp.Literal):
        if node.is_string:
            return node.name
        text = node.name
        return int(text) if text.lstrip("-").isdigit() else float(text)
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        value = literal_value(node.this)
        return -value if isinstance(value, (int, float)) else None
    if isinstance(node, exp.Boolean):
        return node.this
    return None
