"""Agents over MCP and REST against a live server, with the official ``mcp`` client: the
tools an agent sees, the calls it is refused (the same way on both doors), and the audit API
that records each decision with its sentence and channel."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from hedgerow.testing import LiveServer, cli

pytestmark = pytest.mark.e2e

AGENT_TOOLS = {"feature-flag-get-all", "feature-flag-get-definition", "execute-sql", "query-run",
               "projects-get", "project-get", "switch-project"}  # fmt: skip


async def _session_calls(url: str, key: str, calls: list[tuple[str, dict[str, Any]]]) -> tuple[set[str], list[Any]]:
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
        async with streamable_http_client(url + "/mcp", http_client=http) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                tools = {tool.name for tool in (await session.list_tools()).tools}
                results = [await session.call_tool(name, arguments) for name, arguments in calls]
    return tools, results


def mcp(url: str, key: str, *calls: tuple[str, dict[str, Any]]) -> tuple[set[str], list[Any]]:
    return asyncio.run(_session_calls(url, key, list(calls)))


@pytest.fixture
def server(tmp_path):
    with LiveServer(tmp_path / "data") as live:
        yield live


def _agent(server: LiveServer, name: str, access: str) -> dict[str, Any]:
    out = cli("agents", "create", "--data-dir", str(server.data_dir), "--name", name, "--access", access, "--json",
              env={k: v for k, v in server.env.items() if k.startswith("HEDGEROW_")})  # fmt: skip
    return json.loads(out.stdout)


def test_agent_sees_its_tools_and_is_refused_the_same_way_on_both_doors(server) -> None:
    boot = server.bootstrap()
    admin = {"Authorization": f"Bearer {boot['personal_api_key']}"}
    project = boot["project_id"]
    created = httpx.post(f"{server.url}/api/projects/{project}/feature_flags/", headers=admin,
                         json={"key": "new-checkout", "filters": {"groups": [{"rollout_percentage": 50}]}})  # fmt: skip
    assert created.status_code == 201
    agent = _agent(server, "release-bot", "feature_flag=read,query=read")
    key = agent["key"]

    tools, (flags, write, sql, person_sql) = mcp(
        server.url, key,
        ("feature-flag-get-all", {}),
        ("update-feature-flag", {"flagKey": "new-checkout", "active": False}),
        ("execute-sql", {"query": "select count() from events"}),
        ("execute-sql", {"query": "select person.properties.email from events"}),
    )  # fmt: skip
    assert tools == AGENT_TOOLS
    assert not flags.is_error and [f["key"] for f in flags.structured_content["results"]] == ["new-checkout"]
    assert write.is_error and "feature flags access is read" in write.content[0].text
    assert not sql.is_error and sql.structured_content["results"] == [[0]]
    assert person_sql.is_error and "persons" in person_sql.content[0].text

    bearer = {"Authorization": f"Bearer {key}"}
    rest_write = httpx.patch(f"{server.url}/api/projects/{project}/feature_flags/{created.json()['id']}/",
                             headers=bearer, json={"active": False})  # fmt: skip
    assert rest_write.status_code == 403 and "feature flags access is read" in rest_write.json()["detail"]
    rest_person = httpx.post(f"{server.url}/api/projects/{project}/query/", headers=bearer,
                             json={"query": {"kind": "HogQLQuery", "query": "select * from persons"}})  # fmt: skip
    assert rest_person.status_code == 403
    assert httpx.get(f"{server.url}/api/projects/{project}/persons/", headers=bearer).status_code == 403
    still = httpx.get(f"{server.url}/api/projects/{project}/feature_flags/{created.json()['id']}/", headers=admin)
    assert still.json()["active"] is True

    audit = httpx.get(f"{server.url}/api/organizations/@current/audit_log/", headers=admin,
                      params={"agent": "release-bot"}).json()["results"]  # fmt: skip
    sentences = [(row["channel"], row["decision"], row["sentence"]) for row in reversed(audit)]
    assert (
        "mcp", "denied",
        "Agent 'release-bot' (owner admin@hedgerow.local) tried to change feature flag 'new-checkout' in project "
        "'Default project' over MCP — denied: feature flags access is read.",
    ) in sentences  # fmt: skip
    assert ("rest", "denied") in {(c, d) for c, d, s in sentences if "change feature flag" in s}
    denied_queries = [s for c, d, s in sentences if d == "denied" and "queries" in s]
    assert len(denied_queries) == 2 and all("persons access is off" in s for s in denied_queries)
    assert {c for c, d, s in sentences} == {"mcp", "rest"}
    only_denied = httpx.get(f"{server.url}/api/organizations/@current/audit_log/", headers=admin,
                            params={"agent": "release-bot", "decision": "denied", "channel": "mcp"}).json()  # fmt: skip
    assert [r["decision"] for r in only_denied["results"]] == ["denied", "denied"]


def test_revoked_agent_gets_posthogs_401_and_agents_cannot_manage_keys(server) -> None:
    boot = server.bootstrap()
    agent = _agent(server, "short-lived", "feature_flag=full")
    bearer = {"Authorization": f"Bearer {agent['key']}"}
    assert httpx.get(f"{server.url}/api/organizations/@current/agents/", headers=bearer).status_code == 403
    assert httpx.post(f"{server.url}/api/organizations/@current/agents/", headers=bearer,
                      json={"name": "child", "access": {"feature_flag": "full"}}).status_code == 403  # fmt: skip
    cli("agents", "revoke", "short-lived", "--data-dir", str(server.data_dir))
    refused = httpx.get(f"{server.url}/api/projects/{boot['project_id']}/feature_flags/", headers=bearer)
    assert refused.status_code == 401
    assert refused.json()["code"] == "authentication_failed"


def test_a_key_cannot_give_an_agent_more_than_it_holds(server) -> None:
    server.bootstrap()
    manager = server.create_key("manager", "agent:write,agent:read,feature_flag:read")["key"]
    bearer = {"Authorization": f"Bearer {manager}"}
    stronger = httpx.post(f"{server.url}/api/organizations/@current/agents/", headers=bearer,
                          json={"name": "greedy", "access": {"feature_flag": "full"}})  # fmt: skip
    assert stronger.status_code == 403
    fine = httpx.post(f"{server.url}/api/organizations/@current/agents/", headers=bearer,
                      json={"name": "reader", "access": {"feature_flag": "read"}})  # fmt: skip
    assert fine.status_code == 201 and fine.json()["key"].startswith("phx_")
    listed = httpx.get(f"{server.url}/api/organizations/@current/agents/", headers=bearer).json()
    assert [a["name"] for a in listed["results"]] == ["reader"]
    assert "key" not in listed["results"][0]


def test_rest_and_mcp_give_the_same_answers(server) -> None:
    boot = server.bootstrap()
    admin = {"Authorization": f"Bearer {boot['personal_api_key']}"}
    base = f"{server.url}/api/projects/{boot['project_id']}"
    for key in ("a", "b"):
        assert httpx.post(f"{base}/feature_flags/", headers=admin, json={"key": key}).status_code == 201
    assert httpx.post(f"{base}/cohorts/", headers=admin, json={"name": "everyone"}).status_code == 201
    _, results = mcp(
        server.url, boot["personal_api_key"],
        ("feature-flag-get-all", {}), ("cohorts-list", {}), ("feature-flag-get-definition", {"flagKey": "a"}),
        ("execute-sql", {"query": "select 1 + 2"}),
    )  # fmt: skip
    flags, cohorts, one, sql = (r.structured_content for r in results)
    assert flags["results"] == httpx.get(f"{base}/feature_flags/", headers=admin).json()["results"]
    assert cohorts["results"] == httpx.get(f"{base}/cohorts/", headers=admin).json()["results"]
    assert one == httpx.get(f"{base}/feature_flags/{one['id']}/", headers=admin).json()
    rest_sql = httpx.post(f"{base}/query/", headers=admin, json={"query": {"kind": "HogQLQuery", "query": "select 1 + 2"}})
    assert sql["results"] == rest_sql.json()["results"] == [[3]]


def test_stdio_door_serves_the_same_tools(tmp_path) -> None:
    import os
    import sys

    from mcp.client.stdio import StdioServerParameters, stdio_client

    data = tmp_path / "data"
    cli("bootstrap", "--data-dir", str(data), "--json")
    agent = json.loads(cli("agents", "create", "--data-dir", str(data), "--name", "local", "--access", "query=read",
                           "--json").stdout)  # fmt: skip

    async def run() -> tuple[set[str], Any, Any]:
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "hedgerow.cli.main", "mcp", "--data-dir", str(data)],
            env={**os.environ, "POSTHOG_API_KEY": agent["key"]},
        )  # fmt: skip
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = {tool.name for tool in (await session.list_tools()).tools}
                sql = await session.call_tool("execute-sql", {"query": "select 40 + 2"})
                flags = await session.call_tool("feature-flag-get-all", {})
        return tools, sql, flags

    tools, sql, flags = asyncio.run(run())
    assert tools == {"execute-sql", "query-run", "projects-get", "project-get", "switch-project"}
    assert not sql.is_error and sql.structured_content["results"] == [[42]]
    assert flags.is_error and "feature flags access is off" in flags.content[0].text
    audit = json.loads(cli("audit", "--data-dir", str(data), "--json").stdout)
    assert [(a["via"], a["decision"]) for a in audit[:2]] == [("mcp", "denied"), ("mcp", "allowed")]
