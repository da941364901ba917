"""Actions match events as PostHog's: data-driven cases (data/action_matching.yaml) over
elements chains built from posthog-js's autocapture elements, run on a real DuckDB."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from hedgerow.hogql import CompileContext, HogQLError, compile_hogql
from hedgerow.hogql.actions import ActionDefinition
from hedgerow.hogql.elements import selector_regex
from hedgerow.ingest.normalise import elements_to_chain
from hedgerow.store.events.duckdb import DuckDBEventStore
from hedgerow.store.events.duckdb_query import execute
from hedgerow.store.events.schema import TABLES, fill_hot_columns

DATA = yaml.safe_load((Path(__file__).parent / "data" / "action_matching.yaml").read_text())
TEAM, OTHER_TEAM = 1, 2


@pytest.fixture(scope="module")
def cursor(tmp_path_factory):
    events = DuckDBEventStore(tmp_path_factory.mktemp("actions") / "events.duckdb")
    conn = events.cursor()
    for ddl in TABLES:
        conn.execute(ddl)
    for n, (name, spec) in enumerate(DATA["events"].items(), start=1):
        props = dict(spec.get("properties") or {})
        if "url" in spec:
            props["$current_url"] = spec["url"]
        for team in (TEAM, OTHER_TEAM):
            conn.execute(
                "INSERT INTO events (team_id, uuid, event, distinct_id, properties, timestamp, created_at,"
                " elements_chain) VALUES (?, ?, ?, ?, ?, '2024-06-01', '2024-06-01', ?)",
                [team, f"00000000-0000-0000-000{team}-{n:012d}", spec["event"], name, json.dumps(props),
                 elements_to_chain(spec.get("elements") or [])],
            )  # fmt: skip
    conn.execute(fill_hot_columns())
    yield conn
    conn.close()
    events.close()


def _matched(cursor, actions: dict[int, ActionDefinition], where: str) -> list[str]:
    compiled = compile_hogql(
        f"select distinct_id from events as e where {where} order by distinct_id",
        CompileContext(team_id=TEAM, actions=actions),
    )
    return [row[0] for row in execute(cursor, compiled, timeout_seconds=10).results]


@pytest.mark.parametrize("case", DATA["cases"], ids=[c["name"] for c in DATA["cases"]])
def test_step_matching(case, cursor):
    actions = {7: ActionDefinition(7, "case", case["steps"])}
    assert _matched(cursor, actions, "matchesAction(7)") == sorted(case["matches"])


def test_action_by_name_and_in_any_expression(cursor):
    actions = {3: ActionDefinition(3, "Signed up", [{"event": "$autocapture", "text": "Sign up"}]),
               4: ActionDefinition(4, "Viewed", [{"event": "$pageview"}])}  # fmt: skip
    assert _matched(cursor, actions, "matchesAction('Signed up')") == ["signup_click"]
    assert _matched(cursor, actions, "not matchesAction(4) and matchesAction(3) or false") == ["signup_click"]


def test_matching_never_reaches_another_team(cursor):
    actions = {1: ActionDefinition(1, "everything", [])}
    compiled = compile_hogql("select count() from events where matchesAction(1)", CompileContext(team_id=TEAM, actions=actions))
    assert execute(cursor, compiled, timeout_seconds=10).results == [[len(DATA["events"])]]


@pytest.mark.parametrize(
    "call, message",
    [
        ("matchesAction(99)", "Could not find an action with ID 99"),
        ("matchesAction('nope')", "Could not find an action with the name 'nope'"),
        ("matchesAction('twin')", "Found multiple actions with name 'twin'"),
        ("matchesAction(event)", "action() takes only constant arguments"),
        ("matchesAction(1, 2)", "matchesAction() takes exactly one string or integer argument"),
    ],
)
def test_unknown_or_malformed_action_is_a_query_error(call, message):
    actions = {1: ActionDefinition(1, "twin", []), 2: ActionDefinition(2, "twin", [])}
    with pytest.raises(HogQLError) as raised:
        compile_hogql(f"select count() from events where {call}", CompileContext(team_id=TEAM, actions=actions))
    assert str(raised.value) == message


def test_step_values_are_bound_never_spliced(cursor):
    hostile = "x' or 1=1 --"
    actions = {1: ActionDefinition(1, "h", [{"event": hostile, "url": hostile, "properties": [{"key": hostile, "value": hostile}]}])}
    compiled = compile_hogql("select count() from events where matchesAction(1)", CompileContext(team_id=TEAM, actions=actions))
    assert hostile not in compiled.sql
    assert execute(cursor, compiled, timeout_seconds=10).results == [[0]]


@pytest.mark.parametrize(
    "selector, regex",
    [
        ("button", r"(^|;)button[^;]*?($|;|:([^;^\s]*(;|$|\s)))"),
        ("div > a.nav", r"(^|;)a.*?\.nav[^;]*?($|;|:([^;^\s]*(;|$|\s)))div[^;]*?($|;|:([^;^\s]*(;|$|\s))).*"),
        ('[data-x="1"]', r'(^|;).*?data\-x="1".*?[^;]*?($|;|:([^;^\s]*(;|$|\s)))'),
        ("", ""),
    ],
)
def test_selector_regex_is_posthogs(selector, regex):
    assert selector_regex(selector) == regex


def test_actions_may_refer_to_actions_but_not_endlessly(cursor):
    autocapture = {"type": "hogql", "key": "matchesAction(1)"}
    actions = {1: ActionDefinition(1, "clicks", [{"event": "$autocapture"}]),
               2: ActionDefinition(2, "clicks with a url", [{"url": "shop.io", "properties": [autocapture]}]),
               3: ActionDefinition(3, "self", [{"properties": [{"type": "hogql", "key": "matchesAction(3)"}]}])}  # fmt: skip
    assert _matched(cursor, actions, "matchesAction(2)") == ["buy_button", "docs_span", "pricing_link", "signup_click"]
    with pytest.raises(HogQLError, match="more than 8 levels deep"):
        _matched(cursor, actions, "matchesAction(3)")
