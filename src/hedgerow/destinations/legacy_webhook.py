"""The legacy action webhook's message (``post_to_slack`` + ``slack_message_format``).

Pure: given the message format, the action, the event and the project, the JSON body PostHog
posts to the project's ``slack_incoming_webhook``. Tokens are ``[...]`` (``\\[``/``\\]`` are
literal brackets): ``[person]``, ``[person.link]``, ``[person.properties.a.b]``, ``[event]``,
``[event.link]``, ``[event.uuid]``, ``[event.event]``, ``[event.name]`` (deprecated),
``[event.timestamp]``, ``[event.distinct_id]``, ``[event.properties.a.b]``, ``[action.name]``,
``[action.link]`` (``source.*`` the same), ``[groups.<type>]``, ``[groups.<type>.link]``,
``[groups.<type>.properties.a]`` and the deprecated ``[user.name]``/``[user.<p>]``. A token
that is none of these turns the whole message into a warning about the template.

A receiver whose URL contains ``slack.com`` gets ``{"text", "blocks"}`` with Slack's escaping
and ``<url|text>`` links; any other gets ``{"text"}`` in Markdown with ``[text](url)`` links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import quote

import orjson

DEFAULT_FORMAT = "[action.name] was triggered by [person]"
PERSON_DISPLAY_NAME_PROPERTIES = ("email", "Email", "name", "Name", "username", "Username", "UserName")
_TOKEN = re.compile(r"(?<!\\)\[(.*?)(?<!\\)\]")
_ESCAPED_BRACKET = re.compile(r"\\([\[\]])")
_MARKDOWN_CHARS = set("\\`*_{}[]()!")
_LINE_START_CHARS = set("#-+")
_UNDEFINED = object()


@dataclass(frozen=True)
class WebhookAction:
    id: int
    name: str | None
    slack_message_format: str | None = None


@dataclass(frozen=True)
class WebhookEvent:
    uuid: str
    event: str
    distinct_id: str
    timestamp: str
    properties: Mapping[str, Any] = field(default_factory=dict)
    person_properties: Mapping[str, Any] | None = None
    groups: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """group type -> {"index", "key", "properties"}"""


@dataclass(frozen=True)
class WebhookProject:
    id: int
    site_url: str
    person_display_name_properties: tuple[str, ...] | None = None


def is_slack(url: str) -> bool:
    return "slack.com" in url.lower()


def _stringify(value: Any) -> str:
    if value is _UNDEFINED:
        return "undefined"
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return orjson.dumps(value, default=str).decode()


def _escape_slack(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_markdown(text: str) -> str:
    out: list[str] = []
    new_line = True
    for char in text:
        if (new_line and char in _LINE_START_CHARS) or (not new_line and char in _MARKDOWN_CHARS):
            out.append("\\")
        out.append(char)
        new_line = char in "\r\n"
    return "".join(out)


class _Renderer:
    def __init__(self, slack: bool, action: WebhookAction, event: WebhookEvent, project: WebhookProject) -> None:
        self.slack = slack
        self.action = action
        self.event = event
        self.project = project
        self.base = f"{project.site_url.rstrip('/')}/project/{project.id}"

    def escape(self, value: Any) -> str:
        text = _stringify(value)
        return _escape_slack(text) if self.slack else _escape_markdown(text)

    def link(self, text: Any, url: str) -> tuple[str, str]:
        name = _stringify(text)
        if self.slack:
            return _escape_slack(name), f"<{_escape_slack(url)}|{_escape_slack(name)}>"
        return _escape_markdown(name), f"[{_escape_markdown(name)}]({_escape_markdown(url)})"

    def plain(self, value: Any) -> tuple[str, str]:
        text = self.escape(value)
        return text, text

    # links
    def person_link(self) -> str:
        return f"{self.base}/person/{quote(self.event.distinct_id, safe='')}"

    def event_link(self) -> str:
        return f"{self.base}/events/{quote(self.event.uuid, safe='')}/{quote(self.event.timestamp, safe='')}"

    def action_link(self) -> str:
        return f"{self.base}/data-management/actions/{self.action.id}"

    def group_link(self, group: Mapping[str, Any]) -> str:
        return f"{self.base}/groups/{group.get('index')}/{quote(str(group.get('key')), safe='')}"

    def person(self) -> tuple[str, str]:
        props = self.event.person_properties or {}
        names = self.project.person_display_name_properties or PERSON_DISPLAY_NAME_PROPERTIES
        key = next((name for name in names if props.get(name)), None)
        shown = props[key] if key is not None else None
        shown = shown if shown is None or isinstance(shown, str) else _stringify(shown)
        return self.link((shown or self.event.distinct_id).strip(), self.person_link())

    def value(self, parts: list[str]) -> tuple[str, str]:
        head, rest = parts[0], parts[1:]
        if head == "user":  # deprecated: [user.name] is the person, [user.x] the event's $x
            return self.person() if rest[:1] == ["name"] else self.plain(
                self.event.properties.get(f"${rest[0]}", _UNDEFINED) if rest else _UNDEFINED)  # fmt: skip
        if head == "person":
            if not rest:
                return self.person()
            if rest == ["link"]:
                return self.plain(self.person_link())
            if rest[0] == "properties" and len(rest) > 1:
                return self.plain(_path(self.event.person_properties, rest[1:]))
        elif head in ("action", "source"):
            if rest == ["name"]:
                return self.link(self.action.name, self.action_link())
            if rest == ["link"]:
                return self.plain(self.action_link())
        elif head == "event":
            if not rest:
                return self.link(self.event.event, self.event_link())
            simple = {"link": self.event_link(), "uuid": self.event.uuid, "name": self.event.event,
                      "event": self.event.event, "distinct_id": self.event.distinct_id,
                      "timestamp": self.event.timestamp}  # fmt: skip
            if len(rest) == 1 and rest[0] in simple:
                return self.plain(simple[rest[0]])
            if rest[0] == "properties" and len(rest) > 1:
                return self.plain(_path(self.event.properties, rest[1:]))
        elif head == "groups" and rest:
            group = self.event.groups.get(rest[0])
            if group is None:
                return self.plain("(event without group)")
            if len(rest) == 1:
                return self.link(group.get("properties", {}).get("name") or group.get("key"), self.group_link(group))
            if rest[1:] == ["link"]:
                return self.plain(self.group_link(group))
            if rest[1] == "properties" and len(rest) > 2:
                return self.plain(_path(group.get("properties"), rest[2:]))
        raise KeyError(".".join(parts))


def _path(source: Any, parts: list[str]) -> Any:
    node = source
    for part in parts:
        if not isinstance(node, Mapping) or part not in node:
            return _UNDEFINED
        node = node[part]
    return node


def format_message(message_format: str | None, action: WebhookAction, event: WebhookEvent,
                   project: WebhookProject, *, slack: bool) -> tuple[str, str]:  # fmt: skip
    """(plain text, linked text) of the message, with the receiver's escaping."""
    r = _Renderer(slack, action, event, project)
    template = message_format or DEFAULT_FORMAT
    try:
        values = [r.value(match.group(1).split(".")) for match in _TOKEN.finditer(template)]
    except (KeyError, IndexError):
        name, linked = r.link(action.name, r.action_link())
        warning = "⚠ Error: There are one or more formatting errors in the message template for action"
        return f'{warning} "{name}".', f'*{warning} "{linked}".*'

    pieces = _TOKEN.split(template)  # text, token, text, token, ..., text
    texts = [_ESCAPED_BRACKET.sub(r"\1", piece) for piece in pieces[0::2]]
    plain = texts[0] + "".join(v[0] + t for v, t in zip(values, texts[1:]))
    linked = texts[0] + "".join(v[1] + t for v, t in zip(values, texts[1:]))
    return plain, linked


def webhook_body(url: str, action: WebhookAction, event: WebhookEvent, project: WebhookProject) -> dict[str, Any]:
    """The JSON body posted to the project's incoming webhook ``url`` for ``action``."""
    slack = is_slack(url)
    plain, linked = format_message(action.slack_message_format, action, event, project, slack=slack)
    if slack:
        return {"text": plain, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": linked}}]}
    return {"text": linked}


def webhook_request(url: str, action: WebhookAction, event: WebhookEvent, project: WebhookProject) -> dict[str, Any]:
    """The request the legacy webhook makes, in the shape the delivery queue holds (so a
    matched ``post_to_slack`` action is delivered, retried and logged like a destination)."""
    return {"url": url, "method": "POST", "headers": {"Content-Type": "application/json"},
            "body": webhook_body(url, action, event, project)}  # fmt: skip
