"""posthog-python's feature flags against a real server: remote evaluation and payloads, and
local evaluation polling our definitions endpoint (with 304s), agreeing with remote answers."""

from __future__ import annotations

import json

import httpx
import pytest
from posthog import Posthog

from hedgerow.testing import LiveServer, cli

pytestmark = pytest.mark.e2e

FLAGS = [
    {"key": "rollout-30", "filters": {"groups": [{"properties": [], "rollout_percentage": 30}]}},
    {"key": "checkout", "filters": {
        "groups": [{"properties": [], "rollout_percentage": 80}],
        "multivariate": {"variants": [{"key": "control", "rollout_percentage": 50},
                                      {"key": "test", "rollout_percentage": 50}]},
        "payloads": {"test": {"color": "blue"}, "control": {"color": "grey"}}}},
    {"key": "pro-plan", "filters": {"groups": [{"properties": [
        {"key": "plan", "type": "person", "operator": "exact", "value": ["pro", "team"]}], "rollout_percentage": 100}],
        "payloads": {"true": "\"welcome\""}}},
    {"key": "big-accounts", "filters": {"groups": [{"properties": [
        {"key": "seats", "type": "person", "operator": "gt", "value": "10"}], "rollout_percentage": 60}]}},
]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with LiveServer(tmp_path_factory.mktemp("sdk-flags") / "data") as server:
        server.admin = server.bootstrap()
        yield server


@pytest.fixture
def server(live):
    """The module's server, with a project of this test's own holding FLAGS (``server.boot``)."""
    headers = {"Authorization": f"Bearer {live.admin['personal_api_key']}"}
    project = httpx.post(f"{live.url}/api/projects/", json={"name": "SDK flags"}, headers=headers)
    assert project.status_code == 201, project.text
    for flag in FLAGS:
        created = httpx.post(f"{live.url}/api/projects/{project.json()['id']}/feature_flags/", json=flag, headers=headers)
        assert created.status_code == 201, created.text
    live.boot = {**live.admin, "project_id": project.json()["id"], "project_api_key": project.json()["api_token"]}
    return live


def test_remote_flags_and_payloads(server) -> None:
    ph = Posthog(server.boot["project_api_key"], host=server.url, sync_mode=True)
    assert ph.get_feature_flag("pro-plan", "u1", person_properties={"plan": "pro"}) is True
    assert ph.get_feature_flag("pro-plan", "u1", person_properties={"plan": "free"}) is False
    assert ph.get_feature_flag_payload("pro-plan", "u1", person_properties={"plan": "pro"}) == "welcome"
    variants = {ph.get_feature_flag("checkout", f"user-{i}") for i in range(60)}
    assert variants == {"control", "test", False}
    all_flags = ph.get_all_flags("user-7", person_properties={"plan": "team", "seats": 40})
    assert set(all_flags) == {f["key"] for f in FLAGS}
    ph.shutdown()


def test_local_evaluation_agrees_with_remote_and_polls_with_304(server) -> None:
    key = server.create_key("flags-reader", "feature_flag:read")["key"]
    local = Posthog(server.boot["project_api_key"], host=server.url, secret_key=key, sync_mode=True,
                    poll_interval=3600)
    remote = Posthog(server.boot["project_api_key"], host=server.url, sync_mode=True)
    local.load_feature_flags()
    assert len(local.feature_flags) == len(FLAGS)
    people = [({"plan": plan, "seats": seats}, f"person-{i}")
              for i, (plan, seats) in enumerate((p, s) for p in ("pro", "free", "team") for s in (1, 20, 300))]
    for props, distinct_id in people:
        for flag in FLAGS:
            local_value = local.get_feature_flag(flag["key"], distinct_id, person_properties=props,
                                                 only_evaluate_locally=True)
            remote_value = remote.get_feature_flag(flag["key"], distinct_id, person_properties=props)
            assert local_value == remote_value, (flag["key"], distinct_id, props)
        assert local.get_feature_flag_payload("checkout", distinct_id, only_evaluate_locally=True) == \
            remote.get_feature_flag_payload("checkout", distinct_id)
    local.load_feature_flags()  # unchanged: answered 304
    local.shutdown()
    remote.shutdown()
    entries = json.loads(cli("audit", "--data-dir", str(server.data_dir), "--key", _key_id(server, key), "--json").stdout)
    statuses = [e["status"] for e in entries if e["path"].startswith("/flags/definitions") or "local_evaluation" in e["path"]]
    assert 304 in statuses and 200 in statuses


def _key_id(server, value: str) -> str:
    listed = json.loads(cli("keys", "list", "--data-dir", str(server.data_dir), "--json").stdout)
    return next(k["id"] for k in listed if k["label"] == "flags-reader")


def test_remote_config_payload_with_the_project_secret(server) -> None:
    headers = {"Authorization": f"Bearer {server.boot['personal_api_key']}"}
    base = f"{server.url}/api/projects/{server.boot['project_id']}"
    httpx.post(f"{base}/feature_flags/", headers=headers, json={
        "key": "settings", "is_remote_configuration": True,
        "filters": {"groups": [{"properties": [], "rollout_percentage": 100}], "payloads": {"true": {"theme": "dark"}}}})
    secret = httpx.get(f"{base}/", headers=headers).json()["secret_api_token"]
    ph = Posthog(server.boot["project_api_key"], host=server.url, secret_key=secret, sync_mode=True,
                 enable_local_evaluation=False)
    payload = ph.get_remote_config_payload("settings")
    assert payload in ('{"theme": "dark"}', {"theme": "dark"})
    ph.shutdown()
