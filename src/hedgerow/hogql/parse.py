"""Stage 1: HogQL text to a sqlglot tree, accepting exactly one SELECT or set query.

Every node of the parsed tree must belong to :data:`ALLOWED_NODES`; anything else (DDL, DML,
commands, table functions, exotic syntax) is rejected here with its source position, so later
stages only ever see constructs they understand.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from hedgerow.hogql.dialect import HogQL, InCohort, ParametricCall, RegexMatch
from hedgerow.hogql.errors import HogQLSyntaxError, UnsupportedSyntaxError
from hedgerow.hogql.nodes import Value

logging.getLogger("sqlglot").setLevel(logging.ERROR)

ALLOWED_NODES: frozenset[type[exp.Expression]] = frozenset(
    {
        # statements and clauses
        exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery, exp.With, exp.CTE,
        exp.TableAlias, exp.From, exp.Join, exp.Table, exp.Where, exp.Group, exp.Having,
        exp.Order, exp.Ordered, exp.Limit, exp.Offset, exp.Distinct, exp.Window,
        exp.WindowSpec, exp.Alias, exp.Star, exp.Column, exp.Identifier, exp.Dot, exp.Var,
        exp.Qualify, exp.Rollup, exp.Cube,
        # literals and constructors
        exp.Literal, exp.Null, exp.Boolean, exp.Array, exp.Tuple, exp.Interval, exp.Placeholder,
        exp.Paren, exp.DataType, exp.Cast, exp.TryCast,
        # operators
        exp.And, exp.Or, exp.Not, exp.Xor, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE,
        exp.Like, exp.ILike, exp.In, exp.Between, exp.Is, exp.Add, exp.Sub, exp.Mul, exp.Div,
        exp.Mod, exp.Neg, exp.DPipe, exp.Bracket, exp.Coalesce, exp.If, exp.Case,
        exp.Lambda, exp.Anonymous, exp.Trim, exp.NullSafeEQ, exp.NullSafeNEQ, exp.IntDiv,
        exp.Exists,
        # HogQL additions (Value: a server-made constant; text never parses to one)
        ParametricCall, InCohort, RegexMatch, Value,
    }
)  # fmt: skip

_SETTINGS_ALLOWED = frozenset(
    {
        "optimize_aggregation_in_order",
        "date_time_output_format",
        "date_time_input_format",
        "join_algorithm",
    }
)


def _offset(text: str, line: int, col: int) -> int:
    lines = text.split("\n")
    line = max(1, min(line, len(lines)))
    return sum(len(x) + 1 for x in lines[: line - 1]) + max(0, col - 1)


def _span(node: exp.Expression) -> tuple[int | None, int | None]:
    for candidate in (node, *node.iter_expressions()):
        meta = candidate.meta if candidate._meta else None  # noqa: SLF001
        if meta and "start" in meta:
            return meta["start"], meta["end"] + 1
        if isinstance(candidate, exp.Column) and candidate.this._meta:  # noqa: SLF001
            return candidate.this.meta.get("start"), candidate.this.meta.get("end", -1) + 1
    return None, None


def span_of(node: exp.Expression) -> tuple[int | None, int | None]:
    """Best-effort source span (start, end) of a node, for error messages."""
    for candidate in node.walk():
        if isinstance(candidate, exp.Expression) and candidate._meta and "start" in candidate.meta:  # noqa: SLF001
            return candidate.meta["start"], candidate.meta["end"] + 1
    return None, None


def parse(text: str) -> exp.Expression:
    """Parse one HogQL SELECT (or set query); raise :class:`HogQLSyntaxError` otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise HogQLSyntaxError("Empty query.")
    if text.rstrip().endswith(";"):
        end = len(text.rstrip())
        raise HogQLSyntaxError("Trailing ';' is not allowed.", start=end - 1, end=end)
    try:
        statements = sqlglot.parse(text, read=HogQL)
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        start = _offset(text, first.get("line", 1), first.get("col", 1))
        desc = first.get("description") or "Syntax error"
        raise HogQLSyntaxError(
            f"Syntax error at line {first.get('line', 1)}, column {first.get('col', 1)}: {desc}",
            start=start,
            end=start + 1,
        ) from None
    except TokenError as exc:
        raise HogQLSyntaxError(f"Syntax error: {str(exc).split(':')[0]}") from None
    statements = [s for s in statements if s is not None]
    if len(statements) != 1:
        raise HogQLSyntaxError("Only one statement is allowed per query.")
    tree = statements[0]
    if not isinstance(tree, (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery)):
        raise HogQLSyntaxError("Only SELECT queries are allowed.", start=0, end=len(text))
    _check_nodes(tree)
    return tree


def check(tree: exp.Expression) -> exp.Expression:
    """Validate a tree built by the server from parsed pieces (same allow-list as text)."""
    if not isinstance(tree, (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery)):
        raise HogQLSyntaxError("Only SELECT queries are allowed.")
    _check_nodes(tree)
    return tree


def _piece(prefix: str, text: Any, what: str) -> exp.Select:
    if not isinstance(text, str) or not text.strip():
        raise HogQLSyntaxError(f"Empty {what}.")
    try:
        tree = parse(prefix + text)
    except HogQLSyntaxError as error:
        raise HogQLSyntaxError(f"Invalid {what} '{text}': {error.detail}") from None
    if not isinstance(tree, exp.Select):
        raise HogQLSyntaxError(f"Invalid {what} '{text}'")
    return tree


def _only(tree: exp.Select, keys: set[str], text: str, what: str) -> None:
    extra = [k for k, v in tree.args.items() if v and k not in keys]
    if extra:
        raise HogQLSyntaxError(f"Invalid {what} '{text}': expected a single expression")


def parse_expr(text: str, *, what: str = "expression", alias: bool = False) -> exp.Expression:
    """One HogQL expression (a select item when ``alias``), e.g. from an EventsQuery.

    Parsed as ``SELECT <text>`` and refused unless that is exactly one item and nothing
    else, so the text can never add clauses, tables or statements.
    """
    tree = _piece("SELECT ", text, what)
    _only(tree, {"expressions"}, text, what)
    if len(tree.expressions) != 1 or isinstance(tree.expressions[0], exp.Star):
        raise HogQLSyntaxError(f"Invalid {what} '{text}': expected a single expression")
    item = tree.expressions[0].pop()
    if isinstance(item, exp.Alias) and not alias:
        raise HogQLSyntaxError(f"Invalid {what} '{text}': an alias is not allowed here")
    return item


def parse_order(text: str) -> exp.Ordered:
    """One ORDER BY item (``expr [ASC|DESC]``)."""
    tree = _piece("SELECT 1 ORDER BY ", text, "order by expression")
    _only(tree, {"expressions", "order"}, text, "order by expression")
    items = tree.args["order"].expressions
    if len(items) != 1:
        raise HogQLSyntaxError(f"Invalid order by expression '{text}': expected a single expression")
    return items[0].pop()


def _normalise_group_modifiers(select: exp.Select) -> None:
    """``GROUP BY a, b WITH ROLLUP`` is ``GROUP BY ROLLUP(a, b)`` (likewise CUBE).

    ``WITH TOTALS`` is accepted and has no effect on the rows: ClickHouse sends the totals row
    apart from the data, and PostHog's parser drops the modifier.
    """
    group = select.args.get("group")
    if group is None:
        return
    for modifier, cls in (("rollup", exp.Rollup), ("cube", exp.Cube)):
        if group.args.get(modifier):
            group.set(modifier, None)
            group.set("expressions", [cls(expressions=list(group.expressions))])
    modifiers = [e for e in group.expressions if isinstance(e, (exp.Rollup, exp.Cube))]
    if modifiers and len(group.expressions) > 1:
        raise UnsupportedSyntaxError("ROLLUP and CUBE must be the whole GROUP BY")


def _check_nodes(tree: exp.Expression) -> None:
    for node in tree.walk():
        if type(node) not in ALLOWED_NODES:
            start, end = span_of(node)
            label = node.key.upper() if isinstance(node, exp.Expression) else type(node).__name__
            raise UnsupportedSyntaxError(f"Unsupported syntax: {label}", start=start, end=end)
        if isinstance(node, exp.Select):
            _check_select(node)


def _check_select(select: exp.Select) -> None:
    _normalise_group_modifiers(select)
    for arg in ("settings", "format", "sample", "prewhere", "totals", "options", "into", "kind"):
        value = select.args.get(arg)
        if not value:
            continue
        if arg == "settings":
            for setting in value:
                name = setting.this.name if isinstance(setting, exp.EQ) else ""
                if name not in _SETTINGS_ALLOWED:
                    start, end = span_of(setting)
                    raise UnsupportedSyntaxError(
                        f"Setting '{name}' is not allowed", start=start, end=end
                    )
            continue
        raise UnsupportedSyntaxError(f"Unsupported syntax: {arg.upper()}")
