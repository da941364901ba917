"""Saved insights: PostHog's shape field by field, results through the query runner and its
cache, list filters, dashboards membership, soft deletion, scopes and hostile bodies."""

from __future__ import annotations

import json

import pytest

from hedgerow import clock
from tests.api import insights_dataset as data
from tests.api.hostile_values import WEIRD, assert_no_500
from tests.api.test_insights import NOW, project  # noqa: F401 - the dataset's project, clock at NOW
TRENDS = {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}],
          "dateRange": {"date_from": "2024-01-01", "date_to": "2024-01-10"}, "interval": "day"}  # fmt: skip
VIZ = {"kind": "InsightVizNode", "source": TRENDS}
FIELDS = {
    "id", "short_id", "name", "derived_name", "filters", "query", "order", "deleted", "dashboards",
    "dashboard_tiles", "last_refresh", "cache_target_age", "next_allowed_client_refresh", "result", "hasMore",
    "columns", "created_at", "created_by", "description", "updated_at", "tags", "favorited", "saved",
    "last_modified_at", "last_modified_by", "is_sample", "effective_restriction_level", "effective_privilege_level",
    "user_access_level", "timezone", "is_cached", "query_status", "hogql", "types", "resolved_date_range", "alerts",
    "last_viewed_at", "search_match_type", "filters_hash",
}  # fmt: skip


def url(api, suffix: str = "", family: str = "projects") -> str:
    return f"/api/{family}/{api.project_id}/insights/{suffix}"


def create(api, **body):
    response = api.post(url(api), body)
    assert response.status_code == 201, response.text
    return response.json()


def count(api) -> int:
    return api.get(url(api)).json()["count"]


def test_create_and_retrieve_in_posthogs_shape(project) -> None:
    made = create(project, name="Pageviews", query=VIZ, tags=["growth", "growth"], description="daily")
    assert set(made) == FIELDS
    assert len(made["short_id"]) == 8 and made["short_id"].isalnum()
    assert made["query"] == VIZ and made["filters"] == {} and made["tags"] == ["growth"]
    assert made["saved"] is False and made["favorited"] is False and made["deleted"] is False
    assert made["dashboards"] == [] and made["dashboard_tiles"] == [] and made["alerts"] == []
    assert made["created_by"]["email"] == "admin@hedgerow.local" and made["last_modified_by"] == made["created_by"]
    assert made["result"] is None and made["is_cached"] is False and made["last_refresh"] is None  # cache only
    by_id = project.get(url(project, f"{made['id']}/")).json()
    by_short_id = project.get(url(project, f"{made['short_id']}/", family="environments")).json()
    assert by_id == by_short_id == made


def test_retrieve_computes_through_the_query_runner_and_shares_its_cache(project) -> None:
    made = create(project, name="Pageviews", query=VIZ)
    one = url(project, f"{made['id']}/")
    computed = project.get(one + "?refresh=blocking").json()
    direct = project.post(f"/api/projects/{project.project_id}/query/", {"query": TRENDS}).json()
    assert computed["result"] == direct["results"] and computed["result"][0]["count"] > 0
    assert computed["is_cached"] is False and computed["last_refresh"] == clock.iso(NOW)
    assert computed["hogql"] and computed["timezone"] == data.TIMEZONE and computed["filters_hash"].startswith("cache_")
    cached = project.get(one).json()  # force_cache: the runner's cache answers
    assert cached["is_cached"] is True and cached["result"] == computed["result"]
    forced = project.get(one + "?refresh=true").json()
    assert forced["is_cached"] is False and forced["result"] == computed["result"]


def test_sql_insight_runs_its_hogql_source(project) -> None:
    query = {"kind": "DataVisualizationNode",
             "source": {"kind": "HogQLQuery", "query": "select count() from events where event = '$pageview'"}}  # fmt: skip
    made = create(project, name="SQL", query=query)
    body = project.get(url(project, f"{made['id']}/?refresh=force_blocking")).json()
    direct = project.post(f"/api/projects/{project.project_id}/query/", {"query": query["source"]}).json()
    assert body["result"] == direct["results"] and body["columns"] == direct["columns"]


def test_list_filters_and_paging(project) -> None:
    first = create(project, name="Signups by plan", query=VIZ, saved=True, favorited=True)
    second = create(project, name="Retention", query=VIZ, description="weekly SIGNUPS")
    third = create(project, name="100% of visits", query=VIZ)
    names = lambda qs: [i["name"] for i in project.get(url(project, qs)).json()["results"]]  # noqa: E731
    assert names("") == ["100% of visits", "Retention", "Signups by plan"]
    assert names("?saved=true") == ["Signups by plan"]
    assert names("?saved=false") == ["100% of visits", "Retention"]
    assert names("?favorited=true") == ["Signups by plan"]
    assert names("?search=signups") == ["Retention", "Signups by plan"]  # name or description
    assert names("?search=%25") == ["100% of visits"]
    assert names(f"?short_id={second['short_id']}") == ["Retention"]
    admin_id = first["created_by"]["id"]
    assert len(names(f"?created_by=[{admin_id}]")) == 3 and names(f"?created_by=[{admin_id + 99}]") == []
    assert names("?order=name") == ["100% of visits", "Retention", "Signups by plan"]
    assert names("?order=-name") == ["Signups by plan", "Retention", "100% of visits"]
    assert names("?order=-last_modified_at") == ["100% of visits", "Retention", "Signups by plan"]
    assert project.get(url(project, "?order=password")).status_code == 400
    page = project.get(url(project, "?limit=1&offset=1")).json()
    assert page["count"] == 3 and [i["name"] for i in page["results"]] == ["Retention"]
    assert page["next"] and page["previous"]
    assert third["id"] > second["id"] > first["id"]


def test_dashboards_field_adds_and_removes_tiles(project) -> None:
    board = project.post(f"/api/projects/{project.project_id}/dashboards/", {"name": "Growth"}).json()
    made = create(project, name="On a board", query=VIZ, dashboards=[board["id"]])
    assert made["dashboards"] == [board["id"]]
    assert made["dashboard_tiles"] == [{"id": made["dashboard_tiles"][0]["id"], "dashboard_id": board["id"],
                                        "deleted": False}]  # fmt: skip
    assert [i["name"] for i in project.get(url(project, "?saved=true")).json()["results"]] == ["On a board"]
    one = url(project, f"{made['id']}/")
    removed = project.patch(one, {"dashboards": []}).json()
    assert removed["dashboards"] == [] and removed["saved"] is True  # any update marks it saved
    again = project.patch(one, {"dashboards": [board["id"]]}).json()
    assert again["dashboard_tiles"][0]["id"] == made["dashboard_tiles"][0]["id"]  # the same tile, restored


def test_soft_delete_and_restore(project) -> None:
    board = project.post(f"/api/projects/{project.project_id}/dashboards/", {"name": "Growth"}).json()
    made = create(project, name="Doomed", query=VIZ, dashboards=[board["id"]])
    one = url(project, f"{made['id']}/")
    response = project.delete(one)
    assert response.status_code == 405 and response.content == b""
    deleted = project.patch(one, {"deleted": True})
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True
    assert project.get(one).status_code == 404 and count(project) == 0
    assert project.patch(one, {"name": "still gone"}).status_code == 404
    tiles = project.get(f"/api/projects/{project.project_id}/dashboards/{board['id']}/").json()["tiles"]
    assert tiles == []
    restored = project.patch(one, {"deleted": False})
    assert restored.status_code == 200 and restored.json()["deleted"] is False and count(project) == 1


@pytest.mark.parametrize(
    "body, status, code, attr",
    [
        ({"query": "select 1"}, 400, "parse_error", None),
        ({"query": {"kind": "NoSuchQuery"}}, 400, "parse_error", None),
        ({"query": {"kind": "InsightVizNode", "source": {"kind": "TrendsQuery"}}}, 400, "parse_error", None),
        ({"query": {"kind": "InsightVizNode", "source": "TrendsQuery"}}, 400, "parse_error", None),
        ({"name": "x" * 401}, 400, "max_length", "name"),
        ({"name": {"a": 1}}, 400, "invalid", "name"),
        ({"description": "a\x00b"}, 400, "null_characters_not_allowed", "description"),
        ({"favorited": "maybe"}, 400, "invalid", "favorited"),
        ({"order": "first"}, 400, "invalid", "order"),
        ({"tags": "growth"}, 400, "not_a_list", "tags"),
        ({"dashboards": "1"}, 400, "not_a_list", "dashboards"),
        ({"dashboards": ["x"]}, 400, "incorrect_type", "dashboards"),
        ({"dashboards": [987654]}, 400, "does_not_exist", "dashboards"),
        ({"filters": [1]}, 400, "invalid", "filters"),
    ],
)
def test_hostile_bodies_get_posthog_shaped_400s_and_change_nothing(project, body, status, code, attr) -> None:
    create(project, name="kept", query=VIZ)
    response = project.post(url(project), {"name": "new", "query": VIZ, **body})
    assert response.status_code == status, response.text
    assert response.json()["code"] == code and response.json()["attr"] == attr
    assert count(project) == 1
    kept = project.get(url(project)).json()["results"][0]
    patched = project.patch(url(project, f"{kept['id']}/"), body)
    assert patched.status_code == status and patched.json()["code"] == code
    assert project.get(url(project, f"{kept['id']}/")).json()["name"] == "kept"


def test_non_object_bodies_and_unknown_ids(project) -> None:
    assert project.post(url(project), [1, 2]).status_code == 400
    assert project.get(url(project, "99999/")).status_code == 404
    assert project.get(url(project, "nOtThErE/")).status_code == 404
    assert project.get(url(project, "9" * 40 + "/")).status_code == 404


def test_scopes(project) -> None:
    made = create(project, name="Scoped", query=VIZ)
    reader = project.key(["insight:read"])
    assert project.get(url(project), key=reader).status_code == 200
    assert project.get(url(project, f"{made['id']}/"), key=reader).status_code == 200
    refused = project.post(url(project), {"name": "no", "query": VIZ}, key=reader)
    assert refused.status_code == 403 and count(project) == 1
    assert project.get(url(project), key=project.key(["dashboard:read"])).status_code == 403


def test_list_filters_by_tags_dashboards_and_kind(project) -> None:
    board = project.post(f"/api/projects/{project.project_id}/dashboards/", {"name": "Growth"}).json()
    create(project, name="Tagged", query=VIZ, tags=["growth"], dashboards=[board["id"]])
    create(project, name="SQL", query={"kind": "DataVisualizationNode",
                                       "source": {"kind": "HogQLQuery", "query": "select 1"}})  # fmt: skip
    names = lambda qs: [i["name"] for i in project.get(url(project, qs)).json()["results"]]  # noqa: E731
    assert names('?tags=["growth"]') == ["Tagged"] and names('?tags=["other"]') == []
    assert names(f"?dashboards=[{board['id']}]") == ["Tagged"]
    assert names("?insight=TRENDS") == ["Tagged"] and names("?insight=SQL") == ["SQL"]
    assert names("?basic=true") == ["SQL", "Tagged"]
    basic = project.get(url(project, "?basic=true")).json()["results"][0]
    assert "result" not in basic and basic["refreshing"] is False and basic["query"]["kind"] == "DataVisualizationNode"
    for bad in ("?created_by=abc", "?tags=5", '?dashboards=["x"]', "?search=" + "x" * 1001):
        response = project.get(url(project, bad))
        assert response.status_code == 400 and set(response.json()) == {"type", "code", "detail", "attr"}


QUERY_VALUES = [{"kind": "InsightVizNode", "source": {"kind": "TrendsQuery", "series": "x"}}, {"kind": "InsightVizNode"},
                {"kind": "DataVisualizationNode", "source": None}, {"kind": "HogQLQuery", "query": 5}]  # fmt: skip
WRITABLE = ["name", "derived_name", "description", "query", "filters", "order", "deleted", "saved", "favorited",
            "tags", "dashboards"]  # fmt: skip


@pytest.mark.parametrize("field", WRITABLE)
def test_no_value_of_any_field_gets_a_500(api, field) -> None:
    kept = create(api, name="kept")
    assert_no_500(api, url(api), url(api, f"{kept['id']}/"), field, WEIRD + QUERY_VALUES)
    for params in ("?refresh=blocking", "?from_dashboard=x", "?from_dashboard=99999", "?filters_override=[1]",
                   "?variables_override={", "?refresh=force_async"):  # fmt: skip
        response = api.get(url(api, f"{kept['id']}/{params}"))
        assert response.status_code < 500, (params, response.text)


def test_dashboard_filters_apply_to_its_insights(project) -> None:
    board = project.post(f"/api/projects/{project.project_id}/dashboards/",
                         {"name": "Narrow", "filters": {"date_from": "2024-01-08", "date_to": "2024-01-10"}}).json()  # fmt: skip
    made = create(project, name="Pageviews", query=VIZ, dashboards=[board["id"]])
    whole = project.get(url(project, f"{made['id']}/?refresh=blocking")).json()["result"][0]
    narrowed = project.get(url(project, f"{made['id']}/?refresh=blocking&from_dashboard={board['id']}")).json()
    direct = project.post(f"/api/projects/{project.project_id}/query/", {"query": {
        **TRENDS, "dateRange": {"date_from": "2024-01-08", "date_to": "2024-01-10"}}}).json()["results"][0]  # fmt: skip
    assert len(whole["days"]) == 10 and narrowed["result"][0]["days"] == direct["days"] == whole["days"][-3:]
    assert narrowed["result"][0]["data"] == direct["data"]
    tile = project.get(f"/api/projects/{project.project_id}/dashboards/{board['id']}/?refresh=blocking").json()
    assert tile["tiles"][0]["insight"]["result"][0]["data"] == direct["data"]
    chrome = {"properties": [{"key": "$browser", "value": "Chrome", "operator": "exact", "type": "event"}]}
    only = project.get(url(project, f"{made['id']}/?refresh=blocking&filters_override=" + json.dumps(chrome))).json()
    direct_chrome = project.post(f"/api/projects/{project.project_id}/query/",
                                 {"query": {**TRENDS, **chrome}}).json()["results"][0]  # fmt: skip
    assert only["result"][0]["data"] == direct_chrome["data"] and sum(direct_chrome["data"]) < sum(whole["data"])


def test_audit_names_the_insight_and_dashboard(api) -> None:
    made = create(api, name="Audited", query=VIZ)
    api.get(url(api, f"{made['short_id']}/"))
    board = api.post(f"/api/projects/{api.project_id}/dashboards/", {"name": "Audited"}).json()
    api.patch(f"/api/projects/{api.project_id}/dashboards/{board['id']}/", {"name": "Renamed"})
    changed, _, read = api.services.audit.newest(3)
    assert "read insight 'Audited'" in read.sentence  # named as it was when the call came
    assert "changed dashboard 'Audited'" in changed.sentence


def _agent(api, name: str, access: dict[str, str]) -> str:
    made = api.post("/api/organizations/@current/agents/", {"name": name, "access": access})
    assert made.status_code == 201, made.text
    return made.json()["key"]


def test_agents_without_persons_access_are_refused_insights_that_read_persons(project) -> None:
    by_plan = {"kind": "InsightVizNode", "source": {**TRENDS, "breakdownFilter": {"breakdown": "plan",
                                                                                   "breakdown_type": "person"}}}  # fmt: skip
    plain = create(project, name="Plain", query=VIZ)
    personal = create(project, name="By plan", query=by_plan)
    bot = _agent(project, "bot", {"insight": "full", "dashboard": "full"})
    listed = project.get(url(project), key=bot)
    assert listed.status_code == 200 and [i["result"] for i in listed.json()["results"]] == [None, None]
    computed = {i["name"]: i for i in project.get(url(project, "?refresh=blocking"), key=bot).json()["results"]}
    assert computed["Plain"]["result"] is not None and computed["By plan"]["result"] is None
    assert "persons" in computed["By plan"]["query_status"]["error_message"]
    refused = project.get(url(project, f"{personal['id']}/"), key=bot)
    assert refused.status_code == 403 and "person:read" in refused.json()["detail"]
    assert project.get(url(project, f"{plain['id']}/"), key=bot).json()["result"] is not None
    changed = project.patch(url(project, f"{plain['id']}/"), {"name": "Changed", "query": by_plan}, key=bot)
    assert changed.status_code == 403
    assert project.get(url(project, f"{plain['id']}/")).json()["name"] == "Plain"
    renamed = project.patch(url(project, f"{personal['id']}/"), {"name": "Renamed"}, key=bot)
    assert renamed.status_code == 403  # it still reads persons: refused before the write
    assert project.get(url(project, f"{personal['id']}/")).json()["name"] == "By plan"
    board = project.post(f"/api/projects/{project.project_id}/dashboards/", {"name": "B"}).json()
    project.patch(url(project, f"{personal['id']}/"), {"dashboards": [board["id"]]})
    tiles = project.get(f"/api/projects/{project.project_id}/dashboards/{board['id']}/", key=bot)
    assert tiles.status_code == 200 and tiles.json()["tiles"][0]["insight"]["query_status"]["error"] is True
    analyst = _agent(project, "analyst", {"insight": "read", "person": "read"})
    allowed = project.get(url(project, f"{personal['id']}/?refresh=blocking"), key=analyst)
    assert allowed.status_code == 200 and allowed.json()["result"]


def test_insight_query_tool_answers_a_sql_insight_as_a_table(project) -> None:
    from hedgerow.auth.authenticate import principal_for_key
    from hedgerow.services.catalogue import Where, invoke, wire
    from hedgerow.services.operations import CATALOGUE

    sql = {"kind": "HogQLQuery", "query": "select count() as n from events where event = '$pageview'"}
    made = create(project, name="SQL", query={"kind": "DataVisualizationNode", "source": sql})
    principal, _ = principal_for_key(project.services.meta, project.admin_key)
    out = wire(invoke(project.services, principal, CATALOGUE["insight.query"], {"insightId": made["short_id"]},
                      channel="mcp", where=Where(project=str(project.project_id))))  # fmt: skip
    direct = project.post(f"/api/projects/{project.project_id}/query/", {"query": sql}).json()
    assert out["query"] == sql and out["results"] == {"columns": ["n"], "results": direct["results"]}
    assert out["insight"]["id"] == made["id"] and out["insight"]["result"] == direct["results"]
