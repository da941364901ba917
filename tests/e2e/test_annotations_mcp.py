"""Annotations over MCP against a live server, with the official ``mcp`` client: an agent
with annotation read lists annotations and is not offered the create tool."""

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


def test_reader_agent_lists_annotations_and_cannot_create(server) -> None:
    boot = server.bootstrap()
    admin = {"Authorization": f"Bearer {boot['personal_api_key']}"}
    made = httpx.post(f"{server.url}/api/projects/{boot['project_id']}/annotations/", headers=admin,
                      json={"content": "Launch", "date_marker": "2026-03-01T10:00:00Z", "scope": "project"})  # fmt: skip
    assert made.status_code == 201, made.text
    agent = _agent(server, "notes-bot", "annotation=read")

    tools, (listed, create) = mcp(
        server.url, agent["key"],
        ("annotations-list", {"search": "launch"}),
        ("annotation-create", {"content": "Nope"}),
    )  # fmt: skip
    assert "annotations-list" in tools and "annotation-create" not in tools
    assert not listed.is_error and [a["content"] for a in listed.structured_content["results"]] == ["Launch"]
    assert create.is_error
    after = httpx.get(f"{server.url}/api/projects/{boot['project_id']}/annotations/", headers=admin).json()
    assert after["count"] == 1
