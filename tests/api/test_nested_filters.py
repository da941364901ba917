"""Property filters nested past any sensible depth get PostHog's 400 wherever they are given
(a query, a destination, a project's test-account filters), never a 500, and a refused
project change stores nothing; a reasonable nesting still works."""

from __future__ import annotations

from typing import Any

import pytest

from hedgerow.hogql.property_filters import MAX_GROUP_DEPTH

LEAF = {"key": "plan", "value": "pro", "operator": "exact", "type": "event"}


def nested(depth: int, leaf: dict[str, Any] = LEAF, other: dict[str, Any] | None = None,
           how: str = "AND") -> dict[str, Any]:  # fmt: skip
    """``depth`` groups, each of two values: the next group and another leaf."""
    group: dict[str, Any] = leaf
    for _ in range(depth):
        group = {"type": how, "values": [group, other or {**leaf, "key": "seat"}]}
    return group


def _refused(response, attr: str | None = None) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"type", "code", "detail", "attr"} and body["type"] == "validation_error"
    if attr is not None:
        assert body["attr"] == attr


QUERIES = {
    "EventsQuery": {"kind": "EventsQuery", "select": ["event"]},
    "TrendsQuery": {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "x"}]},
}


@pytest.mark.parametrize("kind", sorted(QUERIES))
@pytest.mark.parametrize("depth", [MAX_GROUP_DEPTH + 1, 300])
def test_a_query_with_filters_nested_too_deep_is_a_400(api, kind: str, depth: int) -> None:
    query = {**QUERIES[kind], "properties": [nested(depth)]}
    _refused(api.post(f"/api/projects/{api.project_id}/query/", {"query": query}))


@pytest.mark.parametrize("kind", sorted(QUERIES))
def test_filters_nested_near_the_limit_still_run(api, kind: str) -> None:
    # A kind may wrap what it is given in a group or two of its own.
    query = {**QUERIES[kind], "properties": [nested(MAX_GROUP_DEPTH - 2)]}
    response = api.post(f"/api/projects/{api.project_id}/query/", {"query": query})
    assert response.status_code == 200, response.text


def test_a_destination_with_filters_nested_too_deep_is_a_400(api) -> None:
    body = {"type": "destination", "template_id": "template-webhook", "inputs": {"url": {"value": "https://e.io/"}},
            "filters": {"properties": [nested(MAX_GROUP_DEPTH + 1)]}}  # fmt: skip
    _refused(api.post(f"/api/projects/{api.project_id}/hog_functions/", body), "filters")


@pytest.mark.parametrize("depth", [MAX_GROUP_DEPTH + 1, 300])
def test_test_account_filters_nested_too_deep_are_refused_and_nothing_changes(api, depth: int) -> None:
    project = f"/api/projects/{api.project_id}/"
    before = api.get(project).json()
    _refused(api.patch(project, {"name": "Renamed", "test_account_filters": [nested(depth)]}), "test_account_filters")
    assert api.get(project).json() == before
    kept = api.patch(project, {"test_account_filters": [nested(3)]})
    assert kept.status_code == 200 and kept.json()["test_account_filters"] == [nested(3)]
