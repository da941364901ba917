"""The HogQL dialect for sqlglot: ClickHouse's grammar with HogQL's additions.

Differences from sqlglot's ClickHouse dialect, all declared as class data where possible:

* ``$`` is an identifier character (``$session_id``, ``properties.$browser``), not a
  heredoc delimiter; ``//`` starts a comment; ``#`` does not.
* Every function call parses to :class:`sqlglot.exp.Anonymous` (name kept as written) or,
  for ClickHouse parametric syntax ``quantile(0.9)(x)``, to :class:`ParametricCall`. Nothing
  is normalised into sqlglot's canonical functions, so the allow-list sees the user's name.
* ``{name}`` / ``{filters}`` / ``{a.b}`` are :class:`sqlglot.exp.Placeholder` nodes.
* ``x [NOT] IN COHORT <id|'name'>`` is :class:`InCohort`.
* ``=~`` / ``!~`` (and ``*`` case-insensitive variants) are regex matches.
"""

from __future__ import annotations

import datetime as dt
import re
import typing as t

from sqlglot import exp
from sqlglot.dialects.clickhouse import ClickHouse
from sqlglot.parsers.clickhouse import ClickHouseParser
from sqlglot.tokens import TokenType

from hedgerow.hogql.nodes import Value


class ParametricCall(exp.Expression, exp.Func):
    """``name(params)(args)``, e.g. ``quantile(0.9)(x)``; ``this`` is the name as written."""

    arg_types = {"this": True, "params": True, "expressions": False}


class InCohort(exp.Expression, exp.Condition):
    """``this IN COHORT expression``; ``negated`` for ``NOT IN COHORT``."""

    arg_types = {"this": True, "expression": True, "negated": False}


class RegexMatch(exp.Expression, exp.Condition):
    """``this =~ expression`` family; ``negated`` for ``!~``, ``insensitive`` for ``~*``."""

    arg_types = {"this": True, "expression": True, "negated": False, "insensitive": False}


_KEEP_FUNCTION_PARSERS = ("CAST", "TRY_CAST", "TRIM")

LIMIT_BY = "limit_by"
"""SELECT arg holding ``LIMIT n [OFFSET m] BY exprs`` (an :class:`exp.Limit` with ``expressions``)."""


def _regex(negated: bool, insensitive: bool) -> t.Callable[..., exp.Expression]:
    def parse(self: "HogQLParser", this: exp.Expression | None) -> exp.Expression:
        return self.expression(
            RegexMatch(
                this=this,
                expression=self._parse_bitwise(),
                negated=negated,
                insensitive=insensitive,
            )
        )

    return parse


class HogQLParser(ClickHouseParser):
    """ClickHouse's parser, with calls kept anonymous and HogQL's placeholders and cohorts."""

    FUNCTIONS: t.ClassVar = {}
    FUNCTION_PARSERS: t.ClassVar = {
        k: v for k, v in ClickHouseParser.FUNCTION_PARSERS.items() if k in _KEEP_FUNCTION_PARSERS
    }
    NO_PAREN_FUNCTIONS: t.ClassVar = {}
    PLACEHOLDER_PARSERS: t.ClassVar = {
        **ClickHouseParser.PLACEHOLDER_PARSERS,
        TokenType.L_BRACE: lambda self: self._parse_hogql_placeholder(),
    }
    RANGE_PARSERS: t.ClassVar = {
        **ClickHouseParser.RANGE_PARSERS,
        TokenType.RLIKE: _regex(False, False),
        TokenType.IRLIKE: _regex(False, True),
        # ``~`` alone; ``!~`` / ``!~*`` arrive as NOT + these and become NOT (match).
        TokenType.TILDE: _regex(False, False),
    }

    QUERY_MODIFIER_PARSERS: t.ClassVar = {
        **ClickHouseParser.QUERY_MODIFIER_PARSERS,
        TokenType.LIMIT: lambda self: self._parse_limit_or_limit_by(),
    }

    def _parse_limit_or_limit_by(self) -> tuple[str, exp.Expression | None]:
        # ``LIMIT n BY exprs`` is its own clause (arg ``limit_by``), so a plain LIMIT may follow.
        limit = self._parse_limit()
        if isinstance(limit, exp.Limit) and limit.expressions:
            return LIMIT_BY, limit
        return "limit", limit

    def _parse_hogql_placeholder(self) -> exp.Expression | None:
        parts: list[str] = []
        while True:
            ident = self._parse_id_var(any_token=True)
            if ident is None:
                self.raise_error("Expected a placeholder name")
                return None
            parts.append(ident.name)
            if not self._match(TokenType.DOT):
                break
        if not self._match(TokenType.R_BRACE):
            self.raise_error("Expecting }")
        return self.expression(exp.Placeholder(this=".".join(parts)))

    def _parse_in(self, this: exp.Expression | None, alias: bool = False) -> exp.Expression:
        if self._curr and self._curr.text.upper() == "COHORT":
            self._advance()
            target = self._parse_primary()
            return self.expression(InCohort(this=this, expression=target))
        return super()._parse_in(this, alias)

    def _parse_function(
        self,
        functions: dict[str, t.Callable] | None = None,
        anonymous: bool = False,
        optional_parens: bool = True,
        any_token: bool = False,
    ) -> exp.Expression | None:
        # Skip ClickHouse's combinator handling: the function table understands suffixes.
        func = ClickHouseParser.__mro__[1]._parse_function(  # type: ignore[attr-defined]
            self,
            functions=functions,
            anonymous=anonymous,
            optional_parens=optional_parens,
            any_token=any_token,
        )
        if isinstance(func, exp.Anonymous) and self._match(TokenType.L_PAREN):
            args = self._parse_csv(self._parse_lambda)
            self._match_r_paren()
            call = self.expression(
                ParametricCall(this=func.this, params=func.expressions, expressions=args)
            )
            return self._parse_window(call)
        return func


def _parametric_sql(self: "HogQLGenerator", e: ParametricCall) -> str:
    params = self.expressions(e, key="params", flat=True)
    args = self.expressions(e, flat=True)
    return f"{e.name}({params})({args})"


def _in_cohort_sql(self: "HogQLGenerator", e: InCohort) -> str:
    op = "NOT IN COHORT" if e.args.get("negated") else "IN COHORT"
    return f"{self.sql(e, 'this')} {op} {self.sql(e, 'expression')}"


def _regex_sql(self: "HogQLGenerator", e: RegexMatch) -> str:
    op = ("!~" if e.args.get("negated") else "=~") + ("*" if e.args.get("insensitive") else "")
    return f"{self.sql(e, 'this')} {op} {self.sql(e, 'expression')}"


def _value_sql(self: "HogQLGenerator", e: exp.Expression) -> str:
    """A compiler constant (filter dates, ``now()``) as HogQL text, for the ``hogql`` field."""
    value = e.this
    if isinstance(value, dt.datetime):
        text = value.isoformat(sep=" ", timespec="microseconds" if value.microsecond else "seconds")
        return f"toDateTime({self.sql(exp.Literal.string(text))}, 'UTC')"
    if isinstance(value, dt.date):
        return f"toDate({self.sql(exp.Literal.string(value.isoformat()))})"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return self.sql(exp.Literal.number(value))
    return self.sql(exp.Literal.string(str(value)))


def _not_sql(self: "HogQLGenerator", e: exp.Not) -> str:
    if isinstance(e.this, RegexMatch) and not e.this.args.get("negated"):
        op = "!~*" if e.this.args.get("insensitive") else "!~"
        return f"{self.sql(e.this, 'this')} {op} {self.sql(e.this, 'expression')}"
    return f"NOT {self.sql(e, 'this')}"


class HogQLGenerator(ClickHouse.Generator):
    """Prints a HogQL tree back as HogQL (response ``columns`` and ``hogql``)."""

    def ordered_sql(self, expression: exp.Ordered) -> str:
        # PostHog prints every ORDER BY item with its direction: ``ORDER BY event ASC``.
        sql = super().ordered_sql(expression)
        if expression.args.get("desc") is None:
            this = self.sql(expression, "this")
            if sql.startswith(this):
                sql = this + " ASC" + sql[len(this):]
        return sql

    def offset_limit_modifiers(self, expression: exp.Expression, fetch: bool, limit: t.Any) -> list[str]:
        return [self.sql(expression, LIMIT_BY), *super().offset_limit_modifiers(expression, fetch, limit)]

    TRANSFORMS: t.ClassVar = {
        **ClickHouse.Generator.TRANSFORMS,
        ParametricCall: _parametric_sql,
        InCohort: _in_cohort_sql,
        RegexMatch: _regex_sql,
        exp.Placeholder: lambda self, e: "{" + e.name + "}",
        exp.Not: _not_sql,
        Value: _value_sql,
    }

    def identifier_sql(self, expression: exp.Identifier) -> str:
        text = expression.this
        if _PLAIN_IDENTIFIER.fullmatch(text) and text.upper() not in _RESERVED:
            return text
        return "`" + text.replace("\\", "\\\\").replace("`", "\\`") + "`"


_PLAIN_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_RESERVED = frozenset(
    {
        "SELECT", "FROM", "WHERE", "GROUP", "BY", "ORDER", "LIMIT", "AS", "AND", "OR", "NOT",
        "JOIN", "ON", "IN", "IS", "NULL", "TRUE", "FALSE", "CASE", "WHEN", "THEN", "ELSE", "END",
        "UNION", "ALL", "DISTINCT", "HAVING", "OFFSET", "WITH", "LEFT", "RIGHT", "INNER", "FULL",
        "CROSS", "USING", "BETWEEN", "LIKE", "ILIKE", "INTERVAL", "OVER", "WINDOW", "PARTITION",
    }
)  # fmt: skip



class HogQL(ClickHouse):
    """The dialect object handed to sqlglot for parsing HogQL text."""

    # Keep ``arr[2]`` exactly as written (sqlglot would rebase constant indexes to 0 but not
    # computed ones); the function pass lowers every index with HogQL's 1-based meaning.
    INDEX_OFFSET = 0

    class Tokenizer(ClickHouse.Tokenizer):
        HEREDOC_STRINGS: t.ClassVar = []
        COMMENTS: t.ClassVar = ["--", "//", ("/*", "*/")]
        SINGLE_TOKENS: t.ClassVar = {
            k: v for k, v in ClickHouse.Tokenizer.SINGLE_TOKENS.items() if k != "$"
        }
        VAR_SINGLE_TOKENS: t.ClassVar = {"$"}
        KEYWORDS: t.ClassVar = {
            **ClickHouse.Tokenizer.KEYWORDS,
            "=~": TokenType.RLIKE,
            "~*": TokenType.IRLIKE,
            "=~*": TokenType.IRLIKE,
        }

    Parser = HogQLParser
    Generator = HogQLGenerator
