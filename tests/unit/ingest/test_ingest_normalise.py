"""Normalisation rules: timestamps, uuids, person updates, columns."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from hedgerow.ingest.errors import RequestParsingError
from hedgerow.ingest.normalise import (
    elements_to_chain,
    event_timestamp,
    normalise_event,
    parse_time,
)

NOW = parse_time("2024-06-01T12:00:00Z")
H = 3600 * 1_000_000


def us(text: str) -> int:
    return parse_time(text)


@pytest.mark.parametrize("timestamp,offset,sent_at,expected", [
    (None, None, None, NOW),                                                  # nothing -> now
    ("2024-06-01T10:00:00Z", None, None, us("2024-06-01T10:00:00Z")),         # as given
    ("2024-06-01T10:00:00Z", None, us("2024-06-01T10:00:05Z"), NOW - 5_000_000),  # skew fixed
    ("2024-06-01T13:00:00Z", None, us("2024-06-01T14:00:00Z"), NOW - H),      # client clock ahead
    (None, 1500, None, NOW - 1_500_000),                                      # offset
    ("2024-06-01T10:00:00Z", 1000, us("2024-06-01T10:00:05Z"), NOW - 1_000_000),  # offset wins
    ("2024-06-02T10:00:00Z", None, None, us("2024-06-02T10:00:00Z")),         # 22 h ahead kept
    ("2024-06-02T12:00:00Z", None, None, NOW),                                # 24 h ahead -> now
    ("not a date", None, None, NOW),                                          # unreadable -> now
    ("2024-06-01T14:00:00+02:00", None, None, NOW),                           # offsets honoured
    ("2024-06-01 12:00:00", None, None, NOW),                                 # naive is UTC
    ("2024-06-01T12:00:00.805+03", None, None, NOW - 3 * H + 805_000),        # +HH zone
    ("1717243200000", None, None, NOW),                                       # epoch ms text
    (1717243200, None, None, NOW),                                            # epoch s number
])  # fmt: skip
def test_timestamps(timestamp, offset, sent_at, expected):
    assert event_timestamp(timestamp, offset, sent_at, NOW) == expected


def normal(event: dict, **kw):
    event.setdefault("event", "e")
    event.setdefault("properties", {})
    return normalise_event(event, "d", sent_at_us=kw.get("sent_at"), now_us=NOW, ip=kw.get("ip"))


def test_ignore_sent_at():
    ev = normal({"timestamp": "2024-06-01T10:00:00Z", "properties": {"$ignore_sent_at": True}},
                sent_at=us("2024-06-01T10:00:05Z"))  # fmt: skip
    assert ev.timestamp_us == us("2024-06-01T10:00:00Z")


def test_event_level_sent_at_wins():
    ev = normal({"timestamp": "2024-06-01T10:00:00Z", "sent_at": "2024-06-01T10:00:01Z"},
                sent_at=us("2024-06-01T10:00:05Z"))  # fmt: skip
    assert ev.timestamp_us == NOW - 1_000_000


# Absurd values fall back the way PostHog's ingestion does: an unreadable timestamp or offset is
# ignored (the event gets the server's time) and an ignored_invalid_timestamp warning names it.
ABSURD = [
    # (event fields, expected timestamp, fields named by the warnings)
    ({"timestamp": 1e308}, NOW, ["timestamp"]),
    ({"timestamp": -1e308}, NOW, ["timestamp"]),
    ({"timestamp": float("nan")}, NOW, ["timestamp"]),
    ({"timestamp": float("inf")}, NOW, ["timestamp"]),
    ({"timestamp": 10**400}, NOW, ["timestamp"]),
    ({"timestamp": "9" * 400}, NOW, ["timestamp"]),
    ({"timestamp": "x" * 100_000}, NOW, ["timestamp"]),
    ({"timestamp": "-0001-01-01T00:00:00Z"}, NOW, ["timestamp"]),
    ({"timestamp": "10000-01-01T00:00:00Z"}, NOW, ["timestamp"]),
    ({"timestamp": "0001-01-01T00:00:00+01:00"}, NOW, ["timestamp"]),
    ({"timestamp": "9999-12-31T23:59:59-01:00"}, NOW, ["timestamp"]),
    ({"timestamp": "NaN"}, NOW, ["timestamp"]),
    ({"timestamp": [1, 2]}, NOW, ["timestamp"]),
    ({"offset": 1e308}, NOW, ["offset"]),
    ({"offset": float("nan")}, NOW, ["offset"]),
    ({"offset": "12"}, NOW, ["offset"]),
    ({"offset": 10**30}, NOW, ["offset"]),
    ({"offset": True}, NOW, ["offset"]),
    ({"timestamp": "2024-06-01T10:00:00Z", "offset": 1e308}, us("2024-06-01T10:00:00Z"), ["offset"]),
    ({"offset": 2**62}, 0, ["timestamp"]),  # a readable offset far in the past: the epoch
    ({"timestamp": "2024-06-01T10:00:00Z", "sent_at": 1e308}, us("2024-06-01T10:00:00Z"), ["sent_at"]),
    ({"timestamp": "2024-06-01T10:00:00Z", "sent_at": "-5-01-01"}, us("2024-06-01T10:00:00Z"),
     ["sent_at"]),
    ({"timestamp": "2024-06-01T10:00:00Z"}, us("2024-06-01T10:00:00Z"), []),
]  # fmt: skip


def test_a_time_over_23_hours_ahead_becomes_now_with_a_warning():
    ev = normal({"timestamp": "2024-06-03T12:00:00Z"})
    assert ev.timestamp_us == NOW
    assert [kind for kind, _ in ev.warnings] == ["event_timestamp_in_future"]


@pytest.mark.parametrize("fields, expected, warned", ABSURD)
def test_absurd_timestamps_fall_back_with_a_warning(fields, expected, warned):
    ev = normal(dict(fields))
    assert ev.timestamp_us == expected
    assert [(kind, details["field"]) for kind, details in ev.warnings or []] == [
        ("ignored_invalid_timestamp", field) for field in warned
    ]


def test_properties_nested_past_the_json_writer_are_refused():
    deep: dict = {}
    node = deep
    for _ in range(300):
        node["a"] = {}
        node = node["a"]
    with pytest.raises(RequestParsingError):
        normal({"properties": {"deep": deep}})
    with pytest.raises(RequestParsingError):
        normal({"properties": {"big": 2**70}})


def test_uuid_kept_and_canonical():
    u = "0190C8A1-2B3C-7D4E-8F90-123456789ABC"
    ev = normal({"uuid": u})
    assert ev.uuid == u.lower() and ev.uuid_int == uuid.UUID(u).int


def test_uuid_other_forms_accepted():
    u = uuid.uuid4()
    assert normal({"uuid": u.hex}).uuid == str(u)
    assert normal({"uuid": "{" + str(u) + "}"}).uuid == str(u)


@pytest.mark.parametrize("bad", ["not-a-uuid", "1234", 12, "0190c8a1-2b3c-7d4e-8f90-123456789abz"])
def test_invalid_uuid_fails_the_request(bad):
    with pytest.raises(RequestParsingError):
        normal({"uuid": bad})


def test_missing_or_empty_uuid_gets_a_uuid7():
    for event in ({}, {"uuid": ""}):
        ev = normal(event)
        parsed = uuid.UUID(ev.uuid)
        assert parsed.version == 7
        assert (parsed.int >> 80) == NOW // 1000


def test_set_top_level_wins_over_properties():
    ev = normal({"$set": {"a": 1, "b": 2}, "properties": {"$set": {"a": 0, "c": 3}}})
    assert ev.set == {"a": 1, "b": 2, "c": 3}
    assert ev.properties["$set"] == {"a": 1, "b": 2, "c": 3}


def test_set_once_and_unset():
    ev = normal({"$set_once": {"x": 1}, "properties": {"$unset": ["y", "z"]}})
    assert ev.set_once == {"x": 1} and ev.unset == ["y", "z"]
    assert normal({"$unset": {"k": None}}).unset == ["k"]


def test_personless_drops_person_updates():
    ev = normal({"$set": {"a": 1}, "properties": {"$process_person_profile": False, "$set": {"b": 1}}})
    assert ev.personless and ev.set is None and "$set" not in ev.properties


def test_web_properties_feed_the_person():
    ev = normal({"properties": {"$browser": "Chrome", "utm_source": "news", "other": 1}})
    assert ev.web == {"$browser", "utm_source"}


def test_ip_from_request_unless_present():
    assert normal({}, ip="1.2.3.4").properties["$ip"] == "1.2.3.4"
    assert normal({"properties": {"$ip": "5.6.7.8"}}, ip="1.2.3.4").properties["$ip"] == "5.6.7.8"
    assert "$ip" not in normal({}, ip=None).properties


def test_session_and_window_columns():
    ev = normal({"properties": {"$session_id": "s1", "$window_id": "w1"}})
    assert (ev.session_id, ev.window_id) == ("s1", "w1")
    assert normal({"properties": {"$session_id": 5}}).session_id is None


def test_elements_chain_property_moves_to_column():
    ev = normal({"properties": {"$elements_chain": "a:nth-child=\"1\""}})
    assert ev.elements_chain == 'a:nth-child="1"' and "$elements_chain" not in ev.properties


def test_elements_list_becomes_a_chain():
    elements = [
        {"tag_name": "button", "attr__class": "btn primary", "$el_text": "Buy \"now\"",
         "nth_child": 2, "nth_of_type": 1, "attr__id": "buy"},
        {"tag_name": "div", "nth_child": 1, "nth_of_type": 1},
    ]  # fmt: skip
    ev = normal({"properties": {"$elements": elements}})
    assert ev.elements_chain == (
        'button.btn.primary:attr__class="btn primary"attr__id="buy"attr_id="buy"'
        'nth-child="2"nth-of-type="1"text="Buy \\"now\\"";div:nth-child="1"nth-of-type="1"'
    )
    assert "$elements" not in ev.properties
    assert elements_to_chain([]) == ""


def test_groups_kept():
    assert normal({"properties": {"$groups": {"company": "acme"}}}).groups == {"company": "acme"}


def test_parse_time_forms():
    assert parse_time("2024-06-01T12:00:00Z") == int(
        datetime(2024, 6, 1, 12, tzinfo=timezone.utc).timestamp()) * 1_000_000  # fmt: skip
    assert parse_time("garbage") is None
    assert parse_time(None) is None
