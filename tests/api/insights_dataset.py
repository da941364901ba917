"""A small event set for insight tests, in a project on America/New_York (UTC-5 in January).

Timestamps are UTC; the comment gives the local time. Traps: events either side of local
midnight (A), a Sunday event for week starts (F), a person merged after their first event
(``c-anon`` -> C through an override), personless events (ghost: a person id with no person
row), a conversion window measured from the first step (E), strict vs ordered (D), and
breakdown values to overflow a limit, with missing values.
"""

from __future__ import annotations

import json

from hedgerow.store.events.schema import TABLES, fill_hot_columns

A, B, C_OLD, C = "a0000000-0000-4000-8000-000000000001", "b0000000-0000-4000-8000-000000000002", \
    "c0000000-0000-4000-8000-000000000003", "c0000000-0000-4000-8000-000000000004"
D, E, F, GHOST = "d0000000-0000-4000-8000-000000000005", "e0000000-0000-4000-8000-000000000006", \
    "f0000000-0000-4000-8000-000000000007", "00000000-0000-4000-8000-0000000000ff"

TIMEZONE = "America/New_York"

# (distinct_id, person_id, event, UTC timestamp, properties, person properties)
EVENTS = [
    ("a", A, "$pageview", "2024-01-02 04:30:00", {"$browser": "Chrome", "amount": 10}, {"plan": "pro"}),  # Jan 1 23:30
    ("a", A, "$pageview", "2024-01-02 05:30:00", {"$browser": "Chrome", "amount": 20}, {"plan": "pro"}),  # Jan 2 00:30
    ("a", A, "signup", "2024-01-02 06:00:00", {}, {"plan": "pro"}),  # Jan 2 01:00, 30 min after: a new session
    ("b", B, "$pageview", "2024-01-03 15:00:00", {"$browser": "Firefox", "amount": 30}, {"plan": "free"}),
    ("b", B, "signup", "2024-01-20 15:00:00", {}, {"plan": "free"}),                # 17 days after B's pageview
    ("c-anon", C_OLD, "$pageview", "2024-01-06 12:00:00", {"$browser": "Safari"}, {}),  # before the merge
    ("c", C, "signup", "2024-01-07 12:00:00", {}, {}),
    ("ghost", GHOST, "$pageview", "2024-01-07 03:00:00", {"$process_person_profile": False}, {}),  # Sat Jan 6 22:00
    ("ghost", GHOST, "$pageview", "2024-01-08 14:00:00", {"$browser": "", "$process_person_profile": False}, {}),
    ("f", F, "$pageview", "2024-01-07 20:00:00", {"$browser": "Chrome"}, {"plan": "pro"}),  # Sunday Jan 7
    ("a", A, "$pageview", "2024-01-09 14:00:00", {"$browser": "Chrome", "amount": 40}, {"plan": "pro"}),
    ("d", D, "$pageview", "2024-01-10 15:00:00", {"$browser": "Edge", "$current_url": "https://x.com/"}, {}),
    ("d", D, "click", "2024-01-10 15:01:00", {}, {}),
    ("d", D, "signup", "2024-01-10 15:02:00", {}, {}),
    ("e", E, "$pageview", "2024-01-11 15:00:00", {"$browser": "Opera"}, {}),
    ("e", E, "click", "2024-01-20 15:00:00", {}, {}),                                # 9 days after
    ("e", E, "signup", "2024-01-27 15:00:00", {}, {}),                               # 16 days after the first step
]  # fmt: skip

PERSONS = [(A, {"plan": "pro"}), (B, {"plan": "free"}), (C, {}), (D, {}), (E, {}), (F, {"plan": "pro"})]
DISTINCT_IDS = [("a", A), ("b", B), ("c", C), ("c-anon", C), ("d", D), ("e", E), ("f", F)]
OVERRIDES = [("c-anon", C)]
CREATED = {F: "2024-01-07 20:00:00", GHOST: None}
"""F's person is created at its first event, the rest long before; personless events have none."""


def load(conn, team_id: int) -> None:
    """Insert the dataset for ``team_id`` straight into the storage tables."""
    for ddl in TABLES:
        conn.execute(ddl)
    for n, (did, pid, event, ts, props, pprops) in enumerate(EVENTS, start=1):
        conn.execute(
            "INSERT INTO events (team_id, uuid, event, distinct_id, properties, timestamp, created_at,"
            ' person_id, person_properties, person_created_at, "$session_id") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
            [team_id, f"00000000-0000-4000-8000-{n:012d}", event, did, json.dumps(props), ts, ts, pid,
             json.dumps(pprops), CREATED.get(pid, "2023-12-01 00:00:00"), f"s-{did}"],
        )
    conn.execute(fill_hot_columns())
    for n, (pid, props) in enumerate(PERSONS, start=1):
        conn.execute("INSERT INTO persons_folded VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                     [team_id, pid, n, CREATED.get(pid, "2023-12-01 00:00:00"), json.dumps(props), True, False])
    for did, pid in DISTINCT_IDS:
        conn.execute("INSERT INTO person_distinct_ids_folded VALUES (?, ?, ?, 0, false)", [team_id, did, pid])
    for did, pid in OVERRIDES:
        conn.execute("INSERT INTO person_distinct_id_overrides_folded VALUES (?, ?, ?, ?)", [team_id, did, pid, 1])
