"""Local-evaluation definitions: content, ETag/304, personal or secret key, cohorts."""

from __future__ import annotations


def _setup(api):
    cohort = api.post(f"/api/projects/{api.project_id}/cohorts/", {"name": "Pros", "filters": {"properties": {
        "type": "AND", "values": [{"type": "person", "key": "plan", "operator": "exact", "value": "pro"}]}}}).json()
    static = api.post(f"/api/projects/{api.project_id}/cohorts/", {"name": "Static", "is_static": True}).json()
    api.post(f"/api/projects/{api.project_id}/feature_flags/", {"key": "beta", "filters": {"groups": [
        {"properties": [{"key": "id", "type": "cohort", "value": cohort["id"]}], "rollout_percentage": 100},
        {"properties": [{"key": "id", "type": "cohort", "value": static["id"]}], "rollout_percentage": 100}]}})
    return cohort, static


def test_definitions_document_and_etag(api) -> None:
    cohort, static = _setup(api)
    response = api.get("/flags/definitions", params={"token": api.project_token, "send_cohorts": ""})
    assert response.status_code == 200
    body = response.json()
    assert [f["key"] for f in body["flags"]] == ["beta"]
    flag = body["flags"][0]
    assert set(flag) >= {"id", "team_id", "key", "filters", "active", "deleted", "version", "ensure_experience_continuity"}
    assert body["group_type_mapping"] == {}
    assert body["cohorts"] == {str(cohort["id"]): {"type": "AND", "values": [
        {"type": "person", "key": "plan", "operator": "exact", "value": "pro"}]}}
    tag = response.headers["etag"]
    assert tag.startswith('W/"') and response.headers["cache-control"] == "private, must-revalidate"
    again = api.client.get("/flags/definitions", params={"token": api.project_token},
                           headers={**api.auth(), "If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    api.post(f"/api/projects/{api.project_id}/feature_flags/", {"key": "new", "filters": {"groups": [{"properties": []}]}})
    changed = api.client.get("/flags/definitions", params={"token": api.project_token},
                             headers={**api.auth(), "If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag


def test_project_secret_key_reads_definitions_only(api) -> None:
    secret = api.get(f"/api/projects/{api.project_id}/").json()["secret_api_token"]
    assert secret.startswith("phs_")
    ok = api.get("/flags/definitions", key=secret, params={"token": api.project_token})
    assert ok.status_code == 200
    refused = api.get(f"/api/projects/{api.project_id}/feature_flags/", key=secret)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "This action does not support project secret API key access"
    other = api.services.projects.create(api.organization_id, "Other")
    assert api.get("/flags/definitions", key=secret, params={"token": other.api_token}).status_code == 403
    assert api.get("/flags/definitions", key="phs_wrong", params={"token": api.project_token}).status_code == 401


def test_scope_and_token_errors(api) -> None:
    no_scope = api.key(["insight:read"])
    assert api.get("/flags/definitions", key=no_scope, params={"token": api.project_token}).status_code == 403
    assert api.get("/flags/definitions", key=api.key(["feature_flag:write"]), params={"token": api.project_token}).status_code == 200
    unknown = api.get("/flags/definitions", params={"token": "phc_unknown"})
    assert unknown.status_code == 401
    assert api.client.get("/flags/definitions", params={"token": api.project_token}).status_code == 401


def test_legacy_paths(api) -> None:
    _setup(api)
    legacy = api.get("/api/feature_flag/local_evaluation/", params={"token": api.project_token})
    assert legacy.status_code == 200 and "cohorts" not in legacy.json()
    with_cohorts = api.get("/api/feature_flag/local_evaluation", params={"token": api.project_token, "send_cohorts": "true"})
    assert "cohorts" in with_cohorts.json()
    scoped = api.get(f"/api/projects/{api.project_id}/feature_flags/local_evaluation/")
    assert scoped.status_code == 200 and scoped.json()["flags"][0]["key"] == "beta"


def test_remote_config_payload(api) -> None:
    flag = api.post(f"/api/projects/{api.project_id}/feature_flags/", {
        "key": "settings", "is_remote_configuration": True,
        "filters": {"groups": [{"properties": [], "rollout_percentage": 100}], "payloads": {"true": {"theme": "dark"}}}}).json()
    secret = api.get(f"/api/projects/{api.project_id}/").json()["secret_api_token"]
    for ref in ("settings", str(flag["id"])):
        response = api.get(f"/api/projects/@current/feature_flags/{ref}/remote_config", key=secret,
                           params={"token": api.project_token})
        assert response.status_code == 200 and response.json() == '{"theme": "dark"}'
    assert api.get("/api/projects/@current/feature_flags/nope/remote_config", key=secret,
                   params={"token": api.project_token}).status_code == 404


def test_dependencies_are_served_by_key_with_their_chain(api) -> None:
    base = f"/api/projects/{api.project_id}/feature_flags/"

    def depends(flag_id: int) -> dict:
        return {"groups": [{"properties": [
            {"key": str(flag_id), "type": "flag", "operator": "flag_evaluates_to", "value": True}]}]}

    a = api.post(base, {"key": "a", "filters": {"groups": [{"properties": [], "rollout_percentage": 100}]}}).json()
    b = api.post(base, {"key": "b", "filters": depends(a["id"])}).json()
    api.post(base, {"key": "c", "filters": depends(b["id"])})
    flags = {f["key"]: f for f in api.get("/flags/definitions", params={"token": api.project_token}).json()["flags"]}
    assert flags["b"]["filters"]["groups"][0]["properties"][0] == {
        "key": "a", "type": "flag", "operator": "flag_evaluates_to", "value": True, "dependency_chain": ["a"]}
    assert flags["c"]["filters"]["groups"][0]["properties"][0]["key"] == "b"
    assert flags["c"]["filters"]["groups"][0]["properties"][0]["dependency_chain"] == ["a", "b"]
    # the stored flag still names its dependency by id
    assert api.get(base + f"{b['id']}/").json()["filters"]["groups"][0]["properties"][0]["key"] == str(a["id"])
