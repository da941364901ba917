"""Flag scenarios from tests/data/flags/served.json against a live server: flags created
through the API, answers from /flags/ in the detailed and the legacy shapes, and
posthog-python evaluating the same flags locally from /flags/definitions."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from posthog import Posthog

from hedgerow import clock
from hedgerow.store.meta import flags as flag_store
from hedgerow.store.meta.db import MetaDB
from hedgerow.testing import LiveServer, cli

pytestmark = pytest.mark.e2e

DATA = Path(__file__).resolve().parents[1] / "data" / "flags"
SCENARIOS = json.loads((DATA / "served.json").read_text())["scenarios"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with LiveServer(tmp_path_factory.mktemp("flags-live") / "data") as live:
        live.boot = live.bootstrap()
        yield live


def _poll(check, what: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _with_ids(node: Any, ids: dict[str, int]) -> Any:
    """The flag JSON with '@key' flag references replaced by the created flags' ids."""
    if isinstance(node, dict):
        out = {k: _with_ids(v, ids) for k, v in node.items()}
        if out.get("type") == "flag" and str(out.get("key", "")).startswith("@"):
            out["key"] = str(ids[out["key"][1:]])
        return out
    if isinstance(node, list):
        return [_with_ids(v, ids) for v in node]
    return node


def _flags_body(token: str, request: dict[str, Any]) -> dict[str, Any]:
    body = {"token": token, "distinct_id": request["distinct_id"],
            "person_properties": request.get("person_properties", {})}
    for name in ("groups", "group_properties"):
        if name in request:
            body[name] = request[name]
    return body


def _setup(server, scenario: dict[str, Any]) -> tuple[int, str, dict[str, int]]:
    project = json.loads(cli("projects", "create", "--data-dir", str(server.data_dir), "--name",
                             scenario["name"][:60], "--json").stdout)
    project_id, token = project["id"], project["api_token"]
    headers = {"Authorization": f"Bearer {server.boot['personal_api_key']}"}
    for group_type in scenario.get("group_types", []):
        sent = httpx.post(f"{server.url}/i/v0/e/", json={
            "api_key": token, "event": "$groupidentify", "distinct_id": "setup",
            "properties": {"$group_type": group_type, "$group_key": "setup"}})
        assert sent.status_code == 200, sent.text
    if scenario.get("group_types"):
        _poll(lambda: httpx.get(f"{server.url}/api/projects/{project_id}/feature_flags/local_evaluation/",
                                headers=headers).json()["group_type_mapping"], "group types")
    ids: dict[str, int] = {}
    for flag in scenario["flags"]:
        created = httpx.post(f"{server.url}/api/projects/{project_id}/feature_flags/", headers=headers,
                             json=_with_ids(flag, ids))
        assert created.status_code == 201, created.text
        ids[flag["key"]] = created.json()["id"]
    if scenario.get("disable_directly"):
        db = MetaDB(f"sqlite:///{server.data_dir / 'meta.sqlite3'}")
        with db.write() as conn:
            for key in scenario["disable_directly"]:
                flag_store.update(conn, ids[key], {"active": False, "updated_at": clock.now()})
        db.dispose()
    return project_id, token, ids


def _detailed(server, token: str, request: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{server.url}/flags/?v=2", json=_flags_body(token, request))
    assert response.status_code == 200, response.text
    return response.json()["flags"]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_served_scenario(server, scenario: dict[str, Any]) -> None:
    project_id, token, _ = _setup(server, scenario)
    for request in scenario["requests"]:
        absent = set(request.get("absent", []))

        def answered() -> dict[str, Any] | None:
            found = _detailed(server, token, request)
            return None if absent & set(found) else found

        # flags switched off in the store are seen within the server's recheck interval
        flags = _poll(answered, "the server to see the flags switched off")
        values = {key: (record["variant"] or True) if record["enabled"] else False for key, record in flags.items()}
        assert {key: values.get(key) for key in request["expected"]} == request["expected"], request["distinct_id"]
        payloads = {key: json.loads(record["metadata"]["payload"]) for key, record in flags.items()
                    if record["metadata"]["payload"] is not None}
        if "payloads" in request:
            assert payloads == request["payloads"]
        for query in ("v=1", "config=true"):
            legacy = httpx.post(f"{server.url}/flags/?{query}", json=_flags_body(token, request)).json()
            assert legacy["featureFlags"] == values, query
            assert legacy["featureFlagPayloads"] == payloads, query

    if not scenario.get("local"):
        return
    local = Posthog(token, host=server.url, secret_key=server.boot["personal_api_key"], sync_mode=True,
                    poll_interval=3600)
    try:
        local.load_feature_flags()
        assert len(local.feature_flags) == len(scenario["flags"])
        for request in scenario["requests"]:
            for key, expected in request["expected"].items():
                value = local.get_feature_flag(
                    key, request["distinct_id"], person_properties=request.get("person_properties", {}),
                    groups=request.get("groups", {}), group_properties=request.get("group_properties", {}),
                    only_evaluate_locally=True, send_feature_flag_events=False,
                )
                assert value == expected, (key, request["distinct_id"])
    finally:
        local.shutdown()
