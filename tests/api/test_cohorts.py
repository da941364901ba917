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


@pytest.mark.parametrize(
    "body, detail",
    [
        ({"name": "x", "filters": {"properties": {"type": "AND", "values": [{"type": "person", "key": "plan", "operator": "exact"}]}}},
         "Missing required keys for person filter: value"),
        ({"name": "x", "filters": {"properties": {"type": "AND", "values": [{"type": "person", "key": "plan", "value": "pro"}]}}},
         "Missing required keys for person filter: operator"),
        ({"name": "x", "filters": {"wrong": {}}}, "Must contain a 'properties' key with type and values"),
        ({"name": "x"}, "Must contain a 'properties' key with type and values"),
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
