"""Cohort definitions: PostHog's strict filter schema, static/dynamic rules, soft deletion."""

from __future__ import annotations

import pytest

PERSON = {"type": "person", "key": "plan", "operator": "exact", "value": ["pro"]}


def url(api) -> str:
    return f"/api/projects/{api.project_id}/cohorts/"


def test_create_dynamic_and_read_back(api) -> None:
    body = {"name": "Pros", "filters": {"properties": {"type": "OR", "values": [{"type": "AND", "values": [PERSON]}]}}}
    response = api.post(url(api), body)
    assert response.status_code == 201, response.text
    cohort = response.json()
    assert cohort["name"] == "Pros" and cohort["is_static"] is False and cohort["deleted"] is False
    assert cohort["filters"] == body["filters"] and cohort["created_by"]["email"] == "admin@hedgerow.local"
    for field in ("count", "is_calculating", "last_calculation", "errors_calculating", "groups", "query", "cohort_type"):
        assert field in cohort
    assert api.get(url(api) + f"{cohort['id']}/").json()["id"] == cohort["id"]


def test_create_with_only_a_name_is_a_dynamic_cohort_without_filters(api) -> None:
    response = api.post(url(api), {"name": "Later"})
    assert response.status_code == 201, response.text
    cohort = response.json()
    assert cohort["name"] == "Later" and cohort["is_static"] is False and cohort["groups"] == []
    assert cohort["filters"] == {"properties": {"type": "OR", "values": []}}
    assert api.get(url(api) + f"{cohort['id']}/").json()["filters"] == cohort["filters"]


@pytest.mark.parametrize(
    "body, detail",
    [
        ({"name": "x", "filters": {"properties": {"type": "AND", "values": [{"type": "person", "key": "plan", "operator": "exact"}]}}},
         "Missing required keys for person filter: value"),
        ({"name": "x", "filters": {"properties": {"type": "AND", "values": [{"type": "person", "key": "plan", "value": "pro"}]}}},
         "Missing required keys for person filter: operator"),
        ({"name": "x", "filters": {"wrong": {}}}, "Must contain a 'properties' key with type and values"),
        ({"name": "x", "filters": {"properties": {"type": "AND", "values": [{"type": "cohort", "key": "id", "value": 4242}]}}},
         "Cohort with id 4242 does not exist"),
        ({"name": "x", "query": {"kind": "HogQLQuery", "query": "select person_id from events"}},
         "Cannot create a dynamic cohort with a query. Set is_static to true."),
        ({"name": "x", "is_static": True, "query": {"kind": "TrendsQuery"}},
         "Query must be an ActorsQuery or HogQLQuery. Got: TrendsQuery"),
    ],
)
def test_create_validation_stores_nothing(api, body, detail) -> None:
    response = api.post(url(api), body)
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == detail and response.json()["type"] == "validation_error"
    assert api.get(url(api)).json()["count"] == 0


def test_extra_keys_are_forbidden(api) -> None:
    response = api.post(url(api), {"name": "x", "filters": {"properties": {"type": "AND", "values": [{**PERSON, "extra": 1}]}}})
    assert response.status_code == 400 and response.json()["attr"] == "filters"


def test_static_cohort_and_list_filters(api) -> None:
    static = api.post(url(api), {"name": "Uploaded", "is_static": True}).json()
    dynamic = api.post(url(api), {"name": "Pro users", "filters": {"properties": {"type": "AND", "values": [PERSON]}}}).json()
    names = lambda **p: [c["name"] for c in api.get(url(api), params=p).json()["results"]]
    assert names() == ["Pro users", "Uploaded"]
    assert names(type="static") == ["Uploaded"] and names(type="dynamic") == ["Pro users"]
    assert names(search="pro") == ["Pro users"]
    assert static["is_calculating"] is False and dynamic["is_static"] is False


def test_soft_delete_and_405(api) -> None:
    cohort = api.post(url(api), {"name": "Gone", "filters": {"properties": {"type": "AND", "values": [PERSON]}}}).json()
    assert api.delete(url(api) + f"{cohort['id']}/").status_code == 405
    assert api.patch(url(api) + f"{cohort['id']}/", {"deleted": True}).json()["deleted"] is True
    assert api.get(url(api)).json()["count"] == 0
    assert api.get(url(api) + f"{cohort['id']}/").json()["deleted"] is True


def test_cycles_are_rejected(api) -> None:
    a = api.post(url(api), {"name": "A", "filters": {"properties": {"type": "AND", "values": [PERSON]}}}).json()
    b = api.post(url(api), {"name": "B", "filters": {"properties": {"type": "AND", "values": [
        {"type": "cohort", "key": "id", "value": a["id"]}]}}}).json()
    response = api.patch(url(api) + f"{a['id']}/", {"filters": {"properties": {"type": "AND", "values": [
        {"type": "cohort", "key": "id", "value": b["id"]}]}}})
    assert response.status_code == 400
    assert response.json()["detail"] == "Cohorts cannot reference other cohorts in a loop."


def _people(api, *distinct_ids):
    batch = [{"event": "$identify", "distinct_id": d, "$set": {"email": f"{d}@example.com"}} for d in distinct_ids]
    assert api.client.post("/batch/", json={"api_key": api.project_token, "batch": batch}).status_code == 200
    return {d: api.get(f"/api/projects/{api.project_id}/persons/", params={"distinct_id": d}).json()["results"][0]["uuid"]
            for d in distinct_ids}


def test_static_cohort_from_person_ids_and_its_persons(api) -> None:
    uuids = _people(api, "ann", "ben", "cat")
    created = api.post(url(api), {"name": "Beta testers", "is_static": True,
                                  "_create_static_person_ids": [uuids["ann"], uuids["ben"], "not-a-uuid"]})
    assert created.status_code == 201, created.text
    cohort = created.json()
    assert cohort["count"] == 2 and cohort["is_calculating"] is False and cohort["last_calculation"]
    persons = api.get(url(api) + f"{cohort['id']}/persons/").json()
    assert persons["count"] == 2 and {p["distinct_ids"][0] for p in persons["results"]} == {"ann", "ben"}
    assert api.patch(url(api) + f"{cohort['id']}/add_persons_to_static_cohort/", {"person_ids": [uuids["cat"]]}).json() == {"success": True}
    assert api.get(url(api) + f"{cohort['id']}/").json()["count"] == 3
    assert api.patch(url(api) + f"{cohort['id']}/remove_person_from_static_cohort/", {"person_id": uuids["ann"]}).status_code == 200
    assert api.get(url(api) + f"{cohort['id']}/").json()["count"] == 2
    only_cohort_scope = api.key(["cohort:read"])
    denied = api.get(url(api) + f"{cohort['id']}/persons/", key=only_cohort_scope)
    assert denied.status_code == 403 and denied.json()["detail"] == "API key missing required scope 'person:read'"


@pytest.mark.parametrize("csv_body, expected", [
    (b"ann\nben\nnobody\n", {"ann", "ben"}),
    (b"distinct_id,plan\nann,pro\ncat,free\n", {"ann", "cat"}),
    (b"email\nben@example.com\n", {"ben"}),
])
def test_static_cohort_from_csv(api, csv_body, expected) -> None:
    _people(api, "ann", "ben", "cat")
    response = api.client.post(url(api), data={"name": "Uploaded", "is_static": "true"},
                               files={"csv": ("ids.csv", csv_body, "text/csv")}, headers=api.auth())
    assert response.status_code == 201, response.text
    cohort = response.json()
    assert cohort["is_static"] is True and cohort["count"] == len(expected)
    persons = api.get(url(api) + f"{cohort['id']}/persons/").json()["results"]
    assert {p["distinct_ids"][0] for p in persons} == expected


def test_bad_csv_stores_nothing(api) -> None:
    for body in (b"", b"a,b\n1,2\n", b"\xff\xfe\x00bad"):
        response = api.client.post(url(api), data={"name": "Bad", "is_static": "true"},
                                   files={"csv": ("x.csv", body, "text/csv")}, headers=api.auth())
        assert response.status_code == 400 and response.json()["attr"] == "csv", response.text
    assert api.get(url(api)).json()["count"] == 0


def test_static_cohort_targets_flags(api) -> None:
    uuids = _people(api, "ann", "ben")
    cohort = api.post(url(api), {"name": "Early", "is_static": True, "_create_static_person_ids": [uuids["ann"]]}).json()
    api.post(f"/api/projects/{api.project_id}/feature_flags/", {"key": "early", "filters": {"groups": [
        {"properties": [{"key": "id", "type": "cohort", "value": cohort["id"]}], "rollout_percentage": 100}]}})
    result = lambda d: api.client.post("/flags/?v=2", json={"token": api.project_token, "distinct_id": d}).json()["flags"]["early"]["enabled"]
    assert result("ann") is True and result("ben") is False
    api.patch(url(api) + f"{cohort['id']}/add_persons_to_static_cohort/", {"person_ids": [uuids["ben"]]})
    assert result("ben") is True


def _wait_calculated(api, cohort_id: int) -> dict:
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        cohort = api.get(url(api) + f"{cohort_id}/").json()
        if not cohort["is_calculating"]:
            return cohort
        time.sleep(0.05)
    raise AssertionError("cohort never finished calculating")


def test_dynamic_cohorts_are_calculated_through_hogql(api) -> None:
    batch = [
        {"event": "$identify", "distinct_id": "ann", "$set": {"plan": "pro", "seats": 40}},
        {"event": "$identify", "distinct_id": "ben", "$set": {"plan": "pro", "seats": 3}},
        {"event": "$identify", "distinct_id": "cat", "$set": {"plan": "free"}},
        {"event": "purchase", "distinct_id": "cat"},
        {"event": "purchase", "distinct_id": "cat"},
        {"event": "purchase", "distinct_id": "ben"},
    ]
    assert api.client.post("/batch/", json={"api_key": api.project_token, "batch": batch}).status_code == 200
    pros = api.post(url(api), {"name": "Pros", "filters": {"properties": {"type": "AND", "values": [PERSON]}}}).json()
    assert pros["is_calculating"] is True
    pros = _wait_calculated(api, pros["id"])
    assert pros["count"] == 2 and pros["last_calculation"] and pros["errors_calculating"] == 0
    members = api.get(url(api) + f"{pros['id']}/persons/").json()["results"]
    assert {m["distinct_ids"][0] for m in members} == {"ann", "ben"}

    buyers = api.post(url(api), {"name": "Repeat buyers", "filters": {"properties": {"type": "OR", "values": [
        {"type": "behavioral", "key": "purchase", "value": "performed_event_multiple", "event_type": "events",
         "operator": "gte", "operator_value": 2, "time_value": 30, "time_interval": "day"}]}}}).json()
    assert _wait_calculated(api, buyers["id"])["count"] == 1

    big_pros = api.post(url(api), {"name": "Big pros", "filters": {"properties": {"type": "AND", "values": [
        {"type": "cohort", "key": "id", "value": pros["id"]},
        {"type": "person", "key": "seats", "operator": "gt", "value": "10"}]}}}).json()
    assert _wait_calculated(api, big_pros["id"])["count"] == 1

    not_pros = api.post(url(api), {"name": "Not pros", "filters": {"properties": {"type": "AND", "values": [
        {**PERSON, "negation": True}]}}}).json()
    assert _wait_calculated(api, not_pros["id"])["count"] == 1

    # changing the definition recalculates
    api.patch(url(api) + f"{pros['id']}/", {"filters": {"properties": {"type": "AND", "values": [
        {"type": "person", "key": "plan", "operator": "exact", "value": ["free"]}]}}})
    assert _wait_calculated(api, pros["id"])["count"] == 1


def test_hogql_in_cohort_sees_calculated_members(api) -> None:
    api.client.post("/batch/", json={"api_key": api.project_token, "batch": [
        {"event": "$identify", "distinct_id": "ann", "$set": {"plan": "pro"}},
        {"event": "seen", "distinct_id": "ann"}, {"event": "seen", "distinct_id": "zed"}]})
    cohort = api.post(url(api), {"name": "Pros", "filters": {"properties": {"type": "AND", "values": [PERSON]}}}).json()
    _wait_calculated(api, cohort["id"])
    response = api.post(f"/api/projects/{api.project_id}/query/", {"query": {
        "kind": "HogQLQuery", "query": f"select distinct_id from events where event = 'seen' and person_id in cohort {cohort['id']}"}})
    assert response.status_code == 200, response.text
    assert response.json()["results"] == [["ann"]]
