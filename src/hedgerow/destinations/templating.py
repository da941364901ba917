"""Input templates: ``{event.properties.x}``-style references into the invocation's globals.

A string that is exactly one ``{path}`` becomes the value found there (an object stays an
object, a number a number); ``{path}`` inside longer text is replaced by the value as text
(objects and lists as JSON, a missing value as nothing); ``\\{`` is a literal brace. Objects
and lists are rendered member by member. Paths are dotted names from the roots of
:data:`ROOTS` (``event``, ``person``, ``groups``, ``project``, ``source``, ``inputs``), with
``[0]``/``['key']`` subscripts; anything else is refused when the destination is saved.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

import orjson

ROOTS = ("event", "person", "groups", "project", "source", "inputs")
MAX_DEPTH = 32
_TEMPLATE = re.compile(r"\\\{|\{([^{}]*)\}")
_STEP = re.compile(r"""\.\s*([A-Za-z_$][\w$]*)|\[\s*(\d+)\s*\]|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]""")
_HEAD = re.compile(r"\s*([A-Za-z_$][\w$]*)")


class TemplateError(ValueError):
    """A template that cannot be rendered (its message names the expression)."""


def parse_path(expression: str) -> tuple[str | int, ...]:
    """``event.properties['$x'][0]`` -> ``('event', 'properties', '$x', 0)``."""
    head = _HEAD.match(expression)
    if head is None or head.group(1) not in ROOTS:
        raise TemplateError(f"Unsupported template expression {{{expression[:100]}}}: use a path under "
                            + ", ".join(ROOTS))  # fmt: skip
    path: list[str | int] = [head.group(1)]
    at = head.end()
    rest = expression.rstrip()
    while at < len(rest):
        step = _STEP.match(rest, at)
        if step is None:
            raise TemplateError(f"Unsupported template expression {{{expression[:100]}}}")
        name, index, single, double = step.groups()
        path.append(int(index) if index is not None else next(p for p in (name, single, double) if p is not None))
        at = step.end()
    return tuple(path)


def check(value: Any, depth: int = 0) -> None:
    """Refuse a template (or object of templates) with an expression we cannot render."""
    if depth > MAX_DEPTH:
        raise TemplateError("Template is nested too deeply")
    if isinstance(value, str):
        for match in _TEMPLATE.finditer(value):
            if match.group(1) is not None:
                parse_path(match.group(1))
    elif isinstance(value, Mapping):
        for item in value.values():
            check(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check(item, depth + 1)


def lookup(globals_: Mapping[str, Any], path: tuple[str | int, ...]) -> Any:
    node: Any = globals_
    for step in path:
        if isinstance(node, Mapping) and isinstance(step, str):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        else:
            return None
    return node


def as_text(value: Any) -> str:
    """A value as it reads inside a longer string."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return orjson.dumps(value, default=str).decode()


def render(value: Any, globals_: Mapping[str, Any], depth: int = 0) -> Any:
    """``value`` with every template in it resolved against ``globals_``."""
    if depth > MAX_DEPTH:
        raise TemplateError("Template is nested too deeply")
    if isinstance(value, str):
        return _render_string(value, globals_)
    if isinstance(value, Mapping):
        return {key: render(item, globals_, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, globals_, depth + 1) for item in value]
    return value


def _render_string(text: str, globals_: Mapping[str, Any]) -> Any:
    whole = _TEMPLATE.fullmatch(text.strip()) if text.strip().startswith("{") else None
    if whole is not None and whole.group(1) is not None:
        return lookup(globals_, parse_path(whole.group(1)))

    def replace(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return "{"
        return as_text(lookup(globals_, parse_path(match.group(1))))

    return _TEMPLATE.sub(replace, text)
