"""Autocapture element matching over ``elements_chain``, as PostHog matches it.

An ``elements_chain`` lists the clicked element first, then its ancestors, separated by ``;``;
each element is ``tag.classA.classB:`` followed by its ``key="value"`` attributes sorted by key
(``attr_id``, ``href``, ``nth-child``, ``nth-of-type``, ``text``, others as ``attr__<name>``).

A CSS-like selector (tag, ``.class``, ``#id``, ``[attr="v"]``, ``:nth-child(n)``, descendant
space, child ``>``) becomes a regex over the chain (:func:`selector_regex`), the same regex
PostHog's ``build_selector_regex`` writes, so an action matches the events it matches there.
The chain's derived columns (``elements_chain_href``, ``_texts``, ``_ids``, ``_elements``) are
fields of the events table (:mod:`hedgerow.hogql.schema`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlglot import exp

from hedgerow.hogql.dialect import RegexMatch
from hedgerow.hogql.nodes import constant

USEFUL_ELEMENTS = ("a", "button", "input", "select", "textarea", "label")
"""Tags PostHog keeps in ``elements_chain_elements`` to narrow a selector cheaply."""

_ATTRIBUTE = re.compile(r"([a-zA-Z]*)\[(.*)=[\'|\"](.*)[\'|\"]\]")
_ATTRIBUTE_PAIR = re.compile(r"\[\s*([^\]\s=\"']+)\s*=\s*(['\"])((?:\\.|(?!\\|\2).)*)\2\s*\]")
_CLASS_DOT = re.compile(r"\.(?![^\[]*\])")  # a dot outside [...] (Tailwind's w-[0.5rem])


@dataclass
class SelectorPart:
    """One compound selector (``a.btn#go[data-x="1"]``): tag, classes, attributes."""

    direct_descendant: bool
    tag_name: str | None = None
    classes: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    """Chain attributes to find in the element (``attr_id``, ``nth-child``, custom names)."""

    @property
    def only_id(self) -> bool:
        return self.tag_name is None and not self.classes and list(self.attributes) == ["attr_id"]


def _attribute_pairs(tag: str, found: re.Match[str] | None) -> list[tuple[str, str]]:
    # The greedy single-attribute pattern folds [a="1"][b="2"] into one key holding a quote;
    # only such parts are parsed again, pair by pair, and only when the pairs end the part.
    if not found or "[id=" in tag or not re.search(r"[\"']", found[2]):
        return []
    brackets = tag[found.end(1):]
    pairs = [(key, re.sub(r"\\(.)", r"\1", value)) for key, _q, value in _ATTRIBUTE_PAIR.findall(brackets)]
    if _ATTRIBUTE_PAIR.sub("", brackets) or len({key for key, _ in pairs}) != len(pairs):
        return []
    return pairs


def _part(tag: str, direct_descendant: bool) -> SelectorPart:
    part = SelectorPart(direct_descendant)
    found = _ATTRIBUTE.search(tag)
    pairs = _attribute_pairs(tag, found)
    if found and pairs:
        part.attributes.update(pairs)
        tag = found[1]
    if found and "[id=" in tag:
        part.attributes["attr_id"] = found[3]
        tag = found[1]
    if found and "[" in tag:
        part.attributes[found[2]] = found[3]
        tag = found[1]
    if ":nth-child(" in tag:
        pieces = tag.split(":nth-child(")
        part.attributes["nth-child"] = pieces[1].replace(")", "")
        tag = pieces[0]
    if "." in tag:
        pieces = _CLASS_DOT.split(tag)
        part.classes = pieces[1:]
        tag = pieces[0]
    if "#" in tag:
        pieces = tag.split("#")
        part.attributes["attr_id"] = pieces[1]
        tag = pieces[0]
    if tag:
        part.tag_name = tag
    return part


def _split(selector: str) -> list[str]:
    """Split on spaces outside ``[...]`` (quotes inside brackets may hold spaces)."""
    parts: list[str] = []
    current: list[str] = []
    in_brackets = False
    quote: str | None = None
    for char in selector:
        if char == "[" and quote is None:
            in_brackets = True
        if char == "]" and quote is None:
            in_brackets = False
        if char in "\"'":
            if quote is None:
                quote = char
            elif quote == char:
                quote = None
        if char == " " and not in_brackets:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_selector(selector: str) -> list[SelectorPart]:
    """The selector's parts, innermost (the clicked element) first, as the chain runs."""
    selector = selector.replace("> * > ", "").replace("> *", "").replace("\\:", ":").strip()
    tags = list(reversed(_split(selector)))
    parts = []
    for index, tag in enumerate(tags):
        if tag in (">", ""):
            continue
        parts.append(_part(tag, direct_descendant=index > 0 and tags[index - 1] == ">"))
    return parts


def _chain_escaped(value: str) -> str:
    # The chain writes a quote inside a value as \" ; accept it pre-escaped or bare.
    return value.replace('\\"', '"').replace('"', '\\"')


def selector_regex(selector: str) -> str:
    """The regex over ``elements_chain`` that PostHog matches ``selector`` with ('' for none)."""
    regex = ""
    for part in parse_selector(selector):
        if part.tag_name and part.tag_name != "*":
            regex += re.escape(part.tag_name)
        if part.classes:
            regex += r".*?\." + r"\..*?".join(re.escape(c) for c in sorted(part.classes))
        if part.attributes:
            regex += r".*?"
            for key, value in sorted(part.attributes.items()):
                regex += rf'{re.escape(key)}="{re.escape(_chain_escaped(value))}".*?'
        regex += r"[^;]*?($|;|:([^;^\s]*(;|$|\s)))"
        if part.direct_descendant:
            regex += r".*"
    return r"(^|;)" + regex if regex else ""


def _field(name: str, alias: str | None) -> exp.Expression:
    column = exp.Column(this=exp.Identifier(this=name, quoted=True))
    if alias:
        column.set("table", exp.Identifier(this=alias, quoted=True))
    return column


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def chain_matches(regex: str, alias: str | None = None) -> exp.Expression:
    """``elements_chain =~ regex``."""
    return RegexMatch(this=_field("elements_chain", alias), expression=constant(regex))


def selector_condition(selector: str, alias: str | None = None) -> exp.Expression:
    """PostHog's ``selector_to_expr``: the chain regex, the id index, the useful-tags index."""
    parts = parse_selector(selector)
    conditions = [chain_matches(selector_regex(selector), alias)]
    useful: list[str] = []
    for part in parts:
        if part.tag_name in USEFUL_ELEMENTS:
            useful.append(part.tag_name)
        element_id = part.attributes.get("attr_id")
        if element_id is not None:
            has_id = exp.GT(
                this=_call("indexOf", _field("elements_chain_ids", alias), constant(element_id)),
                expression=exp.Literal.number(0),
            )
            if len(parts) == 1 and part.only_id:
                return has_id  # an id alone is answered by the ids array
            conditions.append(has_id)
    if useful:
        is_useful = exp.Lambda(
            this=exp.In(this=exp.column("x"), expressions=[constant(tag) for tag in useful]),
            expressions=[exp.to_identifier("x")],
        )
        conditions.append(exp.GT(
            this=_call("arrayCount", is_useful, _field("elements_chain_elements", alias)),
            expression=exp.Literal.number(0),
        ))  # fmt: skip
    return conditions[0] if len(conditions) == 1 else exp.Paren(this=exp.and_(*conditions))


def tag_name_condition(tag_name: str, alias: str | None = None) -> exp.Expression:
    """Some element of the chain has this tag (the tag is a regex fragment, as in PostHog)."""
    return chain_matches(rf"(^|;){tag_name}(\.|$|;|:)", alias)


def any_text(condition: "exp.Expression", alias: str | None = None) -> exp.Expression:
    """``arrayExists(x -> <condition over x>, elements_chain_texts)``."""
    lam = exp.Lambda(this=condition, expressions=[exp.to_identifier("x")])
    return _call("arrayExists", lam, _field("elements_chain_texts", alias))


def href(alias: str | None = None) -> exp.Expression:
    """The chain's first ``href`` (``elements_chain_href``)."""
    return _field("elements_chain_href", alias)


def text_var() -> exp.Expression:
    """The lambda variable :func:`any_text` binds each element text to."""
    return exp.column("x")
