"""The pipeline entry point: errors as the HTTP layer sees them, definitions, failures,
and the Persons service on top of it."""

from __future__ import annotations

import asyncio
import json
import uuid as uuid_lib
import gzip

import orjson
import pytest

from hedgerow.errors import NotFound, ValidationError
from hedgerow.ingest.definitions import EVENT, GROUP, PERSON, detect_property_type
from hedgerow.ingest.errors import (
    CaptureError,
    EmptyBatch,
    InvalidToken,
    MissingDistinctId,
    PayloadTooLarge,
    RequestParsingError,
    RetryableSinkError,
)
from hedgerow.ingest.pipeline import ADMIT_SLICE, Ingestor
from hedgerow.services.persons import PersonsService
from hedgerow.store.events.protocol import EventStoreError, PersonFilter

from conftest import OTHER_TOKEN, TOKEN, batch, resolve, rows, send


def test_ack_counts_stored_events_and_retries_are_not_stored_twice(ingestor, store):
    events = [{"event": "e", "distinct_id": "d", "uuid": f"00000000-0000-4000-8000-00000000000{i}"}
              for i in range(3)]  # fmt: skip
    assert send(ingestor, batch(*events)) == 3
    assert send(ingestor, batch(*events)) == 0
    assert send(ingestor, batch(events[0], events[0])) == 0
    assert rows(store, "SELECT count(*) FROM events")[0][0] == 3


def test_same_uuid_in_two_teams_is_two_events(ingestor, store):
    event = {"event": "e", "distinct_id": "d", "uuid": "00000000-0000-4000-8000-000000000001"}
    send(ingestor, batch(dict(event)))
    send(ingestor, batch(dict(event), token=OTHER_TOKEN))
    assert rows(store, "SELECT team_id FROM events ORDER BY team_id") == [(1,), (2,)]


def test_gzip_request_through_the_pipeline(ingestor, store):
    raw = gzip.compress(orjson.dumps(batch({"event": "e", "distinct_id": "d"})))
    assert send(ingestor, None, raw=raw, headers={"content-type": "text/plain"}) == 1


def test_ip_recorded(ingestor, store):
    send(ingestor, batch({"event": "e", "distinct_id": "d"}), ip="198.51.100.7")
    (props,), = rows(store, "SELECT properties FROM events")
    assert orjson.loads(props)["$ip"] == "198.51.100.7"


@pytest.mark.parametrize("payload,error,status,code", [
    ({"api_key": "phc_nope", "batch": [{"event": "e", "distinct_id": "d"}]}, InvalidToken, 401,
     "invalid_token"),
    ({"api_key": TOKEN, "batch": []}, EmptyBatch, 400, "empty_batch"),
    ({"api_key": TOKEN, "batch": [{"event": "e"}]}, MissingDistinctId, 400, "missing_distinct_id"),
    ({"api_key": TOKEN, "batch": [{"event": "e", "distinct_id": "d", "uuid": "zz"}]},
     RequestParsingError, 400, "request_parsing_error"),
])  # fmt: skip
def test_errors_carry_status_code_and_posthog_body(ingestor, store, payload, error, status, code):
    with pytest.raises(error) as err:
        send(ingestor, payload)
    exc = err.value
    assert isinstance(exc, CaptureError)
    assert exc.status == status and exc.code == code
    body = exc.body()
    assert set(body) == {"type", "code", "detail", "attr"} and body["code"] == code
    assert exc.text() == body["detail"]
    assert rows(store, "SELECT count(*) FROM events")[0][0] == 0


def test_a_bad_event_fails_the_whole_request_before_any_state_changes(ingestor, store):
    good = {"event": "e", "distinct_id": "new-person", "$set": {"a": 1}}
    deep: dict = {}
    for _ in range(300):
        deep = {"a": deep}
    bad = {"event": "e", "distinct_id": "d", "properties": {"deep": deep}}
    with pytest.raises(RequestParsingError):  # orjson cannot write it: json does
        send(ingestor, None, raw=json.dumps(batch(good, bad)).encode())
    assert ingestor.index.person_for(1, "new-person") is None


def test_event_route_limit_is_2mb_batch_route_20mb(ingestor):
    big = orjson.dumps(batch({"event": "e", "distinct_id": "d", "properties": {"x": "y" * 3_000_000}}))
    with pytest.raises(PayloadTooLarge):
        send(ingestor, None, raw=big, path="/e/")
    assert send(ingestor, None, raw=big, path="/batch/") == 1


def test_async_token_resolver(store):
    async def resolve_async(token):
        await asyncio.sleep(0)
        return resolve(token)

    ing = Ingestor(store, resolve_async)
    ing.start()
    try:
        assert send(ing, batch({"event": "e", "distinct_id": "d"})) == 1
    finally:
        ing.close()


@pytest.mark.parametrize("name,value,expected", [
    ("plan", "pro", "String"), ("flag", "TRUE", "Boolean"), ("flag", True, "Boolean"),
    ("count", 3, "Numeric"), ("price", 9.5, "Numeric"), ("signup_date", "2024-01-02", "DateTime"),
    ("when", "2024-01-02T03:04:05Z", "DateTime"), ("created_at", 4_102_444_800, "DateTime"),
    ("created_at", 12, "Numeric"), ("utm_source", 5, "String"), ("$feature/x", True, "String"),
    ("$survey_response_2", 1, "String"), ("obj", {"a": 1}, None), ("nothing", None, None),
])  # fmt: skip
def test_property_type_detection(name, value, expected):
    assert detect_property_type(name, value) == expected


def test_definitions_reach_the_sink(ingestor):
    send(ingestor, batch(
        {"event": "signed_up", "distinct_id": "d", "properties": {"plan": "pro", "n": None,
                                                                 "$set": {"x": 1}}},
        {"event": "signed_up", "distinct_id": "d", "properties": {"plan": "free", "n": 5},
         "$set": {"email": "a@b.c"}},
        {"event": "$groupidentify", "distinct_id": "d", "properties": {
            "$group_type": "company", "$group_key": "acme", "$group_set": {"size": 3}}},
    ))  # fmt: skip
    sink = ingestor.definitions_sink
    assert (1, "signed_up") in sink.events
    assert sink.properties[(1, EVENT, None, "plan")] == "String"
    assert sink.properties[(1, EVENT, None, "n")] == "Numeric"
    assert (1, EVENT, None, "$set") not in sink.properties
    assert sink.properties[(1, PERSON, None, "email")] == "String"
    assert sink.properties[(1, PERSON, None, "x")] == "Numeric"
    assert sink.properties[(1, GROUP, 0, "size")] == "Numeric"
    assert (1, "signed_up", "plan") in sink.event_properties


@pytest.mark.parametrize("failure", [EventStoreError("disk full"), RuntimeError("a bug")])
def test_failed_commit_answers_503_and_state_reloads(ingestor, store, failure):
    send(ingestor, batch({"event": "e", "distinct_id": "kept", "$set": {"a": 1}}))
    real_commit = store.commit

    def broken(batch_):
        raise failure

    store.commit = broken
    with pytest.raises(RetryableSinkError) as err:
        send(ingestor, batch({"event": "e", "distinct_id": "lost", "$set": {"b": 1},
                              "uuid": "00000000-0000-4000-8000-00000000000a"}))  # fmt: skip
    assert err.value.status == 503
    store.commit = real_commit
    # The retry is not mistaken for a duplicate, and the lost person is not half-known.
    assert send(ingestor, batch({"event": "e", "distinct_id": "lost", "$set": {"b": 1},
                                 "uuid": "00000000-0000-4000-8000-00000000000a"})) == 1  # fmt: skip
    assert rows(store, "SELECT count(*) FROM persons")[0][0] == 2
    assert ingestor.index.person_for(1, "kept").properties == {"a": 1}


def test_persons_service(ingestor, store):
    service = PersonsService(ingestor)
    send(ingestor, batch({"event": "e", "distinct_id": "ada", "$set": {"email": "ada@x.io", "a": 1}},
                         {"event": "e", "distinct_id": "bob"}))  # fmt: skip
    found, total = service.list(1, PersonFilter(email="ada@x.io"))
    assert total == 1
    ada = found[0]
    assert service.retrieve(1, ada["uuid"])["int_id"] == ada["int_id"]
    assert service.retrieve(1, str(ada["int_id"]))["uuid"] == ada["uuid"]
    with pytest.raises(ValidationError):
        service.retrieve(1, "ada")
    with pytest.raises(NotFound):
        service.retrieve(1, 999)

    asyncio.run(service.update_properties(1, ada["uuid"], {"plan": "pro"}))
    assert service.retrieve(1, ada["uuid"])["properties"]["plan"] == "pro"
    asyncio.run(service.delete_property(1, ada["uuid"], "a"))
    assert "a" not in service.retrieve(1, ada["uuid"])["properties"]
    assert rows(store, "SELECT count(*) FROM events WHERE event = '$delete_person_property'") == [(1,)]

    bob = service.list(1, PersonFilter(distinct_id="bob"))[0][0]
    asyncio.run(service.delete(1, bob["uuid"], delete_events=True))
    with pytest.raises(NotFound):
        service.retrieve(1, bob["uuid"])
    assert rows(store, "SELECT count(*) FROM events WHERE distinct_id = 'bob'") == [(0,)]
    assert rows(store, "SELECT count(*) FROM person_distinct_ids WHERE distinct_id = 'bob'") == [(0,)]
    # A new event for bob makes a new person.
    send(ingestor, batch({"event": "e", "distinct_id": "bob"}))
    assert service.list(1, PersonFilter(distinct_id="bob"))[1] == 1


def test_concurrent_requests_share_commits(ingestor, store):
    async def many():
        bodies = [orjson.dumps(batch(*[{"event": "e", "distinct_id": f"u{i}-{j}"} for j in range(20)]))
                  for i in range(60)]  # fmt: skip
        return await asyncio.gather(*(ingestor.ingest(b, {}, {}, None, "/batch/") for b in bodies))

    before = ingestor.writer.stats.commits
    assert sum(asyncio.run(many())) == 60 * 20
    assert ingestor.writer.stats.commits - before < 60
    assert rows(store, "SELECT count(*) FROM events")[0][0] == 1200


def test_get_engage_with_data_in_query(ingestor, store):
    data = orjson.dumps({"$token": TOKEN, "$distinct_id": "e1", "$set": {"plan": "pro"}}).decode()
    assert send(ingestor, None, raw=b"", path="/engage/", method="GET", query={"data": data}) == 1
    (event, props), = rows(store, "SELECT event, properties FROM events")
    assert event == "$identify" and orjson.loads(props)["$set"] == {"plan": "pro"}
    assert ingestor.index.person_for(1, "e1").properties == {"plan": "pro"}


def test_a_request_bigger_than_a_slice_is_stored_whole_and_once(ingestor, store):
    size = ADMIT_SLICE * 2 + 34
    uuids = [str(uuid_lib.uuid4()) for _ in range(size)]
    uuids[ADMIT_SLICE + 5] = uuids[5]  # the same event again, in the next slice
    events = [{"event": "tick", "distinct_id": f"anon-{i % 50}", "uuid": uuids[i]} for i in range(size)]
    events[-1] = {"event": "$identify", "distinct_id": "user-1", "uuid": uuids[-1],
                  "properties": {"$anon_distinct_id": "anon-3"}}  # merges a first-slice person
    assert send(ingestor, batch(*events)) == size - 1
    assert rows(store, "SELECT count(*), count(DISTINCT uuid) FROM events") == [(size - 1, size - 1)]
    assert ingestor.index.person_for(1, "anon-3") is ingestor.index.person_for(1, "user-1")
