"""Body shapes, token resolution and distinct-id rules."""

from __future__ import annotations

import pytest

from hedgerow.ingest.errors import (
    EmptyBatch,
    InvalidToken,
    MissingDistinctId,
    MissingEventName,
    MultipleTokens,
    NoToken,
    RequestParsingError,
)
from hedgerow.ingest.parse import parse_request

EV = {"event": "e", "distinct_id": "d"}


def test_batch_envelope_api_key():
    req = parse_request({"api_key": "phc_a", "batch": [dict(EV)], "sent_at": "2024-01-01T00:00:00Z",
                         "historical_migration": True})  # fmt: skip
    assert (req.token, len(req.events), req.sent_at, req.historical_migration) == (
        "phc_a", 1, "2024-01-01T00:00:00Z", True)


def test_batch_envelope_token_alias():
    assert parse_request({"token": "phc_a", "batch": [dict(EV)]}).token == "phc_a"


def test_array_of_events():
    req = parse_request([dict(EV, token="phc_a"), dict(EV, token="phc_a", distinct_id="x")])
    assert req.token == "phc_a" and req.distinct_ids == ["d", "x"]


def test_single_event():
    assert parse_request(dict(EV, api_key="phc_a")).events[0]["event"] == "e"


@pytest.mark.parametrize("key", ["token", "$token", "api_key"])
def test_event_token_keys(key):
    assert parse_request(dict(EV, **{key: "phc_a"})).token == "phc_a"


def test_properties_token():
    assert parse_request(dict(EV, properties={"token": "phc_a"})).token == "phc_a"


def test_query_token_is_the_last_resort():
    assert parse_request(dict(EV), query={"token": "phc_q"}).token == "phc_q"
    assert parse_request(dict(EV, token="phc_a"), query={"token": "phc_q"}).token == "phc_a"


def test_token_is_stripped():
    assert parse_request(dict(EV, token=" phc_a ")).token == "phc_a"


def test_mixed_tokens_are_refused():
    with pytest.raises(MultipleTokens) as err:
        parse_request([dict(EV, token="phc_a"), dict(EV, token="phc_b")])
    assert err.value.status == 401


def test_event_without_token_next_to_one_with_a_token_is_refused():
    with pytest.raises(MultipleTokens):
        parse_request([dict(EV, token="phc_a"), dict(EV)])


def test_missing_token():
    with pytest.raises(NoToken) as err:
        parse_request(dict(EV))
    assert (err.value.status, err.value.code) == (401, "no_token")


@pytest.mark.parametrize("token,reason", [("phx_personal", "personal_api_key"), (123, "not_string"),
                                          ("x" * 65, "too_long"), ("phc_ü", "not_ascii")])  # fmt: skip
def test_malformed_tokens(token, reason):
    with pytest.raises(InvalidToken) as err:
        parse_request(dict(EV, token=token))
    assert err.value.status == 401 and err.value.detail.endswith(reason)


def test_empty_batch():
    with pytest.raises(EmptyBatch):
        parse_request({"api_key": "phc_a", "batch": []})
    with pytest.raises(EmptyBatch):
        parse_request([])


def test_batch_must_be_a_list():
    with pytest.raises(RequestParsingError):
        parse_request({"api_key": "phc_a", "batch": {"event": "e"}})


@pytest.mark.parametrize("payload", ["text", 42, None, [1, 2]])
def test_wrong_shapes(payload):
    with pytest.raises((RequestParsingError, NoToken)):
        parse_request(payload)


@pytest.mark.parametrize("event", [{"distinct_id": "d"}, {"event": "", "distinct_id": "d"}])
def test_missing_event_name(event):
    with pytest.raises(MissingEventName) as err:
        parse_request(dict(event, token="phc_a"))
    assert err.value.code == "missing_event_name"


def test_non_string_event_name():
    with pytest.raises(RequestParsingError):
        parse_request({"event": 5, "distinct_id": "d", "token": "phc_a"})


def test_engage_object_becomes_identify():
    req = parse_request({"$token": "phc_a", "$distinct_id": 3, "$set": {"a": 1}}, path="/engage/")
    assert req.events[0]["event"] == "$identify" and req.distinct_ids == ["3"]


@pytest.mark.parametrize("event,expected", [
    ({"distinct_id": "top"}, "top"),
    ({"$distinct_id": "dollar"}, "dollar"),
    ({"properties": {"distinct_id": "inner"}}, "inner"),
    ({"distinct_id": "top", "properties": {"distinct_id": "inner"}}, "top"),
    ({"distinct_id": 42}, "42"),
    ({"distinct_id": 1.5}, "1.5"),
    ({"distinct_id": True}, "true"),
    ({"distinct_id": [1, "a"]}, '[1,"a"]'),
    ({"distinct_id": {"a": 1}}, '{"a":1}'),
    ({"distinct_id": "a\x00b"}, "a\ufffdb"),
    ({"distinct_id": "x" * 300}, "x" * 200),
    ({"distinct_id": None, "properties": {"distinct_id": "inner"}}, "inner"),
])  # fmt: skip
def test_distinct_id_rules(event, expected):
    req = parse_request(dict(event, event="e", token="phc_a"))
    assert req.distinct_ids == [expected]


@pytest.mark.parametrize("event", [{}, {"distinct_id": ""}, {"distinct_id": None}])
def test_missing_distinct_id(event):
    with pytest.raises(MissingDistinctId) as err:
        parse_request(dict(event, event="e", token="phc_a"))
    assert err.value.status == 400


def test_properties_must_be_an_object():
    with pytest.raises(RequestParsingError):
        parse_request(dict(EV, token="phc_a", properties=[1]))


def test_null_properties_become_empty():
    assert parse_request(dict(EV, token="phc_a", properties=None)).events[0]["properties"] == {}


def test_query_underscore_is_sent_at():
    assert parse_request(dict(EV, token="phc_a"), query={"_": "1700000000000"}).sent_at == "1700000000000"
