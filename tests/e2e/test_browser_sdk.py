"""posthog-js (the official browser SDK) in headless Chromium against a real server: remote
config, autocapture, custom events, identify — cross-origin, gzip, as a real site sends them."""

from __future__ import annotations

import json

import duckdb
import httpx
import pytest

from hedgerow.testing import LiveServer
from tests.e2e.browser_driver import drive, needs_browser

pytestmark = [pytest.mark.e2e, pytest.mark.browser, needs_browser]


def test_browser_events_and_identify_arrive(tmp_path) -> None:
    with LiveServer(tmp_path / "data") as server:
        boot = server.bootstrap()
        run = drive(server.url, boot["project_api_key"], [
            {"do": "capture", "event": "viewed_pricing", "properties": {"tier": "pro"}},
            {"do": "click", "selector": "#buy"},
            {"do": "distinctId"},
            {"do": "identify", "distinct_id": "ada@example.com", "set": {"email": "ada@example.com"}},
            {"do": "capture", "event": "after_identify"},
        ])
        failed = [r for r in run["requests"] if r["status"] != 200 and "/flags" not in r["url"]]
        assert failed == [], run
        assert any("/config" in r["url"] and r["status"] == 200 for r in run["requests"])
        anon_id = run["results"][0]["value"]
        headers = {"Authorization": f"Bearer {boot['personal_api_key']}"}
        people = httpx.get(f"{server.url}/api/projects/{boot['project_id']}/persons/",
                           params={"distinct_id": "ada@example.com"}, headers=headers).json()["results"]
        assert len(people) == 1 and people[0]["properties"]["email"] == "ada@example.com"
        assert set(people[0]["distinct_ids"]) == {"ada@example.com", anon_id}

    db = duckdb.connect(str(server.data_dir / "events.duckdb"), read_only=True)
    rows = db.execute("SELECT event, distinct_id, properties, elements_chain, \"$session_id\" FROM events").fetchall()
    db.close()
    by_event = {}
    for event, distinct_id, props, chain, session in rows:
        by_event.setdefault(event, []).append((distinct_id, json.loads(props), chain, session))
    assert {"$pageview", "viewed_pricing", "$autocapture", "$identify", "after_identify"} <= set(by_event)
    click = by_event["$autocapture"][0]
    assert "buy" in click[2] and click[1]["$lib"] == "web"
    identify = by_event["$identify"][0]
    assert identify[0] == "ada@example.com" and identify[1]["$anon_distinct_id"] == anon_id
    assert by_event["viewed_pricing"][0][1]["tier"] == "pro" and by_event["viewed_pricing"][0][3]


def test_browser_feature_flags_and_payloads(tmp_path) -> None:
    with LiveServer(tmp_path / "data") as server:
        boot = server.bootstrap()
        headers = {"Authorization": f"Bearer {boot['personal_api_key']}"}
        for flag in (
            {"key": "new-nav", "filters": {"groups": [{"properties": [], "rollout_percentage": 100}],
                                           "payloads": {"true": {"items": 3}}}},
            {"key": "pros", "filters": {"groups": [{"properties": [
                {"key": "email", "type": "person", "operator": "icontains", "value": "@acme.io"}],
                "rollout_percentage": 100}]}},
            {"key": "dark", "filters": {"groups": [{"properties": [], "rollout_percentage": 0}]}},
        ):
            assert httpx.post(f"{server.url}/api/projects/{boot['project_id']}/feature_flags/", json=flag,
                              headers=headers).status_code == 201
        run = drive(server.url, boot["project_api_key"], [
            {"do": "flag", "key": "new-nav"},
            {"do": "flag", "key": "dark"},
            {"do": "flag", "key": "pros"},
            {"do": "identify", "distinct_id": "ada", "set": {"email": "ada@acme.io"}},
            {"do": "reloadFlags"},
            {"do": "flag", "key": "pros"},
        ], settle_ms=1000)
        flag_calls = [r for r in run["requests"] if "/flags" in r["url"]]
        assert flag_calls and all(r["status"] == 200 for r in flag_calls), run["requests"]
        results = [r["value"] for r in run["results"]]
        assert results[0] == {"value": True, "payload": {"items": 3}}
        assert results[1]["value"] is False
        assert results[2]["value"] is False
        assert results[3]["value"] is True


def test_browser_session_recording_snapshots_arrive(tmp_path) -> None:
    with LiveServer(tmp_path / "data") as server:
        boot = server.bootstrap()
        headers = {"Authorization": f"Bearer {boot['personal_api_key']}"}
        httpx.patch(f"{server.url}/api/projects/{boot['project_id']}/", json={"session_recording_opt_in": True},
                    headers=headers)
        run = drive(server.url, boot["project_api_key"], [
            {"do": "click", "selector": "#buy"}, {"do": "wait", "ms": 1500}, {"do": "click", "selector": "#docs"},
        ], init={"disable_session_recording": False}, settle_ms=5000)
        snapshots = [r for r in run["requests"] if "/s/" in r["url"]]
        assert snapshots and all(r["status"] == 200 for r in snapshots), run["requests"]
    db = duckdb.connect(str(server.data_dir / "events.duckdb"), read_only=True)
    count, sessions = db.execute(
        "SELECT count(*), count(DISTINCT session_id) FROM session_recording_snapshots").fetchone()
    events_with_session = db.execute(
        "SELECT count(*) FROM events WHERE \"$session_id\" IN (SELECT session_id FROM session_recording_snapshots)"
    ).fetchone()[0]
    db.close()
    assert count >= 1 and sessions == 1 and events_with_session >= 1
