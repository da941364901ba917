"""The legacy action webhook's message: tokens, escaping, links, Slack vs other receivers."""

from __future__ import annotations

import pytest

from hedgerow.destinations.legacy_webhook import (
    WebhookAction,
    WebhookEvent,
    WebhookProject,
    format_message,
    webhook_body,
    webhook_request,
)

PROJECT = WebhookProject(id=1, site_url="https://h/")
ACTION = WebhookAction(id=7, name="Signed up")
EVENT = WebhookEvent(
    uuid="0190-ab", event="signup", distinct_id="abc", timestamp="2026-01-02T03:04:05.000Z",
    properties={"plan": {"tier": "pro"}, "$browser": "Firefox", "price": 9.5, "note": "a_b*c", "none": None},
    person_properties={"email": "max@x.io", "name": "Max"},
    groups={"company": {"index": 0, "key": "acme", "properties": {"name": "Acme Inc", "seats": 12}}},
)  # fmt: skip


def test_default_message_for_other_receivers_is_markdown() -> None:
    assert webhook_body("https://example.com/hook", ACTION, EVENT, PROJECT) == {
        "text": "[Signed up](https://h/project/1/data-management/actions/7) was triggered by "
                "[max@x.io](https://h/project/1/person/abc)"
    }  # fmt: skip


def test_slack_gets_plain_text_and_mrkdwn_blocks() -> None:
    action = WebhookAction(id=7, name="A <b> & c", slack_message_format="[action.name]: [event] by [person]")
    body = webhook_body("https://hooks.slack.com/services/T/B/X", action, EVENT, PROJECT)
    assert body["text"] == "A &lt;b&gt; &amp; c: signup by max@x.io"
    assert body["blocks"] == [{"type": "section", "text": {"type": "mrkdwn", "text": (
        "<https://h/project/1/data-management/actions/7|A &lt;b&gt; &amp; c>: "
        "<https://h/project/1/events/0190-ab/2026-01-02T03%3A04%3A05.000Z|signup> by "
        "<https://h/project/1/person/abc|max@x.io>")}}]  # fmt: skip


TOKENS = [
    ("[event.event] [event.name] [event.uuid] [event.distinct_id]", "signup signup 0190-ab abc"),
    ("[event.timestamp]", "2026-01-02T03:04:05.000Z"),
    ("[event.properties.plan.tier] [event.properties.price]", "pro 9.5"),
    ("[event.properties.plan]", '{"tier":"pro"}'),
    ("[event.properties.missing] [event.properties.none]", "undefined null"),
    ("[person.properties.name] [person.link]", "Max https://h/project/1/person/abc"),
    ("[action.link] [source.link]", "https://h/project/1/data-management/actions/7 " * 2),
    ("[groups.company] [groups.company.properties.seats] [groups.company.link]",
     "Acme Inc 12 https://h/project/1/groups/0/acme"),
    ("[groups.team]", "(event without group)"),
    ("[user.name] used [user.browser]", "max@x.io used Firefox"),
    ("\\[literal\\] [event]", "[literal] signup"),
]  # fmt: skip


@pytest.mark.parametrize(("template", "plain"), TOKENS)
def test_tokens(template, plain) -> None:
    action = WebhookAction(id=7, name="Signed up", slack_message_format=template)
    text, _ = format_message(template, action, EVENT, PROJECT, slack=True)
    assert text == plain.strip()


def test_markdown_escaping_of_values() -> None:
    _, linked = format_message("[event.properties.note]", ACTION, EVENT, PROJECT, slack=False)
    assert linked == "a\\_b\\*c"


def test_person_falls_back_to_distinct_id_and_project_display_names() -> None:
    anonymous = WebhookEvent(uuid="u", event="e", distinct_id=" anon-1 ", timestamp="t", person_properties={})
    assert format_message("[person]", ACTION, anonymous, PROJECT, slack=True)[0] == "anon-1"
    custom = WebhookProject(id=1, site_url="https://h", person_display_name_properties=("name",))
    assert format_message("[person]", ACTION, EVENT, custom, slack=True)[0] == "Max"


@pytest.mark.parametrize("template", ["[nope]", "[event.bogus]", "[person.email]", "[action]"])
def test_an_unknown_token_turns_the_message_into_a_warning(template) -> None:
    action = WebhookAction(id=7, name="Signed up", slack_message_format=template)
    body = webhook_body("https://example.com", action, EVENT, PROJECT)
    assert body == {"text": '*⚠ Error: There are one or more formatting errors in the message template for action '
                            '"[Signed up](https://h/project/1/data-management/actions/7)".*'}  # fmt: skip


def test_the_request_for_the_delivery_queue() -> None:
    request = webhook_request("https://hooks.slack.com/x", ACTION, EVENT, PROJECT)
    assert request["method"] == "POST" and request["url"] == "https://hooks.slack.com/x"
    assert request["headers"] == {"Content-Type": "application/json"}
    assert request["body"] == webhook_body("https://hooks.slack.com/x", ACTION, EVENT, PROJECT)
