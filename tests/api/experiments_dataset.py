"""A small hand-made experiment on flag ``exp`` (control/test), launched 2024-01-01, ended 2024-01-10.

Per person (UTC times), with what each case is for:
  p1 control  exposed 01-02 10:00 (Chrome); checkout 10:30 (with ``$feature/exp``); purchase 10 at 11:00 and 5 on 01-03 12:00
              (a day and two hours later: outside a one-day conversion window); a purchase of 100 on
              01-01 before exposure (never counted)
  p2 control  exposed 01-02 (Firefox); nothing else
  p3 test     exposed 01-03 (Chrome); purchase 20 on 01-04 12:00, checkout 13:00 (out of order;
              with ``$feature/exp``)
  p4          exposed to test on 01-03 and to control on 01-04: ``$multiple`` (left out, or test
              when the first variant seen is kept)
  p5 test     exposed 01-05 08:00 (Firefox); checkout 09:00; exposed again 09:30; purchase 7 at
              10:00; purchase 3 on 01-20 (after the end: never counted)
  p6          a $feature_flag_called for another flag only
  p7          exposed to variant ``other`` (not a variant of the flag)
  p8 test     exposed 01-06 but an internal user (``is_internal``): a test account
"""

from __future__ import annotations

import json

from hedgerow.store.events.schema import TABLES, fill_hot_columns

FLAG = "exp"
START, END = "2024-01-01T00:00:00Z", "2024-01-10T00:00:00Z"
TEST_ACCOUNT_FILTERS = [{"key": "is_internal", "value": ["true"], "operator": "is_not", "type": "event"}]
PERSONS = {f"p{n}": f"0000000{n}-0000-4000-8000-000000000000" for n in range(1, 9)}


def seen(person: str, at: str, variant: str, flag: str = FLAG, **extra) -> tuple[str, str, str, dict]:
    """An exposure: ``$feature_flag_called`` with the flag and the variant it answered."""
    return person, "$feature_flag_called", at, {"$feature_flag": flag, "$feature_flag_response": variant, **extra}


EVENTS = [
    ("p1", "purchase", "2024-01-01 12:00:00", {"amount": 100}),
    seen("p1", "2024-01-02 10:00:00", "control", **{"$browser": "Chrome"}),
    ("p1", "checkout", "2024-01-02 10:30:00", {"$feature/exp": "control"}),
    ("p1", "purchase", "2024-01-02 11:00:00", {"amount": 10}),
    ("p1", "purchase", "2024-01-03 12:00:00", {"amount": 5}),
    seen("p2", "2024-01-02 09:00:00", "control", **{"$browser": "Firefox"}),
    seen("p3", "2024-01-03 09:00:00", "test", **{"$browser": "Chrome"}),
    ("p3", "purchase", "2024-01-04 12:00:00", {"amount": 20}),
    ("p3", "checkout", "2024-01-04 13:00:00", {"$feature/exp": "test"}),
    seen("p4", "2024-01-03 09:00:00", "test"),
    seen("p4", "2024-01-04 09:00:00", "control"),
    seen("p5", "2024-01-05 08:00:00", "test", **{"$browser": "Firefox"}),
    ("p5", "checkout", "2024-01-05 09:00:00", {}),
    seen("p5", "2024-01-05 09:30:00", "test"),
    ("p5", "purchase", "2024-01-05 10:00:00", {"amount": 7}),
    ("p5", "purchase", "2024-01-20 10:00:00", {"amount": 3}),
    seen("p6", "2024-01-03 09:00:00", "test", flag="other-flag"),
    seen("p7", "2024-01-03 09:00:00", "other"),
    seen("p8", "2024-01-06 09:00:00", "test", is_internal="true"),
]  # (person, event, UTC timestamp, properties)


def load(conn, team_id: int) -> None:
    """Insert the events straight into the storage tables."""
    for ddl in TABLES:
        conn.execute(ddl)
    for n, (person, event, ts, props) in enumerate(EVENTS, start=1):
        conn.execute(
            "INSERT INTO events (team_id, uuid, event, distinct_id, properties, timestamp, created_at,"
            ' person_id, person_properties, "$session_id") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
            [team_id, f"00000000-0000-4000-9000-{n:012d}", event, person, json.dumps(props), ts, ts,
             PERSONS[person], "{}", f"s-{person}"],
        )
    conn.execute(fill_hot_columns())
