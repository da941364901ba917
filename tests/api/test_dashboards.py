"""Dashboards: PostHog's list and full shapes, tiles (insights with results, text cards,
layouts), duplication, soft deletion, hostile bodies, and a flag's usage dashboard."""

from __future__ import annotations

import pytest

from hedgerow.services import dashboard_limits
from tests.api.hostile_values import WEIRD, assert_no_500

VIZ = {"kind": "InsightVizNode", "source": {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}],
                                            "dateRange": {"date_from": "-7d"}}}  # fmt: skip
BASIC = {
    "id", "name", "description", "pinned", "created_at", "created_by", "last_accessed_at", "last_viewed_at",
    "folder", "is_shared", "deleted", "creation_mode", "tags", "restriction_level", "effective_restriction_level",
    "effective_privilege_level", "user_access_level", "access_control_version", "last_refresh", "team_id",
    "search_match_type",
}  # fmt: skip
FULL = BASIC | {"filters", "variables", "breakdown_colors", "data_color_theme_id", "persisted_filters",
                "persisted_variables", "quick_filter_ids", "tiles"}  # fmt: skip
TILE = {"id", "insight", "text", "button_tile", "widget", "layouts", "color", "filters_overrides", "show_description",
        "transparent_background", "order", "last_refresh", "is_cached"}  # fmt: skip


def url(api, suffix: str = "") -> str:
    return f"/api/projects/{api.project_id}/dashboards/{suffix}"


def create(api, **body):
    response = api.post(url(api), body)
    assert response.status_code == 201, response.text
    return response.json()


def insight(api, name: str, **body):
    response = api.post(f"/api/projects/{api.project_id}/insights/", {"name": name, "query": VIZ, **body})
    assert response.status_code == 201, response.text
    return response.json()


def test_create_list_and_retrieve_shapes(api) -> None:
    made = create(api, name="Growth", description="weekly", tags=["kpi"])
    assert set(made) == FULL and made["tiles"] == [] and made["creation_mode"] == "default"
    assert made["filters"] == {} and made["persisted_filters"] is None and made["restriction_level"] == 21
    assert made["team_id"] == api.project_id and made["created_by"]["email"] == "admin@hedgerow.local"
    create(api, name="Alpha")
    create(api, name="Zulu", pinned=True)
    listed = api.get(url(api)).json()
    assert [d["name"] for d in listed["results"]] == ["Zulu", "Alpha", "Growth"]  # pinned first, then by name
    assert all(set(d) == BASIC for d in listed["results"]) and listed["count"] == 3
    assert [d["name"] for d in api.get(url(api) + "?search=GROW").json()["results"]] == ["Growth"]
    assert [d["name"] for d in api.get(url(api) + "?pinned=true").json()["results"]] == ["Zulu"]
    opened = api.get(f"/api/environments/{api.project_id}/dashboards/{made['id']}/").json()
    assert made["last_accessed_at"] is None and opened["last_accessed_at"] is not None
    assert {**opened, "last_accessed_at": None} == made
    assert [d["name"] for d in api.get(url(api) + '?tags=kpi').json()["results"]] == ["Growth"]


def test_list_hides_generated_dashboards_on_request(api) -> None:
    api.post(f"/api/projects/{api.project_id}/feature_flags/", {"key": "beta"})
    create(api, name="Mine")
    names = lambda qs: [d["name"] for d in api.get(url(api) + qs).json()["results"]]  # noqa: E731
    assert names("") == ["Generated Dashboard: beta Usage", "Mine"]
    assert names("?exclude_generated=true") == ["Mine"]
    assert names("?creation_mode=template") == ["Generated Dashboard: beta Usage"]
    assert api.get(url(api) + "?search=" + "x" * 1001).status_code == 400


def test_tiles_insights_text_cards_layouts_and_removal(api) -> None:
    board = create(api, name="Board")
    one = url(api, f"{board['id']}/")
    second = insight(api, "Second", dashboards=[board["id"]])
    first = insight(api, "First", dashboards=[board["id"]])
    with_text = api.patch(one, {"tiles": [{"text": {"body": "## Notes"}, "layouts": {"sm": {"x": 0, "y": 9}}}]})
    assert with_text.status_code == 200, with_text.text
    tiles = with_text.json()["tiles"]
    by_name = {(t["insight"] or {}).get("name") or t["text"]["body"]: t for t in tiles}
    layout = [{"id": by_name["First"]["id"], "layouts": {"sm": {"x": 0, "y": 0, "w": 6, "h": 5}}, "color": "blue"},
              {"id": by_name["Second"]["id"], "layouts": {"sm": {"x": 6, "y": 0, "w": 6, "h": 5}}}]  # fmt: skip
    body = api.patch(one, {"tiles": layout}).json()
    assert [(t["insight"] or {}).get("name") or t["text"]["body"] for t in body["tiles"]] == ["First", "Second", "## Notes"]
    assert [t["order"] for t in body["tiles"]] == [0, 1, 2] and all(set(t) == TILE for t in body["tiles"])
    assert body["tiles"][0]["color"] == "blue" and body["tiles"][0]["layouts"]["sm"]["w"] == 6
    text = body["tiles"][2]["text"]
    assert text["body"] == "## Notes" and text["created_by"]["email"] == "admin@hedgerow.local"
    edited = api.patch(one, {"tiles": [{"id": body["tiles"][2]["id"], "text": {"id": text["id"], "body": "Edited"}}]})
    assert edited.json()["tiles"][2]["text"]["body"] == "Edited"
    assert body["tiles"][0]["insight"]["id"] == first["id"] and body["tiles"][0]["insight"]["result"] is None
    computed = api.get(one + "?refresh=blocking").json()["tiles"][0]
    assert computed["insight"]["result"] is not None and computed["last_refresh"] is not None
    removed = api.patch(one, {"tiles": [{"id": body["tiles"][1]["id"], "deleted": True}]}).json()
    assert [t["insight"]["name"] for t in removed["tiles"] if t["insight"]] == ["First"]
    held = api.get(f"/api/projects/{api.project_id}/insights/{second['id']}/").json()
    assert held["dashboards"] == []
    assert api.patch(one, {"tiles": [{"id": 987654, "color": "red"}]}).status_code == 200  # unknown tile: skipped


def test_duplicate_from_another_dashboard(api) -> None:
    source = create(api, name="Source", filters={"date_from": "-30d"})
    shared = insight(api, "Shared", dashboards=[source["id"]])
    shallow = create(api, name="Copy", use_dashboard=source["id"])
    assert shallow["creation_mode"] == "duplicate" and shallow["filters"] == {"date_from": "-30d"}
    assert [t["insight"]["id"] for t in shallow["tiles"]] == [shared["id"]]
    deep = create(api, name="Deep", use_dashboard=source["id"], duplicate_tiles=True)
    copied = deep["tiles"][0]["insight"]
    assert copied["id"] != shared["id"] and copied["name"] == "Shared (Copy)" and copied["query"] == VIZ
    missing = api.post(url(api), {"name": "x", "use_dashboard": 987654})
    assert missing.status_code == 400 and missing.json()["attr"] == "use_dashboard"


def test_soft_delete_with_and_without_insights(api) -> None:
    board = create(api, name="Doomed")
    other = create(api, name="Other")
    only_here = insight(api, "Only here", dashboards=[board["id"]])
    also_elsewhere = insight(api, "Also elsewhere", dashboards=[board["id"], other["id"]])
    one = url(api, f"{board['id']}/")
    response = api.delete(one)
    assert response.status_code == 405 and response.content == b""
    assert api.patch(one, {"deleted": True, "delete_insights": True}).json()["deleted"] is True
    assert api.get(one).status_code == 404 and api.get(url(api)).json()["count"] == 1
    insights = f"/api/projects/{api.project_id}/insights/"
    assert api.get(f"{insights}{only_here['id']}/").status_code == 404
    kept = api.get(f"{insights}{also_elsewhere['id']}/").json()
    assert kept["dashboards"] == [other["id"]]
    restored = api.patch(one, {"deleted": False}).json()
    assert restored["deleted"] is False and len(restored["tiles"]) == 2


@pytest.mark.parametrize(
    "body, code, attr",
    [
        ({"name": "x" * 401}, "max_length", "name"),
        ({"pinned": "sometimes"}, "invalid", "pinned"),
        ({"restriction_level": 5}, "invalid_choice", "restriction_level"),
        ({"filters": [1]}, "invalid", "filters"),
        ({"tags": {"a": 1}}, "not_a_list", "tags"),
        ({"use_template": "nope"}, "invalid_input", "use_template"),
        ({"tiles": "all"}, "not_a_list", "tiles"),
        ({"tiles": [{"text": {"body": "x" * 4001}}]}, "max_length", "text"),
        ({"tiles": [{"id": "x", "color": "red"}]}, "invalid", "tiles"),
        ({"tiles": [{"id": 1, "layouts": [1]}]}, "invalid", "layouts"),
    ],
)
def test_hostile_bodies(api, body, code, attr) -> None:
    board = create(api, name="Kept")
    response = api.patch(url(api, f"{board['id']}/"), body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code and response.json()["attr"] == attr
    after = api.get(url(api, f"{board['id']}/")).json()
    assert after["name"] == "Kept" and after["tiles"] == []
    if "tiles" not in body:
        assert api.post(url(api), {"name": "new", **body}).status_code == 400
    assert api.get(url(api)).json()["count"] == 1


def test_scopes(api) -> None:
    board = create(api, name="Scoped")
    reader = api.key(["dashboard:read"])
    assert api.get(url(api, f"{board['id']}/"), key=reader).status_code == 200
    assert api.patch(url(api, f"{board['id']}/"), {"name": "no"}, key=reader).status_code == 403
    assert api.get(url(api), key=api.key(["insight:read"])).status_code == 403


def test_feature_flag_usage_dashboard(api) -> None:
    flags = f"/api/projects/{api.project_id}/feature_flags/"
    flag = api.post(flags, {"key": "new-checkout", "filters": {"groups": [{"rollout_percentage": 50}]}}).json()
    assert isinstance(flag["usage_dashboard"], int)
    assert api.get(f"{flags}{flag['id']}/").json()["usage_dashboard"] == flag["usage_dashboard"]
    board = api.get(url(api, f"{flag['usage_dashboard']}/")).json()
    assert board["name"] == "Generated Dashboard: new-checkout Usage"
    assert board["description"] == "This dashboard was generated by the feature flag with key (new-checkout)"
    assert board["creation_mode"] == "template" and board["filters"] == {"date_from": "-30d"}
    names = [t["insight"]["name"] for t in board["tiles"]]
    assert names == ["Feature Flag Called Total Volume", "Feature Flag calls made by unique users per variant"]
    first = board["tiles"][0]["insight"]
    assert first["is_sample"] is True and first["query"]["source"]["series"][0]["event"] == "$feature_flag_called"
    assert first["query"]["source"]["properties"]["values"][0]["values"][0]["value"] == "new-checkout"
    assert [t["color"] for t in board["tiles"]] == ["blue", "green"]
    assert board["tiles"][1]["insight"]["query"]["source"]["series"][0]["math"] == "dau"
    computed = api.get(url(api, f"{flag['usage_dashboard']}/?refresh=blocking")).json()
    assert all(t["insight"]["query_status"] is None for t in computed["tiles"])
    plain = api.post(flags, {"key": "no-board", "_should_create_usage_dashboard": False}).json()
    assert plain["usage_dashboard"] is None
    bad = api.post(flags, {"key": "bad-flag", "_should_create_usage_dashboard": "perhaps"})
    assert bad.status_code == 400 and api.get(flags).json()["count"] == 2


TILE_VALUES = [[{"id": None}], [{"id": 1, "layouts": None, "text": {"body": None}}], [{"text": {"id": "x"}}],
               [{"text": "x"}], [{"id": 2**70, "color": 5}], [{"text": {"id": 2**70, "body": "x"}}]]  # fmt: skip
FIELDS = ["name", "description", "pinned", "deleted", "filters", "variables", "breakdown_colors",
          "data_color_theme_id", "tags", "restriction_level", "use_template", "use_dashboard", "delete_insights",
          "duplicate_tiles", "tiles"]  # fmt: skip


@pytest.mark.parametrize("field", FIELDS)
def test_no_value_of_any_field_gets_a_500(api, field) -> None:
    board = create(api, name="Kept")
    assert_no_500(api, url(api), url(api, f"{board['id']}/"), field, WEIRD + TILE_VALUES)


def test_usage_dashboard_follows_the_flags_new_key(api) -> None:
    flags = f"/api/projects/{api.project_id}/feature_flags/"
    flag = api.post(flags, {"key": "old-key"}).json()
    board = api.get(url(api, f"{flag['usage_dashboard']}/")).json()
    edited = board["tiles"][1]["insight"]
    api.patch(f"/api/projects/{api.project_id}/insights/{edited['id']}/", {"description": "mine now"})
    assert api.patch(f"{flags}{flag['id']}/", {"key": "new-key"}).status_code == 200
    tiles = api.get(url(api, f"{flag['usage_dashboard']}/")).json()["tiles"]
    total, unique = tiles[0]["insight"], tiles[1]["insight"]
    assert total["description"] == "Shows the number of total calls made on feature flag with key: new-key"
    assert total["query"]["source"]["properties"]["values"][0]["values"][0]["value"] == "new-key"
    assert unique["description"] == "mine now"  # edited by someone: left alone
    assert unique["query"]["source"]["properties"]["values"][0]["values"][0]["value"] == "old-key"


def test_count_limits(api, monkeypatch) -> None:
    monkeypatch.setattr(dashboard_limits, "MAX_TILES_PER_DASHBOARD", 2)
    monkeypatch.setattr(dashboard_limits, "MAX_DASHBOARDS_PER_PROJECT", 2)
    board = create(api, name="Small")
    insight(api, "One", dashboards=[board["id"]])
    api.patch(url(api, f"{board['id']}/"), {"tiles": [{"text": {"body": "Two"}}]})
    full = api.post(f"/api/projects/{api.project_id}/insights/", {"name": "Three", "dashboards": [board["id"]]})
    assert full.status_code == 400 and full.json()["code"] == "limit_exceeded"
    more_text = api.patch(url(api, f"{board['id']}/"), {"tiles": [{"text": {"body": "Three"}}]})
    assert more_text.status_code == 400 and more_text.json()["attr"] == "tiles"
    assert len(api.get(url(api, f"{board['id']}/")).json()["tiles"]) == 2
    assert [i["name"] for i in api.get(f"/api/projects/{api.project_id}/insights/").json()["results"]] == ["One"]
    create(api, name="Second")
    third = api.post(url(api), {"name": "Third"})
    assert third.status_code == 400 and third.json()["code"] == "limit_exceeded"
    assert api.get(url(api)).json()["count"] == 2


@pytest.mark.parametrize("dashboard_id", ["9" * 30, str(2**63)])
def test_an_id_no_row_can_have_is_not_found(api, dashboard_id: str) -> None:
    """Past the database's integers a dashboard id is simply not found (as every other
    resource's), not a 500."""
    one = f"/api/projects/{api.project_id}/dashboards/{dashboard_id}/"
    for response in (api.get(one), api.patch(one, {"name": "x"})):
        assert response.status_code == 404, response.text
        assert response.json() == {"type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None}
