"""Identity and merge scenarios, through the whole pipeline on a real DuckDB file."""

from __future__ import annotations

import orjson

from hedgerow.ingest.persons import derived_person_uuid, is_illegal_distinct_id
from hedgerow.ingest.pipeline import Ingestor
from hedgerow.store.events.protocol import PersonFilter

from conftest import batch, resolve, rows, send

# Every event's person as queries must see it: the override wins over the stored person_id.
EVENT_PERSONS = """
SELECT e.event, e.distinct_id, CAST(coalesce(o.person_id, e.person_id) AS VARCHAR)
FROM events e LEFT JOIN person_distinct_id_overrides o
  ON o.team_id = e.team_id AND o.distinct_id = e.distinct_id
WHERE e.team_id = 1 ORDER BY e.timestamp, e.event
"""


def ev(event, distinct_id, ts, **kw):
    return {"event": event, "distinct_id": distinct_id,
            "timestamp": f"2024-06-01T00:00:{ts:02d}Z", **kw}  # fmt: skip


def person_of(store, distinct_id):
    got = rows(store, "SELECT CAST(person_id AS VARCHAR) FROM person_distinct_ids "
                      "WHERE team_id = 1 AND distinct_id = ?", [distinct_id])  # fmt: skip
    return got[0][0] if got else None


def persons(store):
    return rows(store, "SELECT CAST(id AS VARCHAR), properties, is_identified, created_at "
                       "FROM persons WHERE team_id = 1 ORDER BY created_at")  # fmt: skip


def test_new_distinct_id_gets_a_person(ingestor, store):
    send(ingestor, batch(ev("$pageview", "anon", 1, **{"$set": {"a": 1}})))
    (pid, props, identified, _), = persons(store)
    assert pid == derived_person_uuid(1, "anon") == person_of(store, "anon")
    assert orjson.loads(props) == {"a": 1} and identified is False


def test_identify_merges_anonymous_into_identified_and_events_follow(ingestor, store):
    send(ingestor, batch(ev("$pageview", "anon", 1, **{"$set": {"a": "anon", "only_anon": 1}})))
    send(ingestor, batch(ev("$pageview", "user", 2, **{"$set": {"a": "user"}})))
    send(ingestor, batch(ev("$identify", "user", 3, properties={"$anon_distinct_id": "anon"},
                            **{"$set": {"email": "u@x.io"}})))  # fmt: skip
    (pid, props, identified, created), = persons(store)
    assert pid == person_of(store, "anon") == person_of(store, "user")
    # target's properties win; the other's fill gaps; the event's $set on top.
    assert orjson.loads(props) == {"a": "user", "only_anon": 1, "email": "u@x.io"}
    assert identified is True
    # every event, including the one stored before the merge, now belongs to the survivor.
    assert {p for _, _, p in rows(store, EVENT_PERSONS)} == {pid}


def test_identify_when_only_the_anonymous_id_exists(ingestor, store):
    send(ingestor, batch(ev("$pageview", "anon", 1)))
    send(ingestor, batch(ev("$identify", "user", 2, properties={"$anon_distinct_id": "anon"})))
    (pid, _, identified, _), = persons(store)
    assert person_of(store, "user") == pid == derived_person_uuid(1, "anon")
    assert identified is True
    assert {p for _, _, p in rows(store, EVENT_PERSONS)} == {pid}


def test_identify_with_no_prior_person_creates_one_for_both(ingestor, store):
    send(ingestor, batch(ev("$identify", "user", 1, properties={"$anon_distinct_id": "anon"})))
    (pid, _, identified, _), = persons(store)
    assert person_of(store, "anon") == person_of(store, "user") == pid and identified


def test_already_identified_person_is_not_merged(ingestor, store):
    send(ingestor, batch(ev("$identify", "u1", 1, properties={"$anon_distinct_id": "a1"})))
    send(ingestor, batch(ev("$identify", "u2", 2, properties={"$anon_distinct_id": "a2"})))
    send(ingestor, batch(ev("$identify", "u2", 3, properties={"$anon_distinct_id": "u1"})))
    assert person_of(store, "u1") != person_of(store, "u2")
    assert len(persons(store)) == 2
    assert [w.type for w in ingestor.warnings] == ["cannot_merge_already_identified"]


def test_merge_dangerously_merges_identified_persons(ingestor, store):
    send(ingestor, batch(ev("$identify", "u1", 1, properties={"$anon_distinct_id": "a1"})))
    send(ingestor, batch(ev("$identify", "u2", 2, properties={"$anon_distinct_id": "a2"})))
    send(ingestor, batch(ev("$merge_dangerously", "u2", 3, properties={"alias": "u1"})))
    survivor = person_of(store, "u2")
    assert {person_of(store, d) for d in ("u1", "a1", "u2", "a2")} == {survivor}
    assert len(persons(store)) == 1
    assert {p for _, _, p in rows(store, EVENT_PERSONS)} == {survivor}


def test_create_alias(ingestor, store):
    send(ingestor, batch(ev("$pageview", "old", 1)))
    send(ingestor, batch(ev("$create_alias", "old", 2, properties={"alias": "new"})))
    assert person_of(store, "new") == person_of(store, "old")


def test_illegal_ids_are_never_merged(ingestor, store):
    send(ingestor, batch(ev("$pageview", "real", 1)))
    send(ingestor, batch(ev("$identify", "real", 2, properties={"$anon_distinct_id": "undefined"})))
    assert person_of(store, "undefined") is None
    assert ingestor.warnings[-1].type == "cannot_merge_with_illegal_distinct_id"


def test_illegal_id_list():
    for bad in ["anonymous", "Guest", "'distinct_id'", '"guest"', "[object Object]", "NaN", "0",
                "None", "none", "null", "undefined", "EMAIL"]:  # fmt: skip
        assert is_illegal_distinct_id(bad), bad
    for ok in ["NULL2", "user-1", "nan", "object", "\"null\"", " email "]:
        assert not is_illegal_distinct_id(ok), ok


def test_older_created_at_survives_a_merge(ingestor, store):
    send(ingestor, batch(ev("$pageview", "early", 1)))
    send(ingestor, batch(ev("$pageview", "late", 9)))
    send(ingestor, batch(ev("$identify", "late", 10, properties={"$anon_distinct_id": "early"})))
    (_, _, _, created), = persons(store)
    assert created.second == 1


def test_set_once_set_unset_precedence(ingestor, store):
    send(ingestor, batch(ev("e", "p", 1, **{"$set": {"a": 1, "gone": 1}, "$set_once": {"b": 1}})))
    send(ingestor, batch(ev("e", "p", 2, **{"$set": {"a": 2}, "$set_once": {"b": 2, "c": 2},
                                           "$unset": ["gone"]})))  # fmt: skip
    (_, props, _, _), = persons(store)
    assert orjson.loads(props) == {"a": 2, "b": 1, "c": 2}


def test_web_properties_set_and_initial_set_once(ingestor, store):
    send(ingestor, batch(ev("$pageview", "p", 1, properties={"utm_source": "a", "$browser": "C"})))
    send(ingestor, batch(ev("$pageview", "p", 2, properties={"utm_source": "b"})))
    (_, props, _, _), = persons(store)
    assert orjson.loads(props) == {"utm_source": "b", "$initial_utm_source": "a",
                                   "$browser": "C", "$initial_browser": "C"}


def test_personless_events_make_no_person_then_join_the_later_person(ingestor, store):
    send(ingestor, batch(ev("e", "p", 1, properties={"$process_person_profile": False},
                            **{"$set": {"a": 1}})))  # fmt: skip
    assert persons(store) == []
    send(ingestor, batch(ev("e", "p", 2)))
    (pid, props, _, _), = persons(store)
    assert orjson.loads(props) == {}
    assert {p for _, _, p in rows(store, EVENT_PERSONS)} == {pid}


def test_event_carries_person_properties_at_event_time(ingestor, store):
    send(ingestor, batch(ev("e1", "p", 1, **{"$set": {"plan": "free"}}),
                         ev("e2", "p", 2, **{"$set": {"plan": "pro"}})))  # fmt: skip
    got = rows(store, "SELECT event, person_properties FROM events ORDER BY timestamp")
    assert [(e, orjson.loads(p)["plan"]) for e, p in got] == [("e1", "free"), ("e2", "pro")]


def test_chained_merges_keep_all_events_on_the_final_person(ingestor, store):
    send(ingestor, batch(ev("e", "a", 1), ev("e", "b", 2), ev("e", "c", 3)))
    send(ingestor, batch(ev("$identify", "b", 4, properties={"$anon_distinct_id": "a"})))
    send(ingestor, batch(ev("$merge_dangerously", "c", 5, properties={"alias": "b"})))
    final = person_of(store, "c")
    assert {p for _, _, p in rows(store, EVENT_PERSONS)} == {final}
    assert len(persons(store)) == 1


def test_groups_and_group_type_slots(ingestor, store):
    send(ingestor, batch(
        ev("$groupidentify", "p", 1, properties={"$group_type": "company", "$group_key": "acme",
                                                 "$group_set": {"name": "Acme", "size": 5}}),
        ev("$groupidentify", "p", 2, properties={"$group_type": "company", "$group_key": "acme",
                                                 "$group_set": {"size": 6}}),
        ev("buy", "p", 3, properties={"$groups": {"company": "acme", "project": 42}}),
    ))  # fmt: skip
    assert rows(store, "SELECT group_type, group_type_index FROM group_type_mapping "
                       "ORDER BY group_type_index") == [("company", 0), ("project", 1)]  # fmt: skip
    (props,), = rows(store, "SELECT properties FROM groups WHERE group_key = 'acme'")
    assert orjson.loads(props) == {"name": "Acme", "size": 6}
    assert rows(store, "SELECT \"$group_0\", \"$group_1\" FROM events WHERE event = 'buy'") == [
        ("acme", "42")]


def test_at_most_five_group_types(ingestor, store):
    groups = {f"type{i}": f"k{i}" for i in range(7)}
    send(ingestor, batch(ev("e", "p", 1, properties={"$groups": groups})))
    assert rows(store, "SELECT count(*) FROM group_type_mapping")[0][0] == 5


def test_identity_survives_restart(store, db_path):
    first = Ingestor(store, resolve)
    first.start()
    send(first, batch(ev("$pageview", "anon", 1, **{"$set": {"a": 1}})))
    first.close()
    second = Ingestor(store, resolve)
    second.start()
    send(second, batch(ev("$identify", "user", 2, properties={"$anon_distinct_id": "anon"},
                          **{"$set": {"b": 2}})))  # fmt: skip
    second.close()
    (pid, props, identified, _), = persons(store)
    assert orjson.loads(props) == {"a": 1, "b": 2} and identified
    assert person_of(store, "user") == pid


def test_persons_list_filters(ingestor, store):
    send(ingestor, batch(
        ev("e", "ada", 1, **{"$set": {"email": "ada@x.io", "name": "Ada", "age": 36}}),
        ev("e", "bob", 2, **{"$set": {"email": "bob@y.io", "plan": "pro", "age": 20}}),
        ev("e", "cy", 3),
    ))  # fmt: skip

    def names(**kw):
        found, _ = store.list_persons(1, PersonFilter(**kw))
        return sorted(d for p in found for d in p["distinct_ids"])

    assert names() == ["ada", "bob", "cy"]
    assert names(distinct_id="bob") == ["bob"]
    assert names(email="ada@x.io") == ["ada"]
    assert names(search="ADA") == ["ada"]
    assert names(search="bo") == ["bob"]
    assert names(properties=[{"key": "plan", "value": "pro", "operator": "exact"}]) == ["bob"]
    assert names(properties=[{"key": "plan", "value": ["pro"], "operator": "is_not"}]) == ["ada", "cy"]
    assert names(properties=[{"key": "age", "value": 30, "operator": "gt"}]) == ["ada"]
    assert names(properties=[{"key": "email", "operator": "is_set"}]) == ["ada", "bob"]
    assert names(properties=[{"key": "email", "value": "Y.IO", "operator": "icontains"}]) == ["bob"]
    found, total = store.list_persons(1, PersonFilter(limit=1))
    assert len(found) == 1 and total == 3
    person = found[0]
    assert store.get_person(1, uuid=person["uuid"])["int_id"] == person["int_id"]
    assert store.get_person(1, int_id=person["int_id"])["uuid"] == person["uuid"]
    assert store.get_person(2, uuid=person["uuid"]) is None


def test_page_view_properties_alone_do_not_update_the_person(ingestor, store):
    send(ingestor, batch(ev("$pageview", "p", 1, properties={"$current_url": "/a", "$browser": "C"})))
    version = rows(store, "SELECT version FROM persons")[0][0]
    send(ingestor, batch(ev("$pageview", "p", 2, properties={"$current_url": "/b"})))
    (props, version2), = rows(store, "SELECT properties, version FROM persons")
    assert version2 == version and orjson.loads(props)["$current_url"] == "/a"
    # ... but they ride along with a real change, and person events always apply them.
    send(ingestor, batch(ev("$pageview", "p", 3, properties={"$current_url": "/c", "utm_source": "x"})))
    assert orjson.loads(rows(store, "SELECT properties FROM persons")[0][0])["$current_url"] == "/c"
    send(ingestor, batch(ev("$identify", "p", 4, properties={"$current_url": "/d"})))
    assert orjson.loads(rows(store, "SELECT properties FROM persons")[0][0])["$current_url"] == "/d"
