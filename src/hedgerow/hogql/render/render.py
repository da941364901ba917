"""Render a lowered tree with sqlglot's generator for the engine, binding every constant.

String and number literals and compiler :class:`~hedgerow.hogql.nodes.Value` nodes become
positional parameters; identifiers go through :func:`~.quote.quote_identifier`. The renderer
makes no decisions: it refuses a tree that still holds HogQL-only nodes, an unguarded storage
table, or a function call the function pass did not produce.
"""

from __future__ import annotations

import math
from typing import Any

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from hedgerow.hogql import nodes
from hedgerow.hogql.errors import HogQLInternalError
from hedgerow.hogql.functions.spec import ENGINE_CALL
from hedgerow.hogql.render.parameters import parameter_type
from hedgerow.hogql.render.engines import Engine
from hedgerow.hogql.render.quote import quote_identifier, quote_string


def _generator_class(engine: Engine) -> type:
    base = Dialect.get_or_raise(engine.sqlglot_dialect).generator_class

    class BindingGenerator(base):  # type: ignore[misc, valid-type]
        params: list[Any]
        bound: dict[Any, int]

        def _bind(self, value: Any) -> str:
            # One parameter per distinct value: the same expression then prints the same text
            # wherever it appears (SELECT item and GROUP BY must match for the engine).
            try:
                key = (type(value), value)
                index = self.bound.get(key)
            except TypeError:  # unhashable: bind separately
                key, index = None, None
            if index is None:
                self.params.append(value)
                index = len(self.params)
                if key is not None:
                    self.bound[key] = index
            if engine.param_style == "typed":
                return f"{{p{index}:{parameter_type(value)}}}"
            return f"${index}"

        def literal_sql(self, expression: exp.Literal) -> str:
            if expression.is_string:
                if expression._meta and expression.meta.get(nodes.INLINE):  # noqa: SLF001
                    return quote_string(expression.this, backslash_escapes=engine.backslash_escapes)
                return self._bind(expression.this)
            return _number(expression.this, self._bind)

        def identifier_sql(self, expression: exp.Identifier) -> str:
            return quote_identifier(expression.this, engine.identifier_quote,
                                    backslash_escapes=engine.backslash_escapes)  # fmt: skip

        def table_sql(self, expression: exp.Table, sep: str = " AS ") -> str:
            meta = expression.meta if expression._meta else {}  # noqa: SLF001
            if not (meta.get(nodes.GUARDED) or meta.get(nodes.CTE_REF) or meta.get(nodes.TENANT_FREE)):
                raise HogQLInternalError("refusing to render an unguarded table")
            return super().table_sql(expression, sep)

        def anonymous_sql(self, expression: exp.Anonymous) -> str:
            if not (expression._meta and expression.meta.get(ENGINE_CALL)):  # noqa: SLF001
                raise HogQLInternalError(f"unlowered call {expression.name}")
            args = ", ".join(self.sql(a) for a in expression.expressions)
            return f"{expression.name}({args})"

        def engine_parametric_sql(self, expression: exp.Expression) -> str:
            params = ", ".join(self.sql(p) for p in expression.args["params"])
            args = ", ".join(self.sql(a) for a in expression.expressions)
            return f"{expression.name}({params})({args})"

        def engine_array_join_sql(self, expression: exp.Expression) -> str:
            items = ", ".join(self.sql(item) for item in expression.expressions)
            return f" {'LEFT ' if expression.args.get('left') else ''}ARRAY JOIN {items}"

        def unsupported_node(self, expression: exp.Expression) -> str:
            raise HogQLInternalError(f"unlowered node {type(expression).__name__}")

    BindingGenerator.TRANSFORMS = {
        **base.TRANSFORMS,
        nodes.Value: lambda self, e: self._bind(e.this),
        nodes.Property: BindingGenerator.unsupported_node,
        nodes.EngineParametric: BindingGenerator.engine_parametric_sql,
        nodes.EngineArrayJoin: BindingGenerator.engine_array_join_sql,
    }
    return BindingGenerator


def _number(text: str, bind) -> str:
    """Numbers print inline, like PostHog's printer (positional ``GROUP BY 1`` works, plans
    see constants); a value that does not print as a plain finite number is bound instead."""
    try:
        value: Any = int(text) if text.lstrip("-").isdigit() else float(text)
    except ValueError:
        raise HogQLInternalError("malformed number literal") from None
    if isinstance(value, int) and not -(2**63) <= value < 2**64:
        value = float(value)  # beyond 64 bits HogQL types the literal Float64
    if isinstance(value, float) and not math.isfinite(value):
        return bind(value)
    printed = str(value) if isinstance(value, int) else repr(value)
    return f"({printed})" if printed.startswith("-") else printed


_GENERATORS: dict[str, type] = {}


def render(tree: exp.Expression, engine: Engine) -> tuple[str, list[Any]]:
    """SQL text and its positional parameters."""
    cls = _GENERATORS.get(engine.name)
    if cls is None:
        cls = _GENERATORS[engine.name] = _generator_class(engine)
    generator = cls(pretty=False, unsupported_level=_RAISE)
    generator.params = []
    generator.bound = {}
    sql = generator.generate(tree, copy=False)
    return sql, generator.params


from sqlglot.errors import ErrorLevel  # noqa: E402

_RAISE = ErrorLevel.RAISE
