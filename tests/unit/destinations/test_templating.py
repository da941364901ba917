"""Input templates: whole-value references keep their type, embedded ones read as text."""

from __future__ import annotations

import pytest

from hedgerow.destinations.templating import TemplateError, check, parse_path, render

GLOBALS = {
    "event": {"event": "order", "uuid": "u-1", "properties": {"total": 25, "tags": ["a", "b"], "$lib": "web",
                                                            "nested": {"k": True}, "none": None}},
    "person": {"name": "Ana", "properties": {"email": "ana@shop.io"}},
    "project": {"id": 1, "name": "Shop"},
    "source": {"name": "Orders"},
    "inputs": {"url": "https://x"},
    "groups": {},
}  # fmt: skip

CASES = [
    ("{event.properties.total}", 25),
    ("{ event.properties.total }", 25),
    ("{event.properties}", GLOBALS["event"]["properties"]),
    ("{event.properties.tags[1]}", "b"),
    ("{event.properties['$lib']}", "web"),
    ('{event.properties["nested"].k}', True),
    ("{event.properties.missing}", None),
    ("{event.properties.tags[9]}", None),
    ("{person.properties.email.x}", None),
    ("total={event.properties.total}", "total=25"),
    ("{event.event}/{event.uuid}", "order/u-1"),
    ("tags: {event.properties.tags}", 'tags: ["a","b"]'),
    ("flag {event.properties.nested.k} none[{event.properties.none}]", "flag true none[]"),
    ("\\{event.event}", "{event.event}"),
    ("no templates at all", "no templates at all"),
    ("{project.name} by {source.name} to {inputs.url}", "Shop by Orders to https://x"),
]


@pytest.mark.parametrize(("template", "expected"), CASES)
def test_render(template, expected) -> None:
    assert render(template, GLOBALS) == expected


def test_objects_and_lists_render_member_by_member() -> None:
    body = {"a": "{event.properties.total}", "b": ["{person.name}", 3, None], "c": {"d": "x{event.event}"}}
    assert render(body, GLOBALS) == {"a": 25, "b": ["Ana", 3, None], "c": {"d": "xorder"}}


@pytest.mark.parametrize("bad", ["{os.environ}", "{event.uuid|upper}", "{concat(event.event)}", "{event..x}",
                                 "{}", "{1 + 1}", "{event.properties[-1]}"])  # fmt: skip
def test_unsupported_expressions_are_refused(bad) -> None:
    with pytest.raises(TemplateError):
        check({"x": [bad]})


def test_nesting_is_bounded() -> None:
    deep: object = "{event.event}"
    for _ in range(40):
        deep = [deep]
    with pytest.raises(TemplateError):
        check(deep)


def test_paths() -> None:
    assert parse_path("event.properties['a b'][0].c") == ("event", "properties", "a b", 0, "c")
