"""The query endpoint, end to end in process: real SQLite metadata, real DuckDB events."""

from __future__ import annotations

import re
import time

import pytest
import sqlalchemy as sa

from hedgerow.store.meta.tables import property_definitions
from tests.unit.hogql import dataset

SLOW = "select count() from numbers(1000000000000) where number % 7 = 3"
"""Deterministically slow (a trillion rows streamed) yet memory-free: it runs until stopped."""
UUID1 = "00000000-0000-0000-0000-000000000001"


@pytest.fixture
def data(api):
    """The compiler's fixed dataset: team 1 -> the bootstrap project, team 2 -> another one."""
    other = api.services.projects.create(api.organization_id, "Other")
    cursor = api.services.events.cursor()
    dataset.load(cursor, teams={1: api.project_id, 2: other.id})
    cursor.close()
    api.other_id = other.id
    return api


def _path(api, project_id=None, suffix=""):
    return f"/api/projects/{project_id or api.project_id}/query/{suffix}"


def hogql(api, query, key=None, project_id=None, **request):
    body = {"query": {"kind": "HogQLQuery", "query": query}, **request}
    return api.post(_path(api, project_id), body, key=key)


def events_query(api, key=None, **query):
    return api.post(_path(api), {"query": {"kind": "EventsQuery", **query}}, key=key)


def wait_for(api, query_id, project_id=None, timeout=20.0):
    """Poll an async query until it is no longer running (its final answer)."""
    return poll(lambda: api.get(_path(api, project_id, f"{query_id}/")), lambda r: r.status_code != 202, timeout)


def poll(probe, done, timeout=20.0):
    """``probe()`` until ``done(answer)``; the last answer (the caller asserts on it)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if done(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.02)


def wait_picked_up(api, query_id, project_id=None):
    """Poll until a worker runs the async query (its status has a ``pickup_time``)."""
    status = poll(lambda: api.get(_path(api, project_id, f"{query_id}/")).json()["query_status"],
                  lambda s: s["pickup_time"] is not None)
    assert status["pickup_time"] is not None and not status["complete"], status


def running_queries(api, project_id=None):
    return api.services.query.slots.running(project_id or api.project_id)


ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


# -- synchronous HogQL ----------------------------------------------------------------------


def test_hogql_sync_response(data):
    response = hogql(data, "select event, count() as c from events group by event order by event", key=data.key(["query:read"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["results"] == [["$autocapture", 1], ["$identify", 1], ["$pageview", 4], ["purchase", 1]]
    assert body["columns"] == ["event", "c"]
    assert body["types"] == [["event", "String"], ["c", "UInt64"]]
    assert body["hogql"] == "SELECT event, count() AS c FROM events GROUP BY event ORDER BY event ASC LIMIT 100"
    assert body["clickhouse"].startswith('SELECT "events"."event"')
    assert body["query"] == "select event, count() as c from events group by event order by event"
    assert (body["hasMore"], body["limit"], body["offset"]) == (False, 100, 0)
    assert body["is_cached"] is False and body["query_status"] is None and body["error"] is None
    assert body["timezone"] == "UTC" and body["calculation_trigger"] is None
    assert re.fullmatch(r"cache_[0-9a-f]{32}", body["cache_key"])
    for name in ("last_refresh", "next_allowed_client_refresh", "cache_target_age"):
        assert ISO.match(body[name]), body[name]
    assert body["modifiers"]["personsOnEventsMode"] == "person_id_override_properties_on_events"
    assert {t["k"] for t in body["timings"]} >= {"./hogql", "./execute"}
    assert body["explain"] is None and body["metadata"] is None


def test_values_datetimes_and_environment_alias(data):
    response = data.post(
        f"/api/environments/{data.project_id}/query",
        {"query": {"kind": "HogQLQuery", "query": "select timestamp, uuid from events where event = {e} order by timestamp",
                   "values": {"e": "purchase"}}},
    )
    assert response.status_code == 200, response.text
    assert response.json()["results"] == [["2024-06-01T10:00:08Z", UUID1[:-1] + "3"]]


def test_project_timezone_shapes_datetimes(data):
    data.services.projects.update(data.services.projects.get(data.project_id), {"timezone": "Europe/Paris"})
    body = hogql(data, "select timestamp, toDate(timestamp) from events where uuid = '00000000-0000-0000-0000-000000000004'").json()
    assert body["results"] == [["2024-06-03T01:59:00+02:00", "2024-06-03"]]
    assert body["timezone"] == "Europe/Paris"
    assert body["types"][0] == ["timestamp", "DateTime64(6, 'Europe/Paris')"]


def test_default_limit_has_more_and_max(data):
    body = hogql(data, "select number from numbers(150)").json()
    assert len(body["results"]) == 100 and body["hasMore"] is True and body["limit"] == 100
    assert body["hogql"].endswith("LIMIT 100")
    explicit = hogql(data, "select number from numbers(150) limit 120").json()
    assert len(explicit["results"]) == 120 and explicit["hasMore"] is None and explicit["limit"] is None
    capped = hogql(data, "select number from numbers(60000) limit 60000").json()
    assert len(capped["results"]) == 50_000 and capped["hogql"].endswith("LIMIT 50000")
    offset = hogql(data, "select number from numbers(150) order by number offset 120").json()
    assert offset["results"][0] == [120] and offset["offset"] == 120 and offset["hasMore"] is False


def test_property_types_come_from_definitions(data):
    untyped = hogql(data, "select sum(toFloat(properties.amount)), properties.amount from events where uuid = '00000000-0000-0000-0000-000000000002' group by 2").json()
    assert untyped["results"] == [[10.0, "10"]]
    with data.services.meta.write() as conn:
        conn.execute(sa.insert(property_definitions).values(
            id="00000000-0000-0000-0000-0000000000aa", project_id=data.project_id, name="amount", type=1,
            group_type_index=-1, property_type="Numeric", is_numerical=True, created_at=sa.func.now()))
    typed = hogql(data, "select sum(properties.amount) from events").json()
    assert typed["results"][0][0] == pytest.approx(65.49) and typed["types"] == [["sum(properties.amount)", "Nullable(Float64)"]]


def test_filters_variables_and_overrides(data):
    query = {"kind": "HogQLQuery", "query": "select count() from events where {filters} and {variables.ev} = event",
             "filters": {"dateRange": {"date_from": "2024-06-01", "date_to": "2024-06-01"}},
             "variables": {"v1": {"variableId": "v1", "code_name": "ev", "value": "$pageview"}}}
    assert data.post(_path(data), {"query": query}).json()["results"] == [[2]]
    override = data.post(_path(data), {"query": query, "filters_override": {"properties": [{"key": "$browser", "value": "Chrome"}]},
                                       "variables_override": {"v1": {"value": "purchase"}}}).json()
    assert override["results"] == [[0]]
    widened = data.post(_path(data), {"query": query, "filters_override": {"date_from": "2024-06-01", "date_to": "2024-06-10"}}).json()
    assert widened["results"] == [[4]]


def test_explain(data):
    body = hogql(data, "select count() from events", explain=True).json() if False else data.post(
        _path(data), {"query": {"kind": "HogQLQuery", "query": "select count() from events", "explain": True}}).json()
    assert body["results"] == [[7]]
    assert isinstance(body["explain"], list) and body["explain"]


# -- caching ----------------------------------------------------------------------------------


def test_cache_hit_and_refresh_modes(data):
    first = hogql(data, "select count() from events").json()
    second = hogql(data, "select count() from events").json()
    assert second["is_cached"] is True and second["results"] == first["results"]
    assert second["last_refresh"] == first["last_refresh"] and second["cache_key"] == first["cache_key"]
    for refresh in ("blocking", "force_cache", False):
        assert hogql(data, "select count() from events", refresh=refresh).json()["is_cached"] is True
    forced = hogql(data, "select count() from events", refresh="force_blocking").json()
    assert forced["is_cached"] is False
    assert hogql(data, "select count() from events", refresh=True).json()["is_cached"] is False
    other_values = data.post(_path(data), {"query": {"kind": "HogQLQuery", "query": "select count() from events", "values": {"a": 1}}}).json()
    assert other_values["is_cached"] is False and other_values["cache_key"] != first["cache_key"]


def test_stale_cache_is_recomputed(data):
    import datetime as dt

    first = hogql(data, "select count() from events").json()
    data.services.query.fresh_for = dt.timedelta(0)
    again = hogql(data, "select count() from events").json()
    assert again["is_cached"] is False and again["cache_key"] == first["cache_key"]


def test_cache_is_per_project(data):
    mine = hogql(data, "select count() from events").json()
    theirs = hogql(data, "select count() from events", project_id=data.other_id).json()
    assert mine["cache_key"] != theirs["cache_key"]
    assert (mine["results"], theirs["results"], theirs["is_cached"]) == ([[7]], [[2]], False)


# -- async ------------------------------------------------------------------------------------


def _status_keys():
    return {"id", "team_id", "complete", "error", "error_message", "results", "start_time", "end_time",
            "expiration_time", "pickup_time", "query_async", "task_id", "query_progress", "insight_id",
            "dashboard_id", "labels"}


@pytest.mark.parametrize("request_fields", [{"refresh": "async"}, {"async": True}, {"refresh": "force_async"}, {"refresh": "lazy_async"}])
def test_async_then_poll(data, request_fields):
    response = hogql(data, "select count() from events", client_query_id="my-query-1", **request_fields)
    assert response.status_code == 202, response.text
    body = response.json()
    status = body["query_status"]
    assert set(status) == _status_keys()
    assert (status["id"], status["team_id"], status["complete"], status["error"], status["query_async"]) == (
        "my-query-1", data.project_id, False, False, True)
    assert status["results"] is None and status["error_message"] is None and ISO.match(status["start_time"])
    if request_fields.get("refresh") != "force_async":
        assert body["cache_key"].startswith("cache_")
    done = wait_for(data, "my-query-1")
    assert done.status_code == 200, done.text
    final = done.json()["query_status"]
    assert final["complete"] is True and final["error"] is False and ISO.match(final["end_time"])
    assert ISO.match(final["pickup_time"])
    assert final["results"]["results"] == [[7]] and final["results"]["columns"] == ["count()"]
    assert final["results"]["is_cached"] is False
    # the async run filled the cache
    assert hogql(data, "select count() from events").json()["is_cached"] is True


def test_async_fresh_cache_answers_at_once(data):
    hogql(data, "select count() from events")
    response = hogql(data, "select count() from events", refresh="async")
    assert response.status_code == 200 and response.json()["is_cached"] is True
    assert response.json()["query_status"] is None


def test_async_error_is_400_with_message(data):
    response = hogql(data, "select nope from events", refresh="force_async", client_query_id="bad-1")
    assert response.status_code == 202
    done = wait_for(data, "bad-1")
    assert done.status_code == 400
    status = done.json()["query_status"]
    assert status["complete"] is True and status["error"] is True and status["results"] is None
    assert status["error_message"] == "Unable to resolve field: nope"


def test_unknown_and_other_projects_query_ids_are_404(data):
    response = data.get(_path(data, suffix="nope/"))
    assert response.status_code == 404
    assert response.json() == {"type": "invalid_request", "code": "not_found",
                               "detail": f"Query nope not found for team {data.project_id}", "attr": None}
    hogql(data, "select 1", refresh="force_async", client_query_id="mine-1")
    assert wait_for(data, "mine-1").status_code == 200
    elsewhere = data.get(_path(data, data.other_id, "mine-1/"))
    assert elsewhere.status_code == 404
    assert elsewhere.json()["detail"] == f"Query mine-1 not found for team {data.other_id}"


def test_cancel_async_stops_the_running_query(data):
    data.services.query.concurrency_wait = 0.3
    for n in range(3):
        assert hogql(data, SLOW, refresh="force_async", client_query_id=f"slow-{n}").status_code == 202
    for n in range(3):
        wait_picked_up(data, f"slow-{n}")
    assert running_queries(data) == 3
    # an unknown id gets PostHog's same sentence, and nothing stops
    assert data.delete(_path(data, suffix="never-seen/")).json() == {"message": "Cancelled query on clickhouse"}
    assert running_queries(data) == 3
    assert hogql(data, "select 1", client_query_id="while-full").status_code == 429
    # cancelling a running one stops it: its status is gone (as in PostHog) and its slot frees
    cancelled = data.delete(_path(data, suffix="slow-0/"))
    assert cancelled.status_code == 200
    assert cancelled.json() == {"message": "Cancelled query on clickhouse"}
    assert data.get(_path(data, suffix="slow-0/")).status_code == 404
    assert poll(lambda: running_queries(data), lambda n: n == 2) == 2
    assert hogql(data, "select 1", client_query_id="after-cancel").status_code == 200
    assert data.get(_path(data, suffix="slow-1/")).json()["query_status"]["complete"] is False
    for n in (1, 2):
        data.delete(_path(data, suffix=f"slow-{n}/"))
    assert poll(lambda: running_queries(data), lambda n: n == 0) == 0


def test_cancel_complete_and_unknown(data):
    hogql(data, "select 2", refresh="force_async", client_query_id="quick-1")
    assert wait_for(data, "quick-1").status_code == 200
    assert data.delete(_path(data, suffix="quick-1/")).json() == {"message": "Query already complete"}
    assert data.delete(_path(data, suffix="never-seen/")).json() == {"message": "Cancelled query on clickhouse"}
    assert data.delete(_path(data, suffix="never-seen/") + "?dequeue_only=true").json() == {
        "message": "Only tried to dequeue, not cancelling query on clickhouse"}


def test_cancel_sync_query_by_client_id(data):
    import threading

    results = {}

    def run():
        results["response"] = hogql(data, SLOW, client_query_id="sync-slow")

    thread = threading.Thread(target=run)
    thread.start()
    assert poll(lambda: running_queries(data), lambda n: n == 1) == 1
    assert data.delete(_path(data, suffix="sync-slow/")).status_code == 200
    thread.join(20)
    response = results["response"]
    assert response.status_code == 400
    assert response.json() == {"type": "validation_error", "code": "query_cancelled", "detail": "The query was cancelled.", "attr": None}
    assert running_queries(data) == 0


def test_queued_async_jobs_do_not_take_workers_from_other_projects(data):
    """Project A fills its slots and queues more; project B's async query still runs at once."""
    for n in range(6):
        assert hogql(data, SLOW, refresh="force_async", client_query_id=f"a-{n}").status_code == 202
    for n in range(3):
        wait_picked_up(data, f"a-{n}")
    queued = data.get(_path(data, suffix="a-5/")).json()["query_status"]
    assert queued["pickup_time"] is None  # waits for A's slot, not in a worker
    assert hogql(data, "select 42", project_id=data.other_id, refresh="force_async", client_query_id="b-1").status_code == 202
    done = wait_for(data, "b-1", project_id=data.other_id)
    assert done.status_code == 200, done.text
    assert done.json()["query_status"]["results"]["results"] == [[42]]
    assert running_queries(data) == 3  # A still busy meanwhile
    for n in range(6):
        data.delete(_path(data, suffix=f"a-{n}/"))
    assert poll(lambda: running_queries(data), lambda n: n == 0) == 0


def test_a_queued_job_runs_once_a_slot_frees(data):
    for n in range(4):
        assert hogql(data, SLOW, refresh="force_async", client_query_id=f"q-{n}").status_code == 202
    for n in range(3):
        wait_picked_up(data, f"q-{n}")
    assert data.get(_path(data, suffix="q-3/")).json()["query_status"]["pickup_time"] is None
    data.delete(_path(data, suffix="q-0/"))
    wait_picked_up(data, "q-3")
    for n in range(1, 4):
        data.delete(_path(data, suffix=f"q-{n}/"))
    assert poll(lambda: running_queries(data), lambda n: n == 0) == 0


def test_unfinished_async_jobs_per_project_are_capped(data):
    from hedgerow.services.query_jobs import MAX_ACTIVE_JOBS

    for n in range(MAX_ACTIVE_JOBS):
        assert hogql(data, SLOW, refresh="force_async", client_query_id=f"many-{n}").status_code == 202
    refused = hogql(data, SLOW, refresh="force_async", client_query_id="one-too-many")
    assert refused.status_code == 429 and refused.json()["code"] == "throttled"
    assert data.get(_path(data, suffix="one-too-many/")).status_code == 404
    for n in range(MAX_ACTIVE_JOBS):
        data.delete(_path(data, suffix=f"many-{n}/"))
    assert poll(lambda: running_queries(data), lambda n: n == 0) == 0
    assert hogql(data, "select 1", refresh="force_async", client_query_id="later").status_code == 202


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, start",
    [
        ({}, "JSON parse error - 1 validation error for QueryRequest\nquery\n  Field required"),
        ({"query": {"kind": "NopeQuery"}}, "JSON parse error - 1 validation error for QueryRequest\nquery\n  Input tag 'NopeQuery' found using 'kind' does not match any of the expected tags: 'HogQLQuery', 'EventsQuery'"),
        ({"query": {"kind": "HogQLQuery"}}, "JSON parse error - 1 validation error for QueryRequest\nquery.HogQLQuery.query\n  Field required"),
        ({"query": {"kind": "HogQLQuery", "query": 12}}, "JSON parse error - 1 validation error for QueryRequest\nquery.HogQLQuery.query\n  Input should be a valid string"),
        ({"query": {"kind": "HogQLQuery", "query": "select 1"}, "refresh": "sometimes"}, "JSON parse error - "),
        ({"query": "select 1"}, "JSON parse error - "),
        ([1, 2], "JSON parse error - 1 validation error for QueryRequest\n  Input should be a valid dictionary"),
    ],
)
def test_malformed_requests_are_parse_errors(data, body, start):
    response = data.post(_path(data), body)
    assert response.status_code == 400
    payload = response.json()
    assert (payload["type"], payload["code"], payload["attr"]) == ("invalid_request", "parse_error", None)
    assert payload["detail"].startswith(start), payload["detail"]


@pytest.mark.parametrize(
    "query, code, detail",
    [
        ("select from", "syntax_error", None),
        ("select * from nope", "unknown_table", "Unknown table 'nope'"),
        ("select nope from events", "unknown_field", "Unable to resolve field: nope"),
        ("select sleep(3)", "unsupported_function", "Unsupported function call 'sleep(...)'"),
        ("select 1; select 2", "syntax_error", None),
        ("select {missing}", "invalid_placeholder", "Placeholder {missing} is not available in this context"),
        ("select cast('abc' as Int64)", "query_error", "A value could not be converted to the requested type."),
    ],
)
def test_hogql_errors_are_400_validation_errors(data, query, code, detail):
    response = hogql(data, query)
    assert response.status_code == 400, response.text
    payload = response.json()
    assert (payload["type"], payload["code"], payload["attr"]) == ("validation_error", code, None)
    if detail:
        assert payload["detail"] == detail
    assert "duckdb" not in response.text.lower() and "/tmp" not in response.text


def test_timeout_is_504(data):
    data.services.query.timeout_seconds = 0.3
    response = hogql(data, SLOW)
    assert response.status_code == 504
    assert response.json() == {
        "type": "server_error",
        "code": "error",
        "detail": "Query has hit the max execution time before completing. See our docs for how to improve your "
                  "query performance. You may need to materialize.",
        "attr": None,
    }


def test_fourth_concurrent_query_is_429(data):
    data.services.query.concurrency_wait = 0.3
    for n in range(3):
        assert hogql(data, SLOW, refresh="force_async", client_query_id=f"hog-{n}").status_code == 202
    assert poll(lambda: running_queries(data), lambda n: n == 3) == 3
    response = hogql(data, "select 1", client_query_id="fourth")
    assert response.status_code == 429
    assert response.json() == {
        "type": "throttled_error",
        "code": "throttled",
        "detail": f"Exceeded maximum concurrency limit: 3 for key: api:query:per-team:{data.project_id} and task: fourth",
        "attr": None,
    }
    # another project is not affected
    assert hogql(data, "select 1", project_id=data.other_id).status_code == 200
    for n in range(3):
        data.delete(_path(data, suffix=f"hog-{n}/"))
    assert poll(lambda: running_queries(data), lambda n: n == 0) == 0
    assert hogql(data, "select 1", client_query_id="fifth").status_code == 200


# -- isolation --------------------------------------------------------------------------------


def test_projects_see_only_their_rows(data):
    mine = hogql(data, "select distinct properties.secret from events").json()
    assert mine["results"] == [[None]]
    theirs = hogql(data, "select count(), groupArray(properties.secret) from events", project_id=data.other_id).json()
    assert theirs["results"] == [[2, ["team2", "team2"]]]
    scoped = data.key(["query:read"], teams=[data.project_id])
    refused = hogql(data, "select 1", key=scoped, project_id=data.other_id)
    assert refused.status_code == 403
    assert refused.json()["detail"] == f"API key does not have access to the requested project: ID {data.other_id}."


def test_scope_is_query_read(data):
    refused = hogql(data, "select 1", key=data.key(["insight:read"]))
    assert refused.status_code == 403
    assert refused.json()["detail"] == "API key missing required scope 'query:read'"
    assert hogql(data, "select 1", key=data.key(["query:write"])).status_code == 200


# -- EventsQuery ------------------------------------------------------------------------------


def test_events_query_star(data):
    response = events_query(data, select=["*"], after="all", event="purchase")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["columns"] == ["*"]
    assert body["types"] == ["Tuple(UUID, String, String, DateTime64(6, 'UTC'), Int64, String, String, DateTime64(6, 'UTC'), String)"]
    assert body["results"] == [[{
        "uuid": "00000000-0000-0000-0000-000000000003", "event": "purchase",
        "properties": {"amount": 5.5, "plan": "free"}, "timestamp": "2024-06-01T10:00:08Z",
        "team_id": data.project_id, "distinct_id": "alice", "elements_chain": "",
        "created_at": "2024-06-01T10:00:08Z", "person_mode": "full",
    }]]
    assert (body["hasMore"], body["limit"], body["offset"]) == (False, 100, 0)
    assert body["hogql"].startswith("SELECT uuid, event, properties, timestamp, distinct_id, elements_chain, created_at FROM events WHERE event = 'purchase'")
    assert body["is_cached"] is False and body["cache_key"].startswith("cache_")


def test_events_query_default_window_is_last_day(data):
    assert events_query(data, select=["event"]).json()["results"] == []


def test_events_query_aggregates_group_and_order(data):
    body = events_query(data, select=["event", "count()"], after="2024-01-01", before="2024-07-01").json()
    assert body["columns"] == ["event", "count()"] and body["types"] == ["String", "UInt64"]
    assert body["results"][0] == ["$pageview", 4]
    assert "GROUP BY event" in body["hogql"] and "ORDER BY count() DESC" in body["hogql"]
    aliased = events_query(data, select=["properties.$browser as browser", "count() as c"], after="all",
                           where=["properties.$browser is not null"], orderBy=["c DESC", "browser"]).json()
    assert aliased["columns"] == ["browser", "c"]
    assert aliased["results"] == [["Chrome", 2], ["Firefox", 1], ["Safari", 1]]


def test_events_query_filters_and_paging(data):
    body = events_query(data, select=["uuid", "timestamp"], after="all", orderBy=["timestamp ASC"],
                        properties=[{"key": "$browser", "value": ["Chrome", "Safari"], "operator": "exact", "type": "event"}]).json()
    assert [r[0][-1] for r in body["results"]] == ["1", "4", "6"]
    page = events_query(data, select=["uuid"], after="all", orderBy=["timestamp ASC"], limit=2, offset=1).json()
    assert [r[0][-1] for r in page["results"]] == ["2", "3"] and page["hasMore"] is True
    assert (page["limit"], page["offset"]) == (2, 1)
    person = events_query(data, select=["event"], after="all", properties=[{"key": "email", "value": "bob@x.com", "type": "person"}]).json()
    assert sorted(person["results"]) == [["$autocapture"], ["$pageview"]]
    where = events_query(data, select=["distinct_id"], after="all", where=["event = 'purchase' or event = '$identify'"], orderBy=["distinct_id"]).json()
    assert where["results"] == [["alice"], ["carol"]]
    by_person = events_query(data, select=["event"], after="all", personId="33333333-3333-3333-3333-333333333333", orderBy=["timestamp"]).json()
    assert by_person["results"] == [["$pageview"], ["$identify"]]
    window = events_query(data, select=["event"], after="2024-06-02", before="2024-06-04", orderBy=["timestamp"]).json()
    assert window["results"] == [["$pageview"], ["$autocapture"]]


def test_events_query_person_columns(data):
    body = events_query(data, select=["person", "person_display_name -- Person", "event"], after="all",
                        event="$identify").json()
    assert body["columns"] == ["person", "person_display_name -- Person", "event"]
    person, display, event = body["results"][0]
    assert person == {"uuid": "33333333-3333-3333-3333-333333333333", "created_at": "2024-03-01T00:00:00Z",
                      "properties": {"email": "carol@x.com"}, "distinct_id": "carol"}
    assert display == {"display_name": "carol@x.com", "id": "33333333-3333-3333-3333-333333333333", "distinct_id": "carol"}
    assert event == "$identify"
    unknown = events_query(data, select=["person"], after="all", event="$pageview", where=["distinct_id = 'carol-anon'"]).json()
    assert unknown["results"][0][0]["distinct_id"] == "carol-anon"


@pytest.mark.parametrize(
    "query, code",
    [
        ({"select": ["nope"], "after": "all"}, "unknown_field"),
        ({"select": ["event from persons"], "after": "all"}, "syntax_error"),
        ({"select": ["event"], "where": ["1) or (1"], "after": "all"}, "syntax_error"),
        ({"select": ["event"], "orderBy": ["event; drop table events"], "after": "all"}, "syntax_error"),
        ({"select": ["event"], "properties": [{"key": "x", "value": "1", "operator": "bogus"}]}, "invalid_property_filter"),
        ({"select": ["event"], "personId": "not-a-uuid"}, "invalid_input"),
        ({"select": ["event"], "after": "yesterday-ish"}, "invalid_placeholder"),
    ],
)
def test_events_query_errors(data, query, code):
    response = events_query(data, **query)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert response.json()["type"] == "validation_error"


def test_events_query_is_team_guarded(data):
    body = events_query(data, select=["count()", "groupArray(properties.secret)"], after="all").json()
    assert body["results"] == [[7, []]]


def test_cohorts_by_name_come_from_the_project(data):
    first = data.services.cohorts.create(data.project_id, None, {"name": "Power users", "is_static": True})
    second = data.services.cohorts.create(data.project_id, None, {"name": "Static", "is_static": True})
    assert (first.id, second.id) == (1, 2)  # the dataset's memberships: 1 -> alice, 2 -> bob
    body = hogql(data, "select distinct distinct_id from events where person_id in cohort 'Static' or person_id in cohort 'Power users' order by 1").json()
    assert body["results"] == [["alice"], ["bob"]]
    missing = hogql(data, "select 1 from events where person_id in cohort 'Nope'")
    assert missing.status_code == 400 and missing.json()["detail"] == "Could not find a cohort with the name 'Nope'"
    elsewhere = hogql(data, "select count() from events where person_id in cohort 'Static'", project_id=data.other_id)
    assert elsewhere.status_code == 400  # names resolve within the project only


@pytest.mark.parametrize("query", ["select * from file('/etc/passwd')", "select * from read_csv('/etc/passwd')",
                                   "select * from numbers(1) union all select * from url('http://x/')"])
def test_only_numbers_is_a_table_function(data, query):
    response = hogql(data, query)
    assert response.status_code == 400 and response.json()["code"] == "unknown_table"


def test_bad_overrides_are_parse_errors(data):
    query = {"kind": "HogQLQuery", "query": "select 1"}
    for override in ({"filters_override": {"properties": [1, 2]}}, {"variables_override": {"v": {"code_name": 5}}}):
        response = data.post(_path(data), {"query": query, **override})
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "parse_error"
