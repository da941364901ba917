"""Actions: PostHog's fields and list, soft deletion, bad input; matchesAction in HogQL and
ActionsNode series counted against hand-computed answers (the insights dataset)."""

from __future__ import annotations

import pytest

from tests.api.test_cohorts import _wait_calculated
from tests.api.test_cohorts import url as cohorts_url
from tests.api.test_insights import project, run  # noqa: F401 - the insights dataset's project fixture

STEP_KEYS = {"event", "properties", "selector", "selector_regex", "tag_name", "text", "text_matching", "href",
             "href_matching", "url", "url_matching"}  # fmt: skip
ACTION_KEYS = {"id", "name", "description", "tags", "post_to_slack", "slack_message_format", "steps", "created_at",
               "created_by", "deleted", "is_calculating", "last_calculated_at", "team_id", "is_action",
               "bytecode_error", "pinned_at", "creation_context", "user_access_level"}  # fmt: skip


def url(api, project_id: int | None = None) -> str:
    return f"/api/projects/{project_id or api.project_id}/actions/"


def create(api, project_id: int | None = None, **body):
    response = api.post(url(api, project_id), body)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_and_retrieve_show_posthogs_fields(api) -> None:
    made = create(api, name="Clicked signup", description="CTA", tags=["Growth", "growth", " cta "],
                  post_to_slack=True, slack_message_format="[action.name] by [person]",
                  steps=[{"event": "$autocapture", "selector": "div > button.cta", "text": "Sign up"},
                         {"event": "$pageview", "url": "/signup", "url_matching": "exact"}])  # fmt: skip
    assert set(made) == ACTION_KEYS
    assert made["name"] == "Clicked signup" and made["tags"] == ["cta", "growth"]
    assert made["post_to_slack"] is True and made["slack_message_format"] == "[action.name] by [person]"
    assert made["is_calculating"] is False and made["is_action"] is True and made["deleted"] is False
    assert made["team_id"] == api.project_id and made["created_by"]["email"] == "admin@hedgerow.local"
    first, second = made["steps"]
    assert set(first) == STEP_KEYS and set(second) == STEP_KEYS
    assert first["selector_regex"] == r"(^|;)button.*?\.cta[^;]*?($|;|:([^;^\s]*(;|$|\s)))div[^;]*?($|;|:([^;^\s]*(;|$|\s))).*"
    assert first["url_matching"] == "contains" and first["text_matching"] is None  # PostHog's step defaults
    assert second["selector_regex"] is None and second["url_matching"] == "exact"
    assert api.get(url(api) + f"{made['id']}/").json() == made


def test_list_is_unpaginated_ordered_and_searchable(api) -> None:
    for name in ("beta", "Alpha", "gamma 100%"):
        create(api, name=name, steps=[{"event": name}])
    body = api.get(url(api)).json()
    assert set(body) == {"results"}
    assert [a["name"] for a in body["results"]] == ["gamma 100%", "Alpha", "beta"]  # newest calculation first
    assert [a["name"] for a in api.get(url(api) + "?search=ALPHA").json()["results"]] == ["Alpha"]
    assert [a["name"] for a in api.get(url(api) + "?search=%25").json()["results"]] == ["gamma 100%"]


def test_names_are_unique_among_live_actions(api) -> None:
    first = create(api, name="Signed up")
    response = api.post(url(api), {"name": "Signed up"})
    assert response.status_code == 400
    assert response.json() == {"type": "validation_error", "code": "unique", "attr": "name",
                               "detail": f"This project already has an action with this name, ID {first['id']}"}
    api.patch(url(api) + f"{first['id']}/", {"deleted": True})
    assert api.post(url(api), {"name": "Signed up"}).status_code == 201


def test_soft_delete_and_no_hard_delete(api) -> None:
    made = create(api, name="oops")
    one = url(api) + f"{made['id']}/"
    response = api.delete(one)
    assert response.status_code == 405 and response.content == b""
    assert api.patch(one, {"deleted": True}).json()["deleted"] is True
    assert api.get(url(api)).json()["results"] == []
    assert api.get(one).json()["deleted"] is True  # PostHog still retrieves it


def test_pinning_is_stamped_by_the_server(api) -> None:
    one = url(api) + f"{create(api, name='p')['id']}/"
    pinned = api.patch(one, {"pinned_at": "1999-01-01T00:00:00Z"}).json()["pinned_at"]
    assert pinned is not None and not pinned.startswith("1999")
    assert api.patch(one, {"pinned_at": None}).json()["pinned_at"] is None


@pytest.mark.parametrize(
    "body, attr, code",
    [
        ({"name": "x" * 401}, "name", "max_length"),
        ({"name": "   "}, "name", "blank"),
        ({"name": "a\x00b"}, "name", "null_characters_not_allowed"),
        ({"name": {"a": 1}}, "name", "invalid"),
        ({"description": None}, "description", "null"),
        ({"post_to_slack": "maybe"}, "post_to_slack", "invalid"),
        ({"slack_message_format": "x" * 1201}, "slack_message_format", "max_length"),
        ({"tags": "growth"}, "tags", "not_a_list"),
        ({"steps": {"event": "x"}}, "steps", "not_a_list"),
        ({"steps": ["x"]}, "steps", "invalid"),
        ({"steps": [{"url_matching": "startswith", "url": "x"}]}, "steps", "invalid_choice"),
        ({"steps": [{"url": "/shard/\\d+\\", "url_matching": "regex"}]}, "steps", "invalid"),
        ({"steps": [{"properties": {"key": "x"}}]}, "steps", "not_a_list"),
        ({"steps": [{"event": ["a"]}]}, "steps", "invalid"),
        ({"steps": [{}] * 101}, "steps", "max_length"),
        ({"steps": [{"selector": "a" * 1001}]}, "steps", "max_length"),
        ({"steps": [{"text": "(" * 30_000 + ")" * 30_000, "text_matching": "regex"}]}, "steps", "invalid"),
        ({"pinned_at": "soon"}, "pinned_at", "invalid"),
    ],
)
def test_bad_input_is_a_posthog_400_and_changes_nothing(api, body, attr, code) -> None:
    response = api.post(url(api), body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert set(error) == {"type", "code", "detail", "attr"}
    assert (error["type"], error["attr"], error["code"]) == ("validation_error", attr, code)
    assert api.get(url(api)).json()["results"] == []


def test_another_projects_action_is_not_found(api) -> None:
    other = api.post("/api/projects/", {"name": "Second"}).json()["id"]
    theirs = create(api, other, name="theirs")
    assert api.get(url(api) + f"{theirs['id']}/").status_code == 404
    assert api.patch(url(api) + f"{theirs['id']}/", {"name": "mine"}).status_code == 404
    assert api.get(url(api)).json()["results"] == []
    response = api.post(f"/api/projects/{api.project_id}/query/",
                        {"query": {"kind": "HogQLQuery", "query": f"select count() from events where matchesAction({theirs['id']})"}})  # fmt: skip
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == f"Could not find an action with ID {theirs['id']}"


def test_scopes(api) -> None:
    reader = api.key(["action:read"])
    assert api.get(url(api), key=reader).status_code == 200
    assert api.post(url(api), {"name": "x"}, key=reader).status_code == 403
    writer = api.key(["action:write"])
    made = api.post(url(api), {"name": "x"}, key=writer)
    assert made.status_code == 201
    assert api.get(url(api) + f"{made.json()['id']}/", key=writer).status_code == 200
    assert api.get(url(api), key=api.key(["feature_flag:read"])).status_code == 403


# -- matching through queries, on the insights dataset (America/New_York) ---------------------


CHROME = [{"event": "$pageview", "properties": [{"key": "$browser", "value": "Chrome", "type": "event"}]}]
SIGNUP_OR_X = [{"event": "signup"}, {"event": "$pageview", "url": "x.com"}]
JAN_1_TO_10 = {"date_from": "2024-01-01", "date_to": "2024-01-10"}


def test_matches_action_in_a_hogql_where(project) -> None:
    chrome = create(project, name="Chrome views", steps=CHROME)
    rows = run(project, {"kind": "HogQLQuery",
                         "query": f"select distinct_id, count() from events where matchesAction({chrome['id']}) "
                                  "group by distinct_id order by distinct_id"})["results"]  # fmt: skip
    assert rows == [["a", 3], ["f", 1]]
    by_name = run(project, {"kind": "HogQLQuery", "query": "select count() from events where matchesAction('Chrome views')"})
    assert by_name["results"] == [[4]]


def test_trends_count_action_series(project) -> None:
    chrome = create(project, name="Chrome views", steps=CHROME)
    either = create(project, name="Signed up or x.com", steps=SIGNUP_OR_X)
    results = run(project, {"kind": "TrendsQuery", "dateRange": JAN_1_TO_10, "series": [
        {"kind": "ActionsNode", "id": chrome["id"]}, {"kind": "ActionsNode", "id": either["id"], "math": "dau"}]})["results"]  # fmt: skip
    # Chrome views, local days: a Jan 1 23:30, a Jan 2 00:30, f Jan 7, a Jan 9
    assert results[0]["data"] == [1, 1, 0, 0, 0, 0, 1, 0, 1, 0] and results[0]["count"] == 4
    assert results[0]["label"] == "Chrome views"
    assert (results[0]["action"]["id"], results[0]["action"]["type"]) == (chrome["id"], "actions")
    # signups a Jan 2, c Jan 7, d Jan 10 and d's x.com pageview Jan 10: d is one person that day
    assert results[1]["data"] == [0, 1, 0, 0, 0, 0, 1, 0, 0, 1] and results[1]["label"] == "Signed up or x.com"


def test_actors_of_an_action_series_are_the_people_it_matched(project) -> None:
    """The persons behind an ``ActionsNode`` data point: the action binds there too."""
    chrome = create(project, name="Chrome views", steps=CHROME)
    trends = {"kind": "TrendsQuery", "dateRange": JAN_1_TO_10, "series": [{"kind": "ActionsNode", "id": chrome["id"]}]}
    point = {"kind": "ActorsQuery", "select": ["actor"],
             "source": {"kind": "InsightActorsQuery", "source": trends, "day": "2024-01-07", "series": 0}}  # fmt: skip
    rows = run(project, point)["results"]
    assert [row[0]["distinct_ids"] for row in rows] == [["f"]]


def test_trends_series_of_a_missing_action_matches_nothing(project) -> None:
    [series] = run(project, {"kind": "TrendsQuery", "dateRange": JAN_1_TO_10,
                             "series": [{"kind": "ActionsNode", "id": 999}]})["results"]  # fmt: skip
    assert series["count"] == 0 and set(series["data"]) == {0}


def test_funnel_with_an_action_step(project) -> None:
    chrome = create(project, name="Chrome views", steps=CHROME)
    steps = run(project, {"kind": "FunnelsQuery", "dateRange": {"date_from": "2024-01-01", "date_to": "2024-01-31"},
                          "series": [{"kind": "ActionsNode", "id": chrome["id"]},
                                     {"kind": "EventsNode", "event": "signup"}]})["results"]  # fmt: skip
    # A and F view on Chrome; A signs up 30 minutes after its first view, F never does
    assert [(s["name"], s["count"], s["action_id"], s["type"]) for s in steps] == [
        ("Chrome views", 2, chrome["id"], "actions"), ("signup", 1, "signup", "events")]


def test_funnel_with_a_missing_action_is_a_400(project) -> None:
    response = project.post(f"/api/projects/{project.project_id}/query/", {"query": {
        "kind": "FunnelsQuery", "series": [{"kind": "ActionsNode", "id": 999}, {"kind": "EventsNode", "event": "signup"}]}})
    assert response.status_code == 400 and response.json()["detail"] == "Action ID 999 does not exist!"


def test_retention_with_action_entities(project) -> None:
    either = create(project, name="Signed up or x.com", steps=SIGNUP_OR_X)
    query = {"kind": "RetentionQuery", "dateRange": {"date_from": "2024-01-01", "date_to": "2024-01-10"},
             "retentionFilter": {"targetEntity": {"id": either["id"], "type": "actions"},
                                 "returningEntity": {"id": either["id"], "type": "actions"}, "totalIntervals": 3}}
    cohorts = run(project, query)["results"]
    # cohorts: a (signup Jan 2), c (signup Jan 7), d (signup and x.com view Jan 10); nobody returns
    sizes = {c["date"][:10]: c["values"][0]["count"] for c in cohorts if c["values"][0]["count"]}
    assert sizes == {"2024-01-02": 1, "2024-01-07": 1, "2024-01-10": 1}
    assert all(v["count"] == 0 for c in cohorts for v in c["values"][1:])


def test_cohort_of_people_who_performed_an_action(api) -> None:
    button = [{"tag_name": "button", "attr__class": "cta", "$el_text": "Buy", "nth_child": 1, "nth_of_type": 1},
              {"tag_name": "div", "nth_child": 1, "nth_of_type": 1}]  # fmt: skip
    link = [{"tag_name": "a", "attr__href": "/cta", "$el_text": "cta", "nth_child": 1, "nth_of_type": 1}]
    batch = [{"event": "$autocapture", "distinct_id": "ann", "properties": {"$elements": button}},
             {"event": "$autocapture", "distinct_id": "ben", "properties": {"$elements": link}},
             {"event": "$pageview", "distinct_id": "cat"}]  # fmt: skip
    assert api.client.post("/batch/", json={"api_key": api.project_token, "batch": batch}).status_code == 200
    clicked = create(api, name="Clicked CTA", steps=[{"event": "$autocapture", "selector": "div > button.cta"}])
    cohort = api.post(f"/api/projects/{api.project_id}/cohorts/", {"name": "CTA clickers", "filters": {"properties": {
        "type": "OR", "values": [{"type": "behavioral", "key": clicked["id"], "value": "performed_event",
                                  "event_type": "actions", "time_value": 30, "time_interval": "day"}]}}}).json()  # fmt: skip
    calculated = _wait_calculated(api, cohort["id"])
    assert calculated["count"] == 1 and calculated["errors_calculating"] == 0
    members = api.get(cohorts_url(api) + f"{cohort['id']}/persons/").json()["results"]
    assert [m["distinct_ids"] for m in members] == [["ann"]]
    legacy = api.post(cohorts_url(api), {"name": "Legacy CTA", "groups": [{"action_id": clicked["id"], "days": 7}]}).json()
    assert _wait_calculated(api, legacy["id"])["count"] == 1


def test_events_query_filters_by_action(project) -> None:
    chrome = create(project, name="Chrome views", steps=CHROME)
    body = run(project, {"kind": "EventsQuery", "select": ["distinct_id", "event"], "actionId": chrome["id"],
                         "after": "2024-01-01", "orderBy": ["timestamp"]})  # fmt: skip
    assert body["results"] == [["a", "$pageview"], ["a", "$pageview"], ["f", "$pageview"], ["a", "$pageview"]]
    missing = project.post(f"/api/projects/{project.project_id}/query/",
                           {"query": {"kind": "EventsQuery", "select": ["event"], "actionId": 999}})
    assert missing.status_code == 400 and "999" in missing.json()["detail"]


def test_funnel_exclusion_by_action(project) -> None:
    clicks = create(project, name="Clicks", steps=[{"event": "click"}])
    exclusion = [{"kind": "ActionsNode", "id": clicks["id"], "funnelFromStep": 0, "funnelToStep": 1}]
    steps = run(project, {"kind": "FunnelsQuery", "dateRange": {"date_from": "2024-01-01", "date_to": "2024-01-31"},
                          "series": [{"kind": "EventsNode", "event": "$pageview"}, {"kind": "EventsNode", "event": "signup"}],
                          "funnelsFilter": {"exclusions": exclusion}})["results"]  # fmt: skip
    assert [s["count"] for s in steps] == [5, 2]  # as with the click event itself: D and E clicked in between


def test_stickiness_and_lifecycle_with_an_action(project) -> None:
    chrome = create(project, name="Chrome views", steps=CHROME)
    [sticky] = run(project, {"kind": "StickinessQuery", "dateRange": JAN_1_TO_10,
                             "series": [{"kind": "ActionsNode", "id": chrome["id"]}]})["results"]  # fmt: skip
    # a: Jan 1, 2, 9 (3 days); f: Jan 7 (1 day)
    assert sticky["data"][:4] == [1, 0, 1, 0] and sticky["label"] == "Chrome views"
    assert (sticky["action"]["id"], sticky["action"]["type"]) == (chrome["id"], "actions")
    lifecycle = run(project, {"kind": "LifecycleQuery", "dateRange": JAN_1_TO_10,
                              "series": [{"kind": "ActionsNode", "id": chrome["id"]}]})["results"]  # fmt: skip
    new = next(r for r in lifecycle if r["status"] == "new")
    # only f's person is created at its first event (Jan 7); a's long before
    assert new["data"] == [0, 0, 0, 0, 0, 0, 1, 0, 0, 0] and new["action"]["id"] == chrome["id"]


def test_an_agent_matches_actions_only_with_action_read(api) -> None:
    made = create(api, name="Views", steps=[{"event": "$pageview"}])
    query = {"query": {"kind": "HogQLQuery", "query": f"select count() from events where matchesAction({made['id']})"}}
    plain = {"query": {"kind": "HogQLQuery", "query": "select count() from events"}}

    def agent(name: str, access: dict[str, str]) -> str:
        response = api.post("/api/organizations/@current/agents/", {"name": name, "access": access})
        assert response.status_code == 201, response.text
        return response.json()["key"]

    blind = agent("blind", {"query": "read"})
    refused = api.post(f"/api/projects/{api.project_id}/query/", query, key=blind)
    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"] == "This query matches events against actions: it needs actions access (action:read)."
    assert api.post(f"/api/projects/{api.project_id}/query/", plain, key=blind).status_code == 200
    seeing = agent("seeing", {"query": "read", "action": "read"})
    assert api.post(f"/api/projects/{api.project_id}/query/", query, key=seeing).status_code == 200
