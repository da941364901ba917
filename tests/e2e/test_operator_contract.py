"""The operator contract against a real ``hedgerow serve`` process and the real CLI."""

from __future__ import annotations

import json

import httpx
import pytest

from hedgerow.testing import LiveServer, cli

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(tmp_path):
    with LiveServer(tmp_path / "data") as live:
        yield live


def test_first_start_prints_keys_and_they_work(server) -> None:
    log = server.log()
    assert "Project API key:" in log and "Personal API key:" in log
    admin = next(line.split()[-1] for line in log.splitlines() if "Personal API key:" in line)
    response = httpx.get(f"{server.url}/api/projects/", headers={"Authorization": f"Bearer {admin}"})
    assert response.status_code == 200


def test_bootstrap_is_idempotent_and_mints_a_new_key(server) -> None:
    first, second = server.bootstrap(), server.bootstrap()
    assert set(first) >= {"organization_id", "project_id", "project_api_key", "personal_api_key"}
    assert first["organization_id"] == second["organization_id"]
    assert first["project_id"] == second["project_id"]
    assert first["project_api_key"] == second["project_api_key"]
    assert first["personal_api_key"] != second["personal_api_key"]


def test_keys_minted_and_revoked_while_serving_take_effect_at_once(server) -> None:
    boot = server.bootstrap()
    key = server.create_key("release-bot", "project:read", "--project", str(boot["project_id"]))
    assert set(key) >= {"id", "key", "scopes"} and key["scopes"] == ["project:read"]
    headers = {"Authorization": f"Bearer {key['key']}"}
    assert httpx.get(f"{server.url}/api/projects/{boot['project_id']}/", headers=headers).status_code == 200
    listed = json.loads(cli("keys", "list", "--data-dir", str(server.data_dir), "--json").stdout)
    assert key["id"] in {k["id"] for k in listed} and all(k["value"] is None for k in listed)
    cli("keys", "revoke", key["id"], "--data-dir", str(server.data_dir))
    assert httpx.get(f"{server.url}/api/projects/{boot['project_id']}/", headers=headers).status_code == 401


def test_projects_created_by_cli_are_seen_at_once(server) -> None:
    boot = server.bootstrap()
    created = json.loads(cli("projects", "create", "--data-dir", str(server.data_dir), "--name", "Shop", "--json").stdout)
    assert created["api_token"].startswith("phc_") and created["name"] == "Shop"
    headers = {"Authorization": f"Bearer {boot['personal_api_key']}"}
    response = httpx.get(f"{server.url}/api/projects/{created['id']}/", headers=headers)
    assert response.status_code == 200 and response.json()["name"] == "Shop"
    listed = json.loads(cli("projects", "list", "--data-dir", str(server.data_dir), "--json").stdout)
    assert {p["id"] for p in listed} >= {boot["project_id"], created["id"]}


def test_audit_command_reads_a_live_server(server) -> None:
    boot = server.bootstrap()
    key = server.create_key("reader", "insight:read")
    httpx.get(f"{server.url}/api/projects/", headers={"Authorization": f"Bearer {key['key']}"})
    httpx.get(f"{server.url}/api/projects/", headers={"Authorization": f"Bearer {boot['personal_api_key']}"})
    entries = json.loads(cli("audit", "--data-dir", str(server.data_dir), "--limit", "2", "--json").stdout)
    assert [e["decision"] for e in entries] == ["allowed", "denied"]
    assert entries[1]["sentence"] == "Key 'reader' tried to read projects over REST — denied: the key lacks project:read."
    text = cli("audit", "--data-dir", str(server.data_dir), "--limit", "1").stdout
    assert "Key 'admin' read projects over REST — allowed." in text


def test_no_secret_in_clear_in_data_dir_or_logs(server) -> None:
    boot = server.bootstrap()
    key = server.create_key("x", "*")
    for value in (boot["personal_api_key"], key["key"]):
        httpx.get(f"{server.url}/api/projects/", headers={"Authorization": f"Bearer {value}"})
        httpx.get(f"{server.url}/api/projects/", params={"personal_api_key": value})
    server.stop()
    for path in server.data_dir.rglob("*"):
        if path.is_file() and path.name != "server.log":
            blob = path.read_bytes()
            assert boot["personal_api_key"].encode() not in blob, path
            assert key["key"].encode() not in blob, path
    # the log shows only the key printed at first start, never keys used in requests
    assert key["key"] not in server.log()


def test_health_and_unknown_routes(server) -> None:
    assert httpx.get(f"{server.url}/_health").json() == {"status": "ok"}
    assert httpx.get(f"{server.url}/_health/").status_code == 200
    response = httpx.get(f"{server.url}/api/unknown/")
    assert response.status_code == 404 and response.json()["detail"] == "Endpoint not found."


def test_cli_errors_are_clear(tmp_path) -> None:
    out = cli("keys", "create", "--data-dir", str(tmp_path), "--label", "x", "--scopes", "nope:read", check=False)
    assert out.returncode == 1 and "Invalid scope: nope:read" in out.stderr
