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
