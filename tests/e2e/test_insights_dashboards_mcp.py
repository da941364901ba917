"""Saved insights and dashboards against a live server: events sent with posthog-python,
PostHog's MCP tools through the official ``mcp`` client (their names and argument shapes),
and an agent without persons access refused an insight that reads person properties, on
both doors, with nothing written."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from posthog import Posthog

from hedgerow.testing import LiveServer
from tests.e2e.test_agents_mcp import _agent, mcp

pytestmark = pytest.mark.e2e

DAY = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(days=1)
RANGE = {"date_from": "-7d"}
BY_BROWSER = {"kind": "InsightVizNode", "source": {
    "kind": "TrendsQuery", "dateRange": RANGE, "series": [{"kind": "EventsNode", "event": "$pageview"}],
    "breakdownFilter": {"breakdown": "$browser", "breakdown_type": "event"}}}  # fmt: skip
BY_PLAN = {"kind": "InsightVizNode", "source": {
    "kind": "TrendsQuery", "dateRange": RANGE, "series": [{"kind": "EventsNode", "event": "$pageview"}],
    "breakdownFilter": {"breakdown": "plan", "breakdown_type": "person"}}}  # fmt: skip


@pytest.fixture
def server(tmp_path):
    with LiveServer(tmp_path / "data") as live:
        yield live


def test_agent_saves_insights_and_builds_a_dashboard_over_mcp(server) -> None:
    boot = server.bootstrap()
    errors: list = []
    ph = Posthog(boot["project_api_key"], host=server.url, sync_mode=True, on_error=lambda e, b: errors.append(e))
    ph.capture("$pageview", distinct_id="ada", timestamp=DAY, properties={"$browser": "Chrome", "$set": {"plan": "pro"}})
    ph.capture("$pageview", distinct_id="bob", timestamp=DAY, properties={"$browser": "Safari"})
    ph.capture("$pageview", distinct_id="cy", timestamp=DAY, properties={"$browser": "Chrome"})
    ph.shutdown()
    assert errors == []
    admin = {"Authorization": f"Bearer {boot['personal_api_key']}"}
    base = f"{server.url}/api/projects/{boot['project_id']}"
    personal = httpx.post(f"{base}/insights/", headers=admin, json={"name": "By plan", "query": BY_PLAN})
    assert personal.status_code == 201, personal.text

    agent = _agent(server, "analyst", "insight=full,dashboard=full,query=read")
    tools, (made, refused, got, listed, board, boards, shown, person_get, bare) = mcp(
        server.url, agent["key"],
        ("insight-create-from-query", {"data": {"name": "By browser", "query": BY_BROWSER, "favorited": True}}),
        ("insight-create-from-query", {"data": {"name": "Plans", "query": BY_PLAN, "favorited": False}}),
        ("insight-get", {"insightId": "PLACEHOLDER"}),
        ("insights-get-all", {"data": {"search": "browser"}}),
        ("dashboard-create", {"data": {"name": "Agent board", "description": "made over MCP"}}),
        ("dashboards-get-all", {}),
        ("dashboard-get", {"dashboardId": 0}),
        ("insight-get", {"insightId": str(personal.json()["id"])}),
        ("insight-create-from-query", {"data": {"name": "Bare", "query": BY_BROWSER["source"], "favorited": False}}),
    )  # fmt: skip
    assert {"insights-get-all", "insight-get", "insight-create-from-query", "dashboards-get-all", "dashboard-get",
            "dashboard-create"} <= tools  # fmt: skip
    assert not made.is_error, made.content[0].text
    saved = made.structured_content
    assert saved["name"] == "By browser" and saved["favorited"] is True and len(saved["short_id"]) == 8
    by_browser = {row["breakdown_value"]: row["count"] for row in saved["result"]}  # checked, so computed
    assert by_browser == {"Chrome": 2, "Safari": 1}
    assert refused.is_error and "persons" in refused.content[0].text
    assert got.is_error  # no insight has that short id
    assert [i["name"] for i in listed.structured_content["results"]] == ["By browser"]
    assert not board.is_error and board.structured_content["name"] == "Agent board"
    assert board.structured_content["tiles"] == []
    assert "Agent board" in [d["name"] for d in boards.structured_content["results"]]
    assert shown.is_error  # dashboard 0 does not exist
    assert person_get.is_error and "persons" in person_get.content[0].text

    assert not bare.is_error and bare.structured_content["query"] == BY_BROWSER  # wrapped as PostHog's MCP does
    names = [i["name"] for i in httpx.get(f"{base}/insights/", headers=admin).json()["results"]]
    assert sorted(names) == ["Bare", "By browser", "By plan"]  # the refused insight was never written
    bearer = {"Authorization": f"Bearer {agent['key']}"}
    assert httpx.get(f"{base}/insights/{personal.json()['id']}/", headers=bearer).status_code == 403
    short_id = saved["short_id"]
    tools, (again, moved, renamed, ran) = mcp(
        server.url, agent["key"],
        ("insight-get", {"insightId": short_id}),
        ("insight-update", {"insightId": short_id, "data": {"dashboards": [board.structured_content["id"]]}}),
        ("dashboard-update", {"dashboardId": board.structured_content["id"], "data": {"name": "Renamed"}}),
        ("insight-query", {"insightId": short_id}),
    )  # fmt: skip
    assert ran.structured_content["query"] == BY_BROWSER["source"]
    assert {r["breakdown_value"]: r["count"] for r in ran.structured_content["results"]} == {"Chrome": 2, "Safari": 1}
    assert ran.structured_content["insight"]["short_id"] == short_id
    assert not again.is_error and again.structured_content["id"] == saved["id"]
    assert moved.structured_content["dashboards"] == [board.structured_content["id"]]
    assert renamed.structured_content["name"] == "Renamed"
    assert [t["insight"]["id"] for t in renamed.structured_content["tiles"]] == [saved["id"]]
    refused_rest = httpx.post(f"{base}/insights/", headers=bearer, json={"name": "Plans", "query": BY_PLAN})
    assert refused_rest.status_code == 403
    assert len(httpx.get(f"{base}/insights/", headers=admin).json()["results"]) == 3

    tools, (second_board, added, person_added, gone, board_gone) = mcp(
        server.url, agent["key"],
        ("dashboard-create", {"data": {"name": "Second"}}),
        ("add-insight-to-dashboard", {"data": {"insightId": short_id, "dashboardId": board.structured_content["id"] + 1}}),
        ("add-insight-to-dashboard", {"data": {"insightId": personal.json()["short_id"],
                                               "dashboardId": board.structured_content["id"]}}),
        ("insight-delete", {"insightId": short_id}),
        ("dashboard-delete", {"dashboardId": board.structured_content["id"]}),
    )  # fmt: skip
    assert added.structured_content["dashboards"] == [board.structured_content["id"], second_board.structured_content["id"]]
    assert person_added.is_error and "persons" in person_added.content[0].text
    assert httpx.get(f"{base}/insights/{personal.json()['id']}/", headers=admin).json()["dashboards"] == []
    assert gone.structured_content["deleted"] is True and board_gone.structured_content["deleted"] is True
    assert httpx.get(f"{base}/insights/{short_id}/", headers=admin).status_code == 404
    assert httpx.get(f"{base}/dashboards/{board.structured_content['id']}/", headers=admin).status_code == 404

    reader = _agent(server, "reader", "insight=read,dashboard=read,person=read")
    tools, (plan_get, create) = mcp(
        server.url, reader["key"],
        ("insight-get", {"insightId": personal.json()["short_id"]}),
        ("dashboard-create", {"data": {"name": "nope"}}),
    )  # fmt: skip
    assert "dashboard-create" not in tools and create.is_error
    assert not plan_get.is_error and plan_get.structured_content["name"] == "By plan"
