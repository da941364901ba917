"""String, regular-expression and URL functions."""

from __future__ import annotations

import re

from sqlglot import exp

from hedgerow.hogql import types as T
from hedgerow.hogql.functions.slices import one_based_slice
from hedgerow.hogql.functions.spec import Call, fn, literal_value, nullable_if_any, spec

STR = nullable_if_any(T.STRING)
U64 = nullable_if_any(T.UINT64)
BOOL = nullable_if_any(T.UINT8)
STR_ARRAY = T.array_of(T.STRING)


def _length(call: Call) -> exp.Expression:
    if call.types[0].name == "Array":
        return fn("len", call.args[0])
    return fn("strlen", call.args[0])


def _emptiness(call: Call, negate: bool) -> exp.Expression:
    value = call.args[0]
    if call.types[0].name == "Array":
        test = exp.EQ(this=fn("len", value), expression=exp.Literal.number(0))
    else:
        test = exp.EQ(this=value, expression=exp.Literal.string(""))
    return exp.Not(this=exp.Paren(this=test)) if negate else exp.Paren(this=test)


def _empty(negate: bool):
    return lambda call: _emptiness(call, negate)


def _concat(call: Call) -> exp.Expression:
    # DuckDB's concat skips NULL arguments: ClickHouse-through-HogQL's ifNull(x, '').
    return fn("concat", *call.args)


def _concat_ws(call: Call) -> exp.Expression:
    return fn("concat_ws", *call.args)


def _group_count(call: Call, index: int = 1) -> int:
    pattern = literal_value(call.args[index]) if len(call.args) > index else None
    if isinstance(pattern, str):
        try:
            return re.compile(pattern).groups
        except re.error:
            return 1
    return 1


def _extract(call: Call) -> exp.Expression:
    group = 1 if _group_count(call) else 0
    return fn("regexp_extract", call.args[0], call.args[1], exp.Literal.number(group))


def _extract_all(call: Call) -> exp.Expression:
    group = 1 if _group_count(call) else 0
    return fn("regexp_extract_all", call.args[0], call.args[1], exp.Literal.number(group))


def _position_ci(call: Call) -> exp.Expression:
    return fn("instr", fn("lower", call.args[0]), fn("lower", call.args[1]))


def _replace_one(call: Call) -> exp.Expression:
    return fn("regexp_replace", call.args[0], fn("regexp_escape", call.args[1]), call.args[2])


def _replace_regexp_all(call: Call) -> exp.Expression:
    return fn("regexp_replace", *call.args, exp.Literal.string("g"))


def _split_by(engine: str):
    def lower(call: Call) -> exp.Expression:
        parts = fn(engine, call.args[1], call.args[0])
        if len(call.args) > 2:  # at most max_substrings parts (the rest dropped), when > 0
            limit = call.args[2]
            return exp.Case(
                ifs=[exp.If(this=exp.GT(this=limit.copy(), expression=exp.Literal.number(0)),
                            true=fn("list_slice", parts.copy(), exp.Literal.number(1), limit))],
                default=parts,
            )
        return parts

    return lower


def _array_string_concat(call: Call) -> exp.Expression:
    sep = call.args[1] if len(call.args) > 1 else exp.Literal.string("")
    return fn("array_to_string", call.args[0], sep)


def _count_substrings(call: Call) -> exp.Expression:
    haystack, needle = call.args
    removed = fn("strlen", fn("replace", haystack.copy(), needle.copy(), exp.Literal.string("")))
    diff = exp.Sub(this=fn("strlen", haystack), expression=removed)
    return exp.Cast(
        this=exp.Div(this=exp.Paren(this=diff), expression=fn("strlen", needle)),
        to=exp.DataType.build("BIGINT"),
    )


def _substring(call: Call) -> exp.Expression:
    """ClickHouse's substring (see :mod:`.slices`)."""
    return one_based_slice(
        call.args[0],
        call.args[1],
        call.args[2] if len(call.args) > 2 else None,
        size=lambda text: fn("length", text),
        take=lambda text, first, count: fn("substring", text, first, count),
    )


_LOWER_ASCII = "abcdefghijklmnopqrstuvwxyz"


def _ascii_case(upper: bool):
    """ClickHouse's upper/lower change ASCII letters only (upperUTF8/lowerUTF8 change all)."""
    source, target = (_LOWER_ASCII, _LOWER_ASCII.upper()) if upper else (_LOWER_ASCII.upper(), _LOWER_ASCII)
    return lambda call: fn("translate", call.args[0], exp.Literal.string(source), exp.Literal.string(target))


def _url_part(pattern: str, group: int = 1):
    return lambda call: fn(
        "regexp_extract", call.args[0], exp.Literal.string(pattern), exp.Literal.number(group)
    )


_DOMAIN = r"^(?:[a-zA-Z][a-zA-Z0-9+.\-]*:)?//(?:[^/@]*@)?([^/?#:]*)"


def _domain_without_www(call: Call) -> exp.Expression:
    domain = _url_part(_DOMAIN)(call)
    return fn("regexp_replace", domain, exp.Literal.string(r"^www\."), exp.Literal.string(""))


def _extract_url_parameter(call: Call) -> exp.Expression:
    pattern = exp.DPipe(
        this=exp.DPipe(this=exp.Literal.string(r"[?&]"), expression=fn("regexp_escape", call.args[1])),
        expression=exp.Literal.string(r"=([^&#]*)"),
    )
    return fn("regexp_extract", call.args[0], pattern, exp.Literal.number(1))


def _cut_query_string(call: Call) -> exp.Expression:
    return fn("regexp_replace", call.args[0], exp.Literal.string(r"\?[^#]*"), exp.Literal.string(""))


def _trim(name: str):
    return lambda call: fn(name, *call.args)


def _any_of(needles: exp.Expression, test) -> exp.Expression:
    """Whether ``test(needle)`` holds for any item of a needle array."""
    lam = exp.Lambda(this=test(exp.column("_n")), expressions=[exp.to_identifier("_n")])
    return exp.GT(this=fn("len", fn("list_filter", needles, lam)), expression=exp.Literal.number(0))


def _multi_search_any(case_insensitive: bool):
    def lower(call: Call) -> exp.Expression:
        haystack = call.args[0]
        if case_insensitive:
            return _any_of(call.args[1], lambda n: fn("contains", fn("lower", haystack.copy()), fn("lower", n)))
        return _any_of(call.args[1], lambda n: fn("contains", haystack.copy(), n))

    return lower


def _multi_search_first_index(call: Call) -> exp.Expression:
    lam = exp.Lambda(this=fn("contains", call.args[0], exp.column("_n")), expressions=[exp.to_identifier("_n")])
    found = fn("list_position", fn("list_transform", call.args[1], lam), exp.true())
    return exp.Coalesce(this=found, expressions=[exp.Literal.number(0)])


def _count_matches(case_insensitive: bool):
    def lower(call: Call) -> exp.Expression:
        pattern = call.args[1]
        if case_insensitive:
            pattern = exp.DPipe(this=exp.Literal.string("(?i)"), expression=pattern)
        return fn("len", fn("regexp_extract_all", call.args[0], pattern))

    return lower


def _has_token(case_insensitive: bool):
    """The needle as a whole token: bounded by non-alphanumeric ASCII characters or the ends."""

    def lower(call: Call) -> exp.Expression:
        boundary = exp.Literal.string("(^|[^a-zA-Z0-9])")
        pattern = exp.DPipe(
            this=exp.DPipe(this=boundary, expression=fn("regexp_escape", call.args[1])),
            expression=exp.Literal.string("([^a-zA-Z0-9]|$)"),
        )
        if case_insensitive:
            pattern = exp.DPipe(this=exp.Literal.string("(?i)"), expression=pattern)
        return fn("regexp_matches", call.args[0], pattern)

    return lower


def _append_trailing(call: Call) -> exp.Expression:
    text, char = call.args
    done = exp.or_(
        exp.EQ(this=text.copy(), expression=exp.Literal.string("")),
        fn("ends_with", text.copy(), char.copy()),
    )
    return exp.Case(ifs=[exp.If(this=done, true=text.copy())], default=fn("concat", text, char))


def _split_part(call: Call) -> exp.Expression:
    """PostgreSQL's split_part as PostHog defines it: '' when out of range."""
    text, separator, index = call.args
    return exp.Coalesce(
        this=fn("list_extract", fn("string_split", text, separator), index), expressions=[exp.Literal.string("")]
    )


FUNCTIONS = [
    spec("length", 1, returns=U64, duckdb=_length),
    spec("lengthUTF8", 1, returns=U64, duckdb="length"),
    spec("empty", 1, returns=T.UINT8, duckdb=_empty(False)),
    spec("notEmpty", 1, returns=T.UINT8, duckdb=_empty(True)),
    spec("isEmpty", 1, returns=T.UINT8, duckdb=_empty(False)),
    spec("isNotEmpty", 1, returns=T.UINT8, duckdb=_empty(True)),
    spec("lower", 1, returns=STR, duckdb=_ascii_case(upper=False)),
    spec("upper", 1, returns=STR, duckdb=_ascii_case(upper=True)),
    spec("lowerUTF8", 1, returns=STR, duckdb="lower"),
    spec("upperUTF8", 1, returns=STR, duckdb="upper"),
    spec("reverse", 1, returns=STR, duckdb="reverse"),
    spec("concat", 1, None, returns=T.STRING, duckdb=_concat),
    spec("concatWithSeparator", 2, None, returns=T.STRING, duckdb=_concat_ws),
    spec("substring", 2, 3, returns=STR, duckdb=_substring),
    spec("left", 2, returns=STR, duckdb="left"),
    spec("right", 2, returns=STR, duckdb="right"),
    spec("leftUTF8", 2, returns=STR, duckdb="left"),
    spec("rightUTF8", 2, returns=STR, duckdb="right"),
    spec("substringUTF8", 2, 3, returns=STR, duckdb=_substring),
    spec("leftPad", 2, 3, returns=STR, duckdb=lambda c: fn("lpad", *c.args[:2], *(c.args[2:] or [exp.Literal.string(" ")]))),
    spec("rightPad", 2, 3, returns=STR, duckdb=lambda c: fn("rpad", *c.args[:2], *(c.args[2:] or [exp.Literal.string(" ")]))),
    spec("trim", 1, 2, returns=STR, duckdb=_trim("trim")),
    spec("trimLeft", 1, 2, returns=STR, duckdb=_trim("ltrim")),
    spec("trimRight", 1, 2, returns=STR, duckdb=_trim("rtrim")),
    spec("startsWith", 2, returns=BOOL, duckdb="starts_with"),
    spec("endsWith", 2, returns=BOOL, duckdb="ends_with"),
    spec("position", 2, returns=U64, duckdb="instr"),
    spec("positionUTF8", 2, returns=U64, duckdb="instr"),
    spec("positionCaseInsensitive", 2, returns=U64, duckdb=_position_ci),
    spec("positionCaseInsensitiveUTF8", 2, returns=U64, duckdb=_position_ci),
    spec("replace", 3, returns=STR, duckdb="replace"),
    spec("replaceAll", 3, returns=STR, duckdb="replace"),
    spec("replaceOne", 3, returns=STR, duckdb=_replace_one),
    spec("replaceRegexpOne", 3, returns=STR, duckdb="regexp_replace"),
    spec("replaceRegexpAll", 3, returns=STR, duckdb=_replace_regexp_all),
    spec("match", 2, returns=BOOL, duckdb="regexp_matches"),
    spec("extract", 2, returns=STR, duckdb=_extract),
    spec("regexpExtract", 2, 3, returns=STR, duckdb=lambda c: fn("regexp_extract", *c.args[:2], *(c.args[2:] or [exp.Literal.number(1)]))),
    spec("extractAll", 2, returns=STR_ARRAY, duckdb=_extract_all),
    spec("splitByChar", 2, 3, returns=STR_ARRAY, duckdb=_split_by("string_split")),
    spec("splitByString", 2, 3, returns=STR_ARRAY, duckdb=_split_by("string_split")),
    spec("splitByRegexp", 2, 3, returns=STR_ARRAY, duckdb=_split_by("string_split_regex")),
    spec("splitByWhitespace", 1, 2, returns=STR_ARRAY, duckdb=lambda c: fn(
        "string_split_regex", fn("trim", c.args[0]), exp.Literal.string(r"\s+"))),
    spec("arrayStringConcat", 1, 2, returns=T.STRING, duckdb=_array_string_concat),
    spec("countSubstrings", 2, returns=U64, duckdb=_count_substrings),
    spec("format", 1, None, returns=T.STRING, duckdb="format"),
    spec("repeat", 2, returns=STR, duckdb="repeat"),
    spec("base64Encode", 1, returns=STR, duckdb=lambda c: fn("to_base64", fn("encode", c.args[0]))),
    spec("base64Decode", 1, returns=STR, duckdb=lambda c: fn("decode", fn("from_base64", c.args[0]))),
    spec("tryBase64Decode", 1, returns=STR, duckdb=lambda c: fn("decode", fn("from_base64", c.args[0]))),
    spec("encodeURLComponent", 1, returns=STR, duckdb="url_encode"),
    spec("decodeURLComponent", 1, returns=STR, duckdb="url_decode"),
    spec("domain", 1, returns=STR, duckdb=_url_part(_DOMAIN)),
    spec("netloc", 1, returns=STR, duckdb=_url_part(r"^(?:[a-zA-Z][a-zA-Z0-9+.\-]*:)?//([^/?#]*)")),
    spec("domainWithoutWWW", 1, returns=STR, duckdb=_domain_without_www),
    spec("topLevelDomain", 1, returns=STR, duckdb=_url_part(r"^(?:[a-zA-Z][a-zA-Z0-9+.\-]*:)?//[^/?#:]*\.([^./?#:]+)")),
    spec("protocol", 1, returns=STR, duckdb=_url_part(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")),
    spec("path", 1, returns=STR, duckdb=_url_part(r"^(?:[a-zA-Z][a-zA-Z0-9+.\-]*:)?//[^/?#]*(/[^?#]*)")),
    spec("pathFull", 1, returns=STR, duckdb=_url_part(r"^(?:[a-zA-Z][a-zA-Z0-9+.\-]*:)?//[^/?#]*(/[^#]*)")),
    spec("queryString", 1, returns=STR, duckdb=_url_part(r"\?([^#]*)")),
    spec("fragment", 1, returns=STR, duckdb=_url_part(r"#(.*)$")),
    spec("extractURLParameter", 2, returns=STR, duckdb=_extract_url_parameter),
    spec("reverseUTF8", 1, returns=STR, duckdb="reverse"),
    spec("leftPadUTF8", 2, 3, returns=STR, duckdb=lambda c: fn("lpad", *c.args[:2], *(c.args[2:] or [exp.Literal.string(" ")]))),
    spec("rightPadUTF8", 2, 3, returns=STR, duckdb=lambda c: fn("rpad", *c.args[:2], *(c.args[2:] or [exp.Literal.string(" ")]))),
    spec("lpad", 3, returns=STR, duckdb="lpad"),
    spec("rpad", 3, returns=STR, duckdb="rpad"),
    spec("ltrim", 1, 2, returns=STR, duckdb=_trim("ltrim")),
    spec("rtrim", 1, 2, returns=STR, duckdb=_trim("rtrim")),
    spec("btrim", 1, 2, returns=STR, duckdb=_trim("trim")),
    spec("locate", 2, returns=U64, duckdb=lambda c: fn("instr", c.args[1], c.args[0])),  # needle first
    spec("ascii", 1, returns=nullable_if_any(T.HogType("Int32")), duckdb=lambda c: exp.Case(
        ifs=[exp.If(this=exp.EQ(this=c.args[0].copy(), expression=exp.Literal.string("")), true=exp.Literal.number(0))],
        default=fn("ascii", c.args[0]))),
    spec("initcap", 1, returns=STR, duckdb=lambda c: fn("concat", fn("upper", fn("left", c.args[0], exp.Literal.number(1))),
                                                          fn("lower", fn("substring", c.args[0].copy(), exp.Literal.number(2))))),
    spec("translate", 3, returns=STR, duckdb="translate"),
    spec("translateUTF8", 3, returns=STR, duckdb="translate"),
    spec("regexpQuoteMeta", 1, returns=STR, duckdb="regexp_escape"),
    spec("appendTrailingCharIfAbsent", 2, returns=STR, duckdb=_append_trailing),
    spec("split_part", 3, returns=STR, duckdb=_split_part),
    spec("multiSearchAny", 2, returns=BOOL, duckdb=_multi_search_any(False)),
    spec("multiSearchAnyUTF8", 2, returns=BOOL, duckdb=_multi_search_any(False)),
    spec("multiSearchAnyCaseInsensitive", 2, returns=BOOL, duckdb=_multi_search_any(True)),
    spec("multiSearchFirstIndex", 2, returns=U64, duckdb=_multi_search_first_index),
    spec("multiMatchAny", 2, returns=BOOL, duckdb=lambda c: _any_of(c.args[1], lambda p: fn("regexp_matches", c.args[0].copy(), p))),
    spec("countMatches", 2, returns=U64, duckdb=_count_matches(False)),
    spec("countMatchesCaseInsensitive", 2, returns=U64, duckdb=_count_matches(True)),
    spec("hasToken", 2, returns=BOOL, duckdb=_has_token(False)),
    spec("hasTokenCaseInsensitive", 2, returns=BOOL, duckdb=_has_token(True)),
    spec("cutQueryString", 1, returns=STR, duckdb=_cut_query_string),
    spec("cutWWW", 1, returns=STR, duckdb=lambda c: fn("regexp_replace", c.args[0], exp.Literal.string(r"//www\."), exp.Literal.string("//"))),
]  # fmt: skip
