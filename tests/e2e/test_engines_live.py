"""The same traffic, sent to a server on DuckDB and one on chdb (the embedded ClickHouse),
gets the same answers: HogQL, the insight kinds, events and persons.

The batch carries no ``sent_at``, so capture keeps the given timestamps as they are (an SDK's
clock-skew correction would move them by the milliseconds between the two runs)."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest

from hedgerow.testing import LiveServer

pytestmark = pytest.mark.e2e

DAY = dt.datetime(2024, 5, 6, 12, 0, tzinfo=dt.timezone.utc)
RANGE = {"date_from": "2024-05-06", "date_to": "2024-05-12"}


def _traffic() -> list[dict]:
    """Identify, alias and person properties over a week; fixed uuids so both stores match."""
    batch: list[dict] = []

    def capture(event: str, who: str, day: float, **props) -> None:
        batch.append({"event": event, "distinct_id": who, "properties": props, "uuid": str(uuid.UUID(int=len(batch) + 1)),
                      "timestamp": (DAY + dt.timedelta(days=day)).isoformat()})  # fmt: skip

    capture("$pageview", "anon-1", 0, **{"$browser": "Chrome", "$current_url": "https://x.io/a"})
    capture("$identify", "ada", 0.01, **{"$anon_distinct_id": "anon-1", "$set": {"email": "ada@x.io", "plan": "pro"}})
    capture("signed_up", "ada", 0.02, plan="pro")
    capture("$pageview", "bob", 1, **{"$browser": "Safari", "$current_url": "https://x.io/b", "$set": {"plan": "free"}})
    capture("$pageview", "ada", 1.5, **{"$browser": "Chrome", "$current_url": "https://x.io/b"})
    capture("signed_up", "bob", 2, plan="free", amount=12.5)
    capture("$pageview", "cy", 3, **{"$browser": "Firefox", "$current_url": "https://x.io/a"})
    capture("$pageview", "ada", 4, **{"$current_url": "https://x.io/c"})
    capture("$pageview", "ghost", 4, **{"$process_person_profile": False})
    capture("purchase", "bob", 5.2, amount=30)
    return batch


QUERIES = [
    {"kind": "HogQLQuery", "query": "select event, distinct_id, person_id, person.properties.email, properties.$browser,"
                                    " toDate(timestamp) from events order by timestamp, event, distinct_id"},
    {"kind": "HogQLQuery", "query": "select person.properties.plan as plan, count(), uniq(person_id),"
                                    " sum(toFloat(properties.amount)) from events group by plan order by plan"},
    {"kind": "HogQLQuery", "query": "select p.properties.email, count() from events e"
                                    " join persons p on p.id = e.person_id group by 1 order by 1"},
    {"kind": "HogQLQuery", "query": "select session.id is null, count() from events group by 1 order by 1"},
    {"kind": "TrendsQuery", "dateRange": RANGE, "series": [{"kind": "EventsNode", "event": "$pageview"},
                                                           {"kind": "EventsNode", "event": None, "math": "dau"}]},
    {"kind": "TrendsQuery", "dateRange": RANGE, "series": [{"kind": "EventsNode", "event": "$pageview"}],
     "breakdownFilter": {"breakdown": "$browser", "breakdown_type": "event"}},
    {"kind": "FunnelsQuery", "dateRange": RANGE, "series": [{"kind": "EventsNode", "event": "$pageview"},
                                                            {"kind": "EventsNode", "event": "signed_up"}]},
    {"kind": "RetentionQuery", "dateRange": RANGE, "retentionFilter": {"totalIntervals": 4, "period": "Day"}},
    {"kind": "RetentionQuery", "dateRange": RANGE, "retentionFilter": {
        "totalIntervals": 4, "period": "Day", "timeWindowMode": "24_hour_windows", "retentionCustomBrackets": [1, 2]}},
    {"kind": "RetentionQuery", "dateRange": RANGE, "retentionFilter": {
        "totalIntervals": 3, "period": "Week", "retentionType": "retention_first_ever_occurrence",
        "targetEntity": {"id": "signed_up", "type": "events", "properties": [{"key": "plan", "value": "pro"}]}},
     "breakdownFilter": {"breakdown": "$browser"}},
    {"kind": "RetentionQuery", "dateRange": {"date_from": "2024-05-06T10:00:00", "date_to": "2024-05-07T14:00:00"},
     "retentionFilter": {"totalIntervals": 30, "period": "Hour", "retentionType": "retention_first_time",
                         "cumulative": True}},
    {"kind": "StickinessQuery", "dateRange": RANGE, "series": [{"kind": "EventsNode", "event": "$pageview"}]},
    {"kind": "LifecycleQuery", "dateRange": RANGE, "series": [{"kind": "EventsNode", "event": "$pageview"}]},
    {"kind": "PathsQuery", "dateRange": RANGE, "pathsFilter": {"includeEventTypes": ["$pageview"]}},
    {"kind": "TrendsQuery", "dateRange": RANGE, "interval": "week",
     "series": [{"kind": "EventsNode", "event": "signed_up", "math": "sum", "math_property": "amount"}]},
    {"kind": "EventsQuery", "select": ["uuid", "event", "distinct_id", "timestamp", "properties.$browser",
                                       "person.properties.email"], "orderBy": ["timestamp", "distinct_id"], "after": "2024-05-01"},
]

VOLATILE = {"timings", "last_refresh", "next_allowed_client_refresh", "cache_target_age", "cache_key", "clickhouse",
            "query_status", "is_cached", "explain", "hogql"}  # fmt: skip


def _answers(server: LiveServer, boot: dict) -> list:
    headers = {"Authorization": f"Bearer {boot['personal_api_key']}"}
    answers = []
    with httpx.Client(timeout=60, headers=headers) as http:
        for query in QUERIES:
            response = http.post(f"{server.url}/api/projects/{boot['project_id']}/query/", json={"query": query})
            assert response.status_code == 200, (query["kind"], response.text)
            body = response.json()
            answers.append({k: v for k, v in body.items() if k not in VOLATILE})
        persons = http.get(f"{server.url}/api/projects/{boot['project_id']}/persons/").json()["results"]
        answers.append(sorted((sorted(p["distinct_ids"]), p["properties"], p["is_identified"]) for p in persons))
    return answers


def _run(tmp_path, env: dict, timezone: str) -> list:
    with LiveServer(tmp_path / "data", env=env) as server:
        boot = server.bootstrap()
        project = httpx.patch(f"{server.url}/api/projects/{boot['project_id']}/", json={"timezone": timezone},
                              headers={"Authorization": f"Bearer {boot['personal_api_key']}"})  # fmt: skip
        assert project.status_code == 200 and project.json()["timezone"] == timezone, project.text
        for event in _traffic():  # one request each, in order, as an SDK in sync mode sends them
            response = httpx.post(f"{server.url}/batch/", json={"api_key": boot["project_api_key"], "batch": [event]})
            assert response.status_code == 200, response.text
        return _answers(server, boot)


@pytest.mark.parametrize("timezone", ["UTC", "America/New_York"])
def test_duckdb_and_chdb_give_the_same_answers(tmp_path, timezone) -> None:
    on_duckdb = _run(tmp_path / "duckdb", {}, timezone)
    on_chdb = _run(tmp_path / "chdb", {"HEDGEROW_EVENTS_URL": f"chdb:///{tmp_path / 'chdb' / 'events.chdb'}"}, timezone)
    labels = [q["kind"] for q in QUERIES] + ["persons"]
    for label, want, got in zip(labels, on_duckdb, on_chdb):
        assert got == want, f"{label} differs on chdb:\n{got}\n{want}"
    assert on_duckdb[0]["results"], "the traffic arrived"
