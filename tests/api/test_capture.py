"""Capture over HTTP: every path and encoding answers 200 {"status": 1} and stores the events;
every bad request gets its 4xx and stores nothing."""

from __future__ import annotations

import base64
import gzip
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from hedgerow.store.events.protocol import PersonFilter

PATHS = ["/e/", "/i/v0/e/", "/capture/", "/track/", "/batch/", "/e", "/batch"]


def stored(api, event: str | None = None) -> list[tuple]:
    sql = "SELECT event, distinct_id, properties FROM events WHERE team_id = ?"
    params: list = [api.project_id]
    if event:
        sql += " AND event = ?"
        params.append(event)
    return api.services.events.query(sql, params)


def one(api, name: str, **extra) -> dict:
    return {"api_key": api.project_token, "event": name, "distinct_id": "user-1",
            "properties": {"plan": "pro"}, **extra}


@pytest.mark.parametrize("path", PATHS)
def test_json_single_event_on_every_path(api, path) -> None:
    name = "signed_up_" + path.strip("/").replace("/", "_")
    response = api.client.post(path, json=one(api, name))
    assert response.status_code == 200 and response.json() == {"status": 1}
    rows = stored(api, name)
    assert len(rows) == 1 and rows[0][1] == "user-1" and json.loads(rows[0][2])["plan"] == "pro"


def test_batch_envelope_array_and_engage(api) -> None:
    batch = {"api_key": api.project_token, "batch": [
        {"event": "a", "distinct_id": "u", "properties": {}}, {"event": "b", "distinct_id": "u"}]}
    assert api.client.post("/batch/", json=batch).status_code == 200
    array = [{"event": "c", "distinct_id": "u", "properties": {"token": api.project_token}}]
    assert api.client.post("/e/", json=array).status_code == 200
    engage = {"$token": api.project_token, "$distinct_id": "u", "$set": {"email": "u@x.io"}}
    assert api.client.post("/engage/", json=engage).status_code == 200
    assert {r[0] for r in stored(api)} >= {"a", "b", "c"}
    people, _ = api.services.persons.list(api.project_id, PersonFilter(distinct_id="u"))
    assert people[0]["properties"]["email"] == "u@x.io"


@pytest.mark.parametrize("encoding", ["gzip-header", "gzip-sniffed", "gzip-js", "base64-form", "get-data"])
def test_encodings(api, encoding) -> None:
    payload = json.dumps({"api_key": api.project_token, "batch": [
        {"event": f"enc_{encoding}", "distinct_id": "u1", "properties": {"x": 1}}]}).encode()
    if encoding == "gzip-header":
        response = api.client.post("/batch/", content=gzip.compress(payload),
                                   headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
    elif encoding == "gzip-sniffed":
        response = api.client.post("/e/", content=gzip.compress(payload), headers={"Content-Type": "text/plain"})
    elif encoding == "gzip-js":
        response = api.client.post("/e/?compression=gzip-js", content=gzip.compress(payload),
                                   headers={"Content-Type": "text/plain"})
    elif encoding == "base64-form":
        response = api.client.post("/e/?compression=base64", data={"data": base64.b64encode(payload).decode()})
    else:
        response = api.client.get("/e/", params={"data": base64.b64encode(payload).decode()})
    assert response.status_code == 200, response.text
    assert response.json() == {"status": 1}
    assert len(stored(api, f"enc_{encoding}")) == 1


def test_retries_are_stored_once(api) -> None:
    event = one(api, "paid", uuid=str(uuid.uuid4()))
    for _ in range(3):
        assert api.client.post("/e/", json=event).status_code == 200
    assert len(stored(api, "paid")) == 1


BAD = [
    (b"{not json", {}, 400, "request_parsing_error"),
    (b"", {}, 400, None),
    (json.dumps({"event": "x", "distinct_id": "u"}).encode(), {}, 401, "no_token"),
    (json.dumps({"api_key": "phc_nope", "event": "x", "distinct_id": "u"}).encode(), {}, 401, "invalid_token"),
    (json.dumps({"api_key": "TOKEN", "distinct_id": "u"}).encode(), {}, 400, "missing_event_name"),
    (json.dumps({"api_key": "TOKEN", "event": "x"}).encode(), {}, 400, "missing_distinct_id"),
    (json.dumps({"api_key": "TOKEN", "batch": []}).encode(), {"path": "/batch/"}, 400, "empty_batch"),
    (json.dumps({"api_key": "TOKEN", "event": "x", "distinct_id": "u", "uuid": "not-a-uuid"}).encode(), {}, 400,
     "request_parsing_error"),
    (b"\x1f\x8b\x08garbage", {}, 400, "request_decoding_error"),
    (json.dumps({"api_key": "phx_personalkey", "event": "x", "distinct_id": "u"}).encode(), {}, 401, None),
]


@pytest.mark.parametrize("body, opts, status, code", BAD)
def test_bad_requests_store_nothing(api, body, opts, status, code) -> None:
    body = body.replace(b"TOKEN", api.project_token.encode())
    response = api.client.post(opts.get("path", "/e/"), content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert set(response.json()) == {"type", "code", "detail", "attr"}
    if code:
        assert response.json()["code"] == code
    assert stored(api) == []


def test_mixed_tokens_and_oversize(api) -> None:
    other = api.services.projects.create(api.organization_id, "Other")
    mixed = [{"event": "a", "distinct_id": "u", "api_key": api.project_token},
             {"event": "b", "distinct_id": "u", "api_key": other.api_token}]
    assert api.client.post("/e/", json=mixed).status_code == 401
    big = json.dumps(one(api, "big", properties={"blob": "x" * (2 * 1024 * 1024)})).encode()
    assert api.client.post("/e/", content=big).status_code == 413
    assert stored(api) == []


def test_hostile_payload_does_not_block_good_traffic(api) -> None:
    for body in (b"[" * 100000, b'{"batch": [' + b"{}," * 10000 + b"{}]}", "\u0000".encode() * 10):
        response = api.client.post("/batch/", content=body)
        assert 400 <= response.status_code < 500
    assert api.client.post("/e/", json=one(api, "after")).status_code == 200
    assert len(stored(api, "after")) == 1


def test_cors_preflight_on_capture(api) -> None:
    response = api.client.options("/e/", headers={"Origin": "https://site.example", "Access-Control-Request-Method": "POST"})
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] == "https://site.example"
    posted = api.client.post("/e/", json=one(api, "cors"), headers={"Origin": "https://site.example"})
    assert posted.headers["access-control-allow-origin"] == "https://site.example"


def test_recordings_are_stored_apart_from_events(api) -> None:
    snapshot = [{"event": "$snapshot", "distinct_id": "u1", "properties": {
        "token": api.project_token, "$session_id": "s-1", "$window_id": "w-1",
        "$snapshot_data": [{"type": 2, "data": {"node": {}}, "timestamp": 1700000000000}]}}]
    response = api.client.post("/s/?compression=gzip-js", content=gzip.compress(json.dumps(snapshot).encode()))
    assert response.status_code == 200 and response.json() == {"status": 1}
    rows = api.services.events.query("SELECT session_id, window_id, snapshot_data FROM session_recording_snapshots")
    assert rows[0][0] == "s-1" and json.loads(rows[0][2])[0]["type"] == 2
    assert stored(api) == []
    bad = [{"event": "$snapshot", "distinct_id": "u1", "properties": {"token": api.project_token}}]
    assert api.client.post("/s/", json=bad).status_code == 400


def test_remote_config(api) -> None:
    response = api.client.get(f"/array/{api.project_token}/config", headers={"Origin": "https://site.example"})
    assert response.status_code == 200
    config = response.json()
    assert config["supportedCompression"] == ["gzip", "gzip-js"] and config["hasFeatureFlags"] is False
    assert config["autocapture_opt_out"] is False and config["sessionRecording"] is False
    assert response.headers["access-control-allow-origin"] == "https://site.example"
    api.post(f"/api/projects/{api.project_id}/feature_flags/", {"key": "f", "filters": {"groups": [{"properties": []}]}})
    api.patch(f"/api/projects/{api.project_id}/", {"session_recording_opt_in": True, "autocapture_opt_out": True})
    script = api.client.get(f"/array/{api.project_token}/config.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("application/javascript")
    assert "window._POSTHOG_REMOTE_CONFIG" in script.text and '"hasFeatureFlags":true' in script.text
    assert '"autocapture_opt_out":true' in script.text and '"endpoint":"/s/"' in script.text
    assert api.client.get("/array/phc_unknown/config").status_code == 404


def test_the_routed_endpoints_answer_as_the_hot_path_does(api) -> None:
    """api/hotpaths.py serves capture without the router; the routed endpoints stay and must
    give the same answers (status, body, CORS), good and bad requests alike."""
    from starlette.testclient import TestClient

    routed = TestClient(api.client.app.app, base_url="http://testserver")  # past HotPaths
    big = json.dumps(one(api, "big", properties={"blob": "x" * (2 * 1024 * 1024)})).encode()
    cases = [
        ("/e/", json.dumps(one(api, "same")).encode()),
        ("/batch", json.dumps({"api_key": api.project_token, "batch": [one(api, "same2")]}).encode()),
        ("/i/v0/e/", gzip.compress(json.dumps(one(api, "same3")).encode())),
        ("/e/", b"not json"),
        ("/e/", json.dumps({"event": "x", "distinct_id": "u"}).encode()),
        ("/e/", json.dumps({**one(api, "x"), "api_key": "phc_nobody"}).encode()),
        ("/e", big),
    ]
    for path, body in cases:
        answers = [client.post(path, content=body, headers={"Origin": "https://site.example"})
                   for client in (api.client, routed)]  # fmt: skip
        hot, plain = answers
        assert hot.status_code == plain.status_code, (path, hot.text, plain.text)
        assert hot.json() == plain.json()
        assert hot.headers["access-control-allow-origin"] == plain.headers["access-control-allow-origin"]
    assert api.client.get("/e/", params={"data": json.dumps(one(api, "by_get"))}).json() == {"status": 1}
    assert len(stored(api, "by_get")) == 1


ABSURD_TIMES = [
    {"timestamp": 1e308}, {"timestamp": -1e308}, {"timestamp": "NaN"}, {"timestamp": "9" * 400},
    {"timestamp": "x" * 200_000}, {"timestamp": "-0001-01-01T00:00:00Z"},
    {"timestamp": "10000-01-01T00:00:00Z"}, {"timestamp": "2024-13-45T99:00:00Z"},
    {"offset": 1e308}, {"offset": 10**30}, {"offset": "soon"}, {"sent_at": 1e308},
    {"sent_at": "-5-01-01", "timestamp": "2024-06-01T10:00:00Z"},
]  # fmt: skip


@pytest.mark.parametrize("path", ["/batch/", "/e/"])
def test_absurd_timestamps_are_stored_at_server_time_with_a_warning(api, path) -> None:
    events = [{"event": f"absurd_{i}", "distinct_id": "u", "properties": {}, **fields}
              for i, fields in enumerate(ABSURD_TIMES)]  # fmt: skip
    body = {"api_key": api.project_token, "batch": events, "sent_at": -1e308}
    before = datetime.now(timezone.utc).replace(tzinfo=None)
    response = api.client.post(path, content=json.dumps(body).encode())
    after = datetime.now(timezone.utc).replace(tzinfo=None)
    assert response.status_code == 200, response.text
    rows = api.services.events.query("SELECT event, timestamp FROM events WHERE team_id = ?",
                                     [api.project_id])  # fmt: skip
    assert len(rows) == len(ABSURD_TIMES)
    for name, stamp in rows:
        if name == f"absurd_{len(ABSURD_TIMES) - 1}":  # a bad sent_at only skips skew correction
            assert stamp == datetime(2024, 6, 1, 10)
        else:
            assert before - timedelta(seconds=1) <= stamp <= after + timedelta(seconds=1), name
    warned = [w for w in api.services.ingestor.warnings if w.type == "ignored_invalid_timestamp"]
    assert {w.details["field"] for w in warned} == {"timestamp", "offset", "sent_at"}
    assert len(warned) >= len(ABSURD_TIMES)


def test_a_snapshot_the_json_writer_cannot_store_is_refused(api) -> None:
    deep: dict = {"leaf": 1}
    for _ in range(300):
        deep = {"a": deep}
    snapshot = [{"event": "$snapshot", "distinct_id": "u1", "properties": {
        "token": api.project_token, "$session_id": "s-1", "$window_id": "w-1", "$snapshot_data": [deep]}}]
    response = api.client.post("/s/", content=json.dumps(snapshot).encode())
    assert response.status_code == 400 and response.json()["code"] == "request_parsing_error"
    assert api.services.events.query("SELECT count(*) FROM session_recording_snapshots") == [(0,)]
