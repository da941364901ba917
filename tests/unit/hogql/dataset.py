"""A fixed dataset for compiler tests: two teams, every JSON type, a merge, sessions, groups,
cohorts. Team 2's rows all carry the marker ``team2`` so a leak is easy to spot."""

from __future__ import annotations

import json

from hedgerow.store.events.schema import TABLES, fill_hot_columns

P1 = "11111111-1111-1111-1111-111111111111"
P2 = "22222222-2222-2222-2222-222222222222"
P3 = "33333333-3333-3333-3333-333333333333"
P4_OLD = "44444444-4444-4444-4444-444444444444"
P5_DELETED = "55555555-5555-5555-5555-555555555555"
P9 = "99999999-9999-9999-9999-999999999999"

ALICE_PROPS = {
    "$browser": "Chrome", "amount": 49.99, "flag": True, "nested": {"a": {"b": "deep"}},
    "plan": "pro", "nul": None, "empty": "", "arr": [1, 2, 3], "obj": {"x": 1},
    "$current_url": "https://www.example.com/a?utm_source=news&x=1#top",
    "weird key": "w", "quote": "it's", "int": 7,
}  # fmt: skip

# (uuid-suffix, team, event, distinct_id, person_id, properties, timestamp, session, group_0, person_props)
EVENTS = [
    (1, 1, "$pageview", "alice", P1, ALICE_PROPS, "2024-06-01 10:00:00", "s1", "acme", {"email": "alice@x.com", "plan": "pro"}),
    (2, 1, "$pageview", "alice", P1, {"$browser": "Firefox", "amount": 10, "$current_url": "https://example.com/b"}, "2024-06-01 10:00:05", "s1", "acme", {"email": "alice@x.com", "plan": "pro"}),
    (3, 1, "purchase", "alice", P1, {"amount": 5.5, "plan": "free"}, "2024-06-01 10:00:08", "s1", "acme", {"email": "alice@x.com", "plan": "pro"}),
    (4, 1, "$pageview", "bob", P2, {"$browser": "Chrome", "$current_url": "https://example.com/c"}, "2024-06-02 23:59:00", "s2", "", {"email": "bob@x.com"}),
    (5, 1, "$autocapture", "bob", P2, {}, "2024-06-03 00:01:00", "s2", "", {"email": "bob@x.com"}),
    (6, 1, "$pageview", "carol-anon", P4_OLD, {"$browser": "Safari"}, "2024-06-05 12:00:00", "s3", "", {}),
    (7, 1, "$identify", "carol", P3, {}, "2024-06-05 12:05:00", "s3", "", {"email": "carol@x.com"}),
    (8, 2, "$pageview", "mallory", P9, {"$browser": "Chrome", "secret": "team2", "plan": "team2"}, "2024-06-01 10:00:00", "s9", "acme", {"email": "team2@evil.com"}),
    (9, 2, "purchase", "alice", P9, {"amount": 1000, "secret": "team2"}, "2024-06-01 11:00:00", "s1", "acme", {"email": "team2@evil.com"}),
]  # fmt: skip

PERSONS = [
    (1, P1, 1, "2024-01-01 00:00:00", {"email": "alice@x.com", "plan": "pro"}, True, False),
    (1, P2, 2, "2024-02-01 00:00:00", {"email": "bob@x.com"}, False, False),
    (1, P3, 3, "2024-03-01 00:00:00", {"email": "carol@x.com"}, True, False),
    (1, P5_DELETED, 5, "2024-03-01 00:00:00", {"email": "deleted@x.com"}, False, True),
    (2, P9, 9, "2024-01-01 00:00:00", {"email": "team2@evil.com"}, True, False),
]

PDIS = [(1, "alice", P1), (1, "bob", P2), (1, "carol", P3), (1, "carol-anon", P3),
        (2, "mallory", P9), (2, "alice", P9)]  # fmt: skip
OVERRIDES = [(1, "carol-anon", P3, 1), (2, "alice", P9, 1), (2, "carol-anon", P9, 1)]
GROUPS = [(1, 0, "acme", {"name": "Acme", "industry": "tools"}), (2, 0, "acme", {"name": "team2"})]
COHORT_PEOPLE = [(1, 1, P1), (2, 1, P9)]
STATIC_COHORT_PEOPLE = [(1, 2, P2), (2, 2, P9)]


def load(conn, teams: dict[int, int] | None = None) -> None:
    """Insert the dataset; ``teams`` maps the dataset's team ids (1, 2) to real project ids."""
    teams = teams or {}

    def team_of(team: int) -> int:
        return teams.get(team, team)

    for ddl in TABLES:
        conn.execute(ddl)
    for n, team, event, did, pid, props, ts, session, group0, pprops in EVENTS:
        conn.execute(
            "INSERT INTO events (team_id, uuid, event, distinct_id, properties, timestamp,"
            ' created_at, person_id, person_properties, person_created_at, "$session_id",'
            ' "$group_0") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
            [team_of(team), f"00000000-0000-0000-0000-{n:012d}", event, did, json.dumps(props), ts, ts,
             pid, json.dumps(pprops), "2024-01-01 00:00:00", session, group0],
        )
    conn.execute(fill_hot_columns())
    for team, pid, int_id, created, props, identified, deleted in PERSONS:
        conn.execute(
            "INSERT INTO persons_folded VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
            [team_of(team), pid, int_id, created, json.dumps(props), identified, deleted],
        )
    for team, did, pid in PDIS:
        conn.execute("INSERT INTO person_distinct_ids_folded VALUES (?, ?, ?, 0, false)", [team_of(team), did, pid])
    for team, did, pid, version in OVERRIDES:
        conn.execute("INSERT INTO person_distinct_id_overrides_folded VALUES (?, ?, ?, ?)", [team_of(team), did, pid, version])
    for team, index, key, props in GROUPS:
        conn.execute(
            "INSERT INTO groups VALUES (?, ?, ?, ?, '2024-01-01', '2024-01-02')",
            [team_of(team), index, key, json.dumps(props)],
        )
    for team, cohort, pid in COHORT_PEOPLE:
        conn.execute("INSERT INTO cohort_people VALUES (?, ?, ?, 0)", [team_of(team), cohort, pid])
    for team, cohort, pid in STATIC_COHORT_PEOPLE:
        conn.execute("INSERT INTO static_cohort_people VALUES (?, ?, ?)", [team_of(team), cohort, pid])


def load_clickhouse(store, teams: dict[int, int] | None = None) -> None:
    """Insert the same dataset into a :class:`ClickHouseEventStore` (its storage tables)."""
    teams = teams or {}

    def team_of(team: int) -> int:
        return teams.get(team, team)

    insert = store.connection.insert
    insert("events", ("team_id", "uuid", "event", "distinct_id", "properties", "timestamp", "created_at",
                      "person_id", "person_properties", "person_created_at", "$session_id", "$group_0",
                      "elements_chain", "$group_1", "$group_2", "$group_3", "$group_4"),
           [(team_of(team), f"00000000-0000-0000-0000-{n:012d}", event, did, json.dumps(props), ts, ts, pid,
             json.dumps(pprops), "2024-01-01 00:00:00", session, group0, "", "", "", "", "")
            for n, team, event, did, pid, props, ts, session, group0, pprops in EVENTS])  # fmt: skip
    insert("person", ("team_id", "id", "int_id", "created_at", "properties", "is_identified", "is_deleted",
                      "version", "_version"),
           [(team_of(t), pid, i, c, json.dumps(p), ident, deleted, 0, 1)
            for t, pid, i, c, p, ident, deleted in PERSONS])  # fmt: skip
    insert("person_distinct_id2", ("team_id", "distinct_id", "person_id", "is_deleted", "version", "_version"),
           [(team_of(t), did, pid, False, 0, 1) for t, did, pid in PDIS])
    insert("person_distinct_id_overrides_raw", ("team_id", "distinct_id", "person_id", "is_deleted", "version", "_version"),
           [(team_of(t), did, pid, False, v, 1) for t, did, pid, v in OVERRIDES])
    insert("groups_raw", ("team_id", "group_type_index", "group_key", "properties", "created_at", "updated_at", "_version"),
           [(team_of(t), i, k, json.dumps(p), "2024-01-01 00:00:00", "2024-01-02 00:00:00", 1) for t, i, k, p in GROUPS])
    insert("cohort_people", ("team_id", "cohort_id", "person_id", "version"),
           [(team_of(t), c, pid, 0) for t, c, pid in COHORT_PEOPLE])
    insert("static_cohort_people", ("team_id", "cohort_id", "person_id", "version"),
           [(team_of(t), c, pid, 0) for t, c, pid in STATIC_COHORT_PEOPLE])
