"""Lowering for ClickHouse, HogQL's own engine: calls and operators stay as written.

The DuckDB target emulates ClickHouse function by function (:mod:`.functions`); on ClickHouse
the checked call is printed as itself, under its canonical name, with its parameters,
``DISTINCT`` and window. What is still decided here:

* calls whose value the compiler pins (``now()``, ``today()``, ``yesterday()``) take the same
  constants as on DuckDB, so both engines answer alike for a pinned clock;
* DateTime columns are read on the project's wall clock (``toTimeZone(col, zone)``, as
  PostHog's printer does): calendar functions then see local time, as on DuckDB;
* ``=~`` is ``match()``, ``a[i]`` is ``arrayElement()``;
* property reads become ``JSONExtract*`` calls whose keys are bound values.
"""

from __future__ import annotations

from typing import Callable

from sqlglot import exp

from hedgerow.hogql.compilation import Compilation
from hedgerow.hogql.dialect import ParametricCall, RegexMatch
from hedgerow.hogql.errors import HogQLError, HogQLInternalError
from hedgerow.hogql.functions.local_time import explicit_zone
from hedgerow.hogql.functions.registry import FUNCTIONS, lookup
from hedgerow.hogql.functions.spec import ENGINE_CALL, Call, fn, literal_value
from hedgerow.hogql.functions.windows import require_window
from hedgerow.hogql.passes.functions import lower_bottom_up
from hedgerow.hogql.passes.properties import HotColumns, materialized_read, rewrite
from hedgerow.hogql.hot_properties import MATERIALIZED, MATERIALIZED_PERSON
from hedgerow.hogql.nodes import EngineArrayJoin, EngineParametric, Property, Value, inline_string, type_of, typed

_HOT_COLUMNS: HotColumns = {"properties": MATERIALIZED, "person_properties": MATERIALIZED_PERSON}
"""Hot properties with a materialised column on ClickHouse (``events.mat_<key>``, and
``events.pmat_<key>`` for person properties stored on each event)."""

PINNED = frozenset({"now", "today", "yesterday"})
"""Calls lowered to the compiler's constants (the clock a compilation pins)."""


def _to_number(type_name: str) -> Callable[[list[exp.Expression], Compilation], exp.Expression]:
    # HogQL's toInt/toFloat: numbers convert (truncating), text parses strictly or is NULL.
    def lower(args: list[exp.Expression], c: Compilation) -> exp.Expression:
        if type_of(args[0]).is_numeric:
            return fn(f"to{type_name}", args[0])
        return fn(f"to{type_name}OrNull", fn("toString", args[0]))

    return lower


def _week_mode(name: str) -> Callable[[list[exp.Expression], Compilation], exp.Expression]:
    # Without a mode, the week starts on the project's day (PostHog's week_start_day).
    def lower(args: list[exp.Expression], c: Compilation) -> exp.Expression:
        if len(args) == 1:
            args = [*args, exp.Literal.number(1 if c.ctx.week_start_day == 1 else 0)]
        return fn(name, *args)

    return lower


def _concat(args: list[exp.Expression], c: Compilation) -> exp.Expression:
    # HogQL's concat reads NULL as '' (ClickHouse's gives NULL).
    return fn("concat", *[fn("ifNull", fn("toString", a), inline_string("")) if type_of(a).nullable else a
                          for a in args])  # fmt: skip


_UNITS = frozenset({"second", "minute", "hour", "day", "week", "month", "quarter", "year"})


def _unit_first(name: str) -> Callable[[list[exp.Expression], Compilation], exp.Expression]:
    # ClickHouse's parser reads dateAdd(month, n, d) only with the unit as a bare keyword.
    def lower(args: list[exp.Expression], c: Compilation) -> exp.Expression:
        unit = literal_value(args[0]) if len(args) == 3 else None
        if isinstance(unit, str):
            if unit.lower() not in _UNITS:
                raise HogQLError(f"Unknown date unit '{unit}' in {name}()")
            args = [exp.Var(this=unit.lower()), *args[1:]]  # one of _UNITS: safe to print bare
        return fn(name, *args)

    return lower


def _date_bin(args: list[exp.Expression], c: Compilation) -> exp.Expression:
    interval, ts, *origin = args
    return fn("toStartOfInterval", ts, interval, *[fn("toDateTime64", o, exp.Literal.number(6)) for o in origin])


RENAMED: dict[str, Callable[[list[exp.Expression], Compilation], exp.Expression]] = {
    "toFloat": _to_number("Float64"),
    "toInt": _to_number("Int64"),
    "timezone": lambda args, c: fn("toTimeZone", args[1], args[0]),
    "date_bin": _date_bin,
    "toUUID": lambda args, c: fn("toUUIDOrNull", fn("toString", *args)),
    **{name: _unit_first(name) for name in ("dateAdd", "dateSub", "date_add", "date_sub", "date_subtract")},
    "toStartOfWeek": _week_mode("toStartOfWeek"),
    "toWeek": _week_mode("toWeek"),
    "concat": _concat,
}
"""HogQL functions whose ClickHouse spelling differs (PostgreSQL-style names, HogQL-only
conversions, project settings ClickHouse does not know)."""


def _call(node: exp.Expression, c: Compilation) -> exp.Expression:
    spec = lookup(node.name)
    if spec is None:
        raise HogQLInternalError(f"unresolved function {node.name}")
    window = node.parent if isinstance(node.parent, exp.Window) and node.arg_key == "this" else None
    require_window(spec.name, window is not None)
    args = list(node.expressions)
    explicit_zone(spec, args)  # validated as on DuckDB
    if spec.name in PINNED:
        call = Call(name=spec.name, args=args, types=[type_of(a) for a in args], params=[],
                    result=type_of(node), env=c.env)  # fmt: skip
        return spec.impl["duckdb"](call)
    params = list(node.args.get("params") or []) if isinstance(node, ParametricCall) else []
    if params:
        lowered: exp.Expression = EngineParametric(this=spec.name, params=params, expressions=args)
        lowered.meta[ENGINE_CALL] = True
        return lowered
    if spec.name in RENAMED:
        return RENAMED[spec.name](args, c)
    return fn(node.name if node.name in FUNCTIONS else spec.name, *args)


def _regex(node: RegexMatch) -> exp.Expression:
    pattern = node.expression
    if node.args.get("insensitive"):
        pattern = fn("concat", inline_string("(?i)"), pattern)
    match = fn("match", node.this, pattern)
    return exp.Not(this=match) if node.args.get("negated") else match


def _bracket(node: exp.Bracket) -> exp.Expression:
    if len(node.expressions) != 1:
        raise HogQLError("Array access takes one index")
    return fn("arrayElement", node.this, node.expressions[0])


def _local(node: exp.Column, c: Compilation) -> exp.Expression:
    hog_type = type_of(node)
    if not hog_type.is_datetime or hog_type.zone or c.ctx.timezone == "UTC":
        return node
    return fn("toTimeZone", node.copy(), inline_string(c.ctx.timezone))


def _numbers(node: exp.Expression) -> exp.Expression:
    """The resolver's ``numbers()`` table (``range(start, end) AS t(number)``) as ClickHouse's
    own ``numbers(start, count) AS t``, whose column is already ``number``."""
    table = node.parent
    start, end = (literal_value(a) for a in node.expressions)
    alias = table.args.get("alias")
    if alias is not None:
        alias.set("columns", None)
    return fn("numbers", exp.Literal.number(start), exp.Literal.number(end - start))


def _lower(node: exp.Expression, c: Compilation) -> exp.Expression:
    if isinstance(node, (exp.Anonymous, ParametricCall)):
        if node._meta and node.meta.get(ENGINE_CALL):  # noqa: SLF001
            if node.name == "range" and isinstance(node.parent, exp.Table):
                return _numbers(node)
            return node
        return _call(node, c)
    if isinstance(node, RegexMatch):
        return _regex(node)
    if isinstance(node, exp.Bracket):
        return _bracket(node)
    if isinstance(node, exp.Column) and isinstance(node.parent, exp.Expression) and _storage_column(node):
        return _local(node, c)
    return node


def _storage_column(node: exp.Column) -> bool:
    """A column read from a table (not an alias of the SELECT it is in, not a star)."""
    return not isinstance(node.this, exp.Star) and node.table != ""


LOWERED = (exp.Anonymous, ParametricCall, RegexMatch, exp.Bracket, exp.Column)


def _unique_aliases(select: exp.Select) -> None:
    """ClickHouse resolves a name to the first of two same-named columns of a subquery (and a
    set query's ``SELECT *`` wrapper reads its branches by name): a repeated output alias gets
    a suffix. Results are named by the resolver, never by these aliases."""
    seen: set[str] = set()
    for item in select.expressions:
        if not isinstance(item, exp.Alias):
            continue
        name = item.alias
        if name in seen:
            n = 1
            while f"{name}_{n}" in seen:
                n += 1
            name = f"{name}_{n}"
            item.set("alias", exp.Identifier(this=name, quoted=True))
        seen.add(name)


ARRAY_JOIN_PREFIX = "_array_join_"


def array_joins(c: Compilation) -> None:
    """The resolver's lateral ``unnest`` subquery for ``ARRAY JOIN`` (DuckDB's way) back to
    ClickHouse's own ``ARRAY JOIN``, whose elements are read by their bare names."""
    for join in list(c.tree.find_all(exp.Join)):
        sub = join.this
        if not (isinstance(sub, exp.Subquery) and sub.alias.startswith(ARRAY_JOIN_PREFIX)):
            continue
        items = [exp.Alias(this=item.this.expressions[0], alias=item.args["alias"].copy())
                 for item in sub.this.expressions]  # fmt: skip
        select = join.parent
        for column in list(select.find_all(exp.Column)):
            if column.table == sub.alias:
                column.replace(typed(exp.Column(this=column.this.copy()), type_of(column)))
        join.replace(EngineArrayJoin(expressions=items, left=(join.side or "").upper() == "LEFT"))
    # Runs last, after the passes that walk joins: the node is not a sqlglot Join.


def functions(c: Compilation) -> None:
    """Lower calls and operators for ClickHouse (see module docstring)."""
    for select in c.tree.find_all(exp.Select):
        _unique_aliases(select)
    lower_bottom_up(c, LOWERED, _lower)


def text_of(doc: exp.Expression, keys: list[exp.Expression]) -> exp.Expression:
    """HogQL's text of a JSON value in ClickHouse: the document is parsed once (ClickHouse
    computes the repeated ``JSONExtractRaw`` once), a string value is then unquoted from its
    own small JSON text. Same values as the materialised columns' expression."""
    raw = fn("JSONExtractRaw", doc, *keys)
    return fn("if", fn("startsWith", raw, inline_string('"')), fn("JSONExtractString", raw.copy()),
              fn("nullIf", fn("nullIf", raw.copy(), inline_string("")), inline_string("null")))  # fmt: skip


def extraction(node: Property) -> exp.Expression:
    """A property read in ClickHouse: JSON null and a missing key are NULL, strings unquoted,
    other values as their JSON text; a declared type converts, NULL when it cannot. A hot
    event or person property reads its materialised column, which holds that same expression."""
    text: exp.Expression | None = materialized_read(node, _HOT_COLUMNS)
    if text is None:
        text = text_of(node.this, [Value(this=k) if isinstance(k, str) else exp.Literal.number(k) for k in node.keys])
    hog_type = type_of(node)
    if hog_type.name == "Float64":
        return fn("toFloat64OrNull", text)
    if hog_type.name == "Bool":
        return fn("transform", text, fn("array", inline_string("true"), inline_string("false")),
                  fn("array", exp.Boolean(this=True), exp.Boolean(this=False)), exp.Null())  # fmt: skip
    if hog_type.name == "DateTime64":
        return fn("parseDateTime64BestEffortOrNull", text, exp.Literal.number(6), inline_string("UTC"))
    return text


def properties(c: Compilation) -> None:
    """Property reads for ClickHouse (see :func:`extraction`)."""
    rewrite(c, extraction)
