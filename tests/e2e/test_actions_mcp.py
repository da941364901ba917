"""Actions over MCP against a live server, with the official ``mcp`` client: PostHog's tool
names; an agent with full action access creates and reads one, a reader is not offered create."""

from __future__ import annotations

import httpx
import pytest

from hedgerow.testing import LiveServer
from tests.e2e.test_agents_mcp import _agent, mcp

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(tmp_path):
    with LiveServer(tmp_path / "data") as live:
        yield live


def test_agent_creates_lists_and_gets_actions(server) -> None:
    boot = server.bootstrap()
    writer = _agent(server, "actions-bot", "action=full")
    steps = [{"event": "$autocapture", "selector": "button.buy", "url": "/pricing"}]
    tools, (created, listed) = mcp(
        server.url, writer["key"],
        ("action-create", {"name": "Bought", "steps": steps}),
        ("actions-get-all", {}),
    )  # fmt: skip
    assert {"action-create", "actions-get-all", "action-get", "action-update", "action-delete"} <= set(tools)
    assert not created.is_error, created
    action = created.structured_content
    assert action["name"] == "Bought" and action["steps"][0]["selector_regex"].startswith("(^|;)button")
    assert [a["id"] for a in listed.structured_content["results"]] == [action["id"]]
    _, (got, renamed, deleted) = mcp(
        server.url, writer["key"],
        ("action-get", {"id": action["id"]}),
        ("action-update", {"id": action["id"], "name": "Bought pro"}),
        ("action-delete", {"id": action["id"]}),
    )  # fmt: skip
    assert not got.is_error and got.structured_content == action
    assert renamed.structured_content["name"] == "Bought pro" and deleted.structured_content["deleted"] is True
    create_again = mcp(server.url, writer["key"], ("action-create", {"name": "Bought", "steps": steps}))[1][0]
    assert not create_again.is_error  # the deleted action's name is free again

    reader = _agent(server, "actions-reader", "action=read")
    tools, (refused,) = mcp(server.url, reader["key"], ("action-create", {"name": "Nope"}))
    assert "actions-get-all" in tools and refused.is_error
    assert not {"action-create", "action-update", "action-delete"} & set(tools)
    admin = {"Authorization": f"Bearer {boot['personal_api_key']}"}
    after = httpx.get(f"{server.url}/api/projects/{boot['project_id']}/actions/", headers=admin).json()
    assert [a["name"] for a in after["results"]] == ["Bought"] and after["results"][0]["id"] != action["id"]
