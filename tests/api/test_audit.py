"""Every decision, allowed or denied, becomes an audit row with a plain-English sentence."""

from __future__ import annotations


def test_allowed_and_denied_calls_are_recorded(api) -> None:
    reader = api.key(["project:read"], label="release-bot")
    assert api.get(f"/api/projects/{api.project_id}/", key=reader).status_code == 200
    assert api.patch(f"/api/projects/{api.project_id}/", {"name": "Shop"}, key=reader).status_code == 403
    denied, allowed = api.services.audit.newest(2)
    assert allowed.decision == "allowed" and allowed.status == 200
    assert allowed.key_label == "release-bot" and allowed.object == "project" and allowed.action == "read"
    assert allowed.project_id == api.project_id and allowed.method == "GET"
    assert allowed.sentence == "Key 'release-bot' read projects in project 'Default project' over REST — allowed."
    assert denied.decision == "denied" and denied.status == 403
    assert denied.reason == "the key lacks project:write"
    assert denied.sentence == (
        "Key 'release-bot' tried to change projects in project 'Default project' over REST — denied: "
        "the key lacks project:write."
    )


def test_unauthenticated_and_invalid_keys_are_recorded(api) -> None:
    api.client.get("/api/projects/")
    api.client.get("/api/projects/", headers={"Authorization": "Bearer phx_nope"})
    invalid, missing = api.services.audit.newest(2)
    assert missing.key_id is None and missing.status == 401
    assert missing.sentence == "A request without an API key tried to read projects over REST — denied: no API key was provided."
    assert invalid.sentence == "A request with an invalid API key tried to read projects over REST — denied: the key is not valid."


def test_environment_alias_is_recorded_under_the_path_called(api) -> None:
    api.get(f"/api/environments/{api.project_id}")
    assert api.services.audit.newest(1)[0].path == f"/api/environments/{api.project_id}"


def test_limited_key_denials_say_why(api) -> None:
    other = api.services.projects.create(api.organization_id, "Other")
    key = api.key(["*"], teams=[other.id], label="agent-7")
    assert api.get(f"/api/projects/{api.project_id}/", key=key).status_code == 403
    entry = api.services.audit.newest(1)[0]
    assert entry.sentence == (
        "Key 'agent-7' tried to read projects in project 'Default project' over REST — denied: "
        "the key is limited to other projects."
    )


def test_audit_never_holds_secrets(api) -> None:
    api.get("/api/projects/")
    api.client.get("/api/projects/", params={"personal_api_key": api.admin_key})
    for entry in api.services.audit.newest(10):
        assert api.admin_key not in repr(entry)


def _rows(api) -> int:
    return len(api.services.audit.newest(100_000))


def test_every_keyed_call_leaves_exactly_one_row_whatever_the_outcome(api) -> None:
    """The review's probes and more of their kind: each answers a PostHog-shaped 4xx (never a
    500) and leaves exactly one audit row carrying the status the client got."""
    other = api.services.projects.create(api.organization_id, "Other")
    limited = api.key(["*"], teams=[api.project_id], label="limited")
    reader = api.key(["feature_flag:read"], label="flag-reader")
    admin = api.auth()
    json_type = {"Content-Type": "application/json"}
    form = {"Content-Type": "multipart/form-data; boundary=xyz"}
    big = b'{"name": "' + b"x" * (20 * 1024 * 1024) + b'"}'
    probes = [
        # a limited key probing another project's query route with a malformed body
        ("POST", f"/api/projects/{other.id}/query/", {**api.auth(limited), **json_type}, b"{oops", 403),
        # an unknown project token on the local-evaluation route, with a good key and with none
        ("GET", "/api/feature_flag/local_evaluation/?token=phc_unknown", api.auth(reader), None, 401),
        ("GET", "/flags/definitions/?token=phc_unknown", {}, None, 401),
        # too large: with a key in the header, and with none (the body is read to look for one)
        ("POST", "/api/projects/", {**admin, **json_type}, big, 413),
        ("POST", "/api/projects/", json_type, big, 413),
        # a bad key with a bad body; no key and a bad body
        ("POST", "/api/projects/", {"Authorization": "Bearer phx_bad", **json_type}, b"{oops", 401),
        ("POST", "/api/projects/", json_type, b"{oops", 400),
        ("POST", f"/api/projects/{api.project_id}/cohorts/", {**admin, **form}, b"--xyz\r\ngarbage", 400),
        # ids that are no ids
        ("GET", "/api/projects/%C2%B2/", admin, None, 404),
        ("GET", "/api/projects/%D9%A3/", admin, None, 404),
        ("GET", "/api/projects/99999999999999999999999/", admin, None, 404),
        ("GET", "/api/projects/%C2%B2/", api.auth(limited), None, 404),
        ("GET", "/api/organizations/%00/", admin, None, 404),
        ("GET", "/api/organizations/not-a-uuid/", admin, None, 404),
        ("GET", f"/api/projects/{api.project_id}/feature_flags/99999999999999999999999/", admin, None, 404),
        ("GET", f"/api/projects/{api.project_id}/cohorts/99999999999999999999999/", admin, None, 404),
        ("GET", f"/api/projects/{api.project_id}/persons/99999999999999999999999/", admin, None, 404),
        ("GET", f"/api/projects/{api.project_id}/query/%C2%B2/", admin, None, 404),
        ("GET", f"/api/projects/{api.project_id}/feature_flags/%C2%B2/remote_config/", admin, None, 404),
        # no route takes these: the router answers, and the call is recorded all the same
        ("GET", f"/api/projects/{api.project_id}/feature_flags/%C2%B2/", admin, None, 404),
        ("GET", "/api/nothing-here/", {"Authorization": "Bearer phx_bad"}, None, 404),
        ("GET", "/api/nothing-here/?personal_api_key=phx_bad", {}, None, 404),
        ("DELETE", f"/api/projects/{api.project_id}/", admin, None, 405),
    ]
    for method, path, headers, body, status in probes:
        before = _rows(api)
        response = api.client.request(method, path, headers=headers, content=body)
        assert response.status_code == status, (method, path, response.text)
        assert set(response.json()) == {"type", "code", "detail", "attr"}, (path, response.text)
        assert _rows(api) == before + 1, (method, path)
        entry = api.services.audit.newest(1)[0]
        assert entry.status == status and entry.method == method, (path, entry)


def test_calls_stopped_before_the_decision_read_plainly(api) -> None:
    reader = api.key(["feature_flag:read"], label="flag-reader")
    api.get("/api/feature_flag/local_evaluation/?token=phc_unknown", key=reader)
    assert api.services.audit.newest(1)[0].sentence == (
        "Key 'flag-reader' tried to read feature flags over REST — denied: the project token is not valid."
    )
    api.client.post("/api/projects/", content=b"{oops", headers={"Content-Type": "application/json"})
    assert api.services.audit.newest(1)[0].sentence == (
        "A request without an API key tried to change projects over REST — denied: its body could not be read."
    )
    api.client.post("/api/projects/", content=b"{oops", headers={"Authorization": "Bearer phx_bad"})
    assert api.services.audit.newest(1)[0].sentence == (
        "A request with an invalid API key tried to change projects over REST — denied: the key is not valid."
    )


def test_unrouted_calls_are_recorded_only_when_they_carry_a_key(api) -> None:
    before = _rows(api)
    assert api.client.get("/api/nothing-here/").status_code == 404
    assert _rows(api) == before
    assert api.delete(f"/api/projects/{api.project_id}/").status_code == 405
    assert api.services.audit.newest(1)[0].sentence == (
        f"Key 'admin' tried to call DELETE /api/projects/{api.project_id}/ over REST — denied: "
        "the endpoint does not take this method."
    )


def test_audit_log_filters_are_read_strictly_and_bounded(api) -> None:
    """A date is ISO 8601 text (not a number read as a Unix time); ids fit 64 bits."""
    base = "/api/organizations/@current/audit_log/"
    for query, attr in (("before=0.5", "before"), ("after=1700000000", "after"),
                        ("cursor=99999999999999999999999", "cursor"), ("project=99999999999999999999999", "project"),
                        ("limit=501", "limit")):  # fmt: skip
        answer = api.get(f"{base}?{query}")
        assert answer.status_code == 400, (query, answer.text)
        assert answer.json()["type"] == "validation_error" and answer.json()["attr"] == attr
    assert api.get(f"{base}?after=2026-01-01T00:00:00Z&limit=2").status_code == 200
