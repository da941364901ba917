"""Injection and escape attempts: none may reach files, settings or another team's rows."""

from __future__ import annotations

import pytest

from hedgerow.errors import HedgerowError

ATTEMPTS = [
    "select * from read_csv('/etc/passwd')",
    "select * from read_csv_auto('/etc/passwd')",
    "select * from file('/etc/passwd')",
    "select * from url('http://127.0.0.1/')",
    "select * from '/etc/passwd'",
    "select read_text('/etc/passwd')",
    "select * from glob('/*')",
    "COPY events TO '/tmp/x.csv'",
    "ATTACH '/tmp/x.db'",
    "PRAGMA database_list",
    "INSTALL httpfs",
    "LOAD httpfs",
    "select 1; drop table events",
    "select 1; select * from events",
    "select * from events; ",
    "select getenv('HOME')",
    "select current_setting('threads')",
    "select * from duckdb_tables()",
    "select * from information_schema.tables",
    "select * from main.events",
    "select * from system.numbers",
    "SET enable_external_access = true",
    "select 1 settings enable_external_access = 1",
    "select `events\"; drop table events; --` from events",
    "select * from `events\" where 1=1 --`",
]


@pytest.mark.parametrize("query", ATTEMPTS)
def test_escape_attempts_are_rejected(query, run_on):
    run = run_on
    with pytest.raises(HedgerowError):
        run(query)


LEAKS = [
    "select properties from events where 1 = 1 or 1 = 1",
    "select properties from events where event = 'x' or true",
    "select properties from events where event = '' or '1' = '1'",
    "select properties from events where event = 'x'' or ''1''=''1'",
    "select properties from events where event = 'x\\' or 1=1 --'",
    "select properties from events where event = 'x' /* or */ or 1=1",
    "select properties from events where event = 'x' // or 1=1\n or 1 = 1",
    "select properties from events union all select properties from events where 1=1",
    "select p from (select properties as p from events) where 1=1 or 1=1",
    "with x as (select properties from events where 1=1 or 1=1) select * from x",
    "select properties from events where distinct_id in (select distinct_id from events where 1=1 or true)",
    "select (select groupArray(properties) from events where 1 = 1 or 1 = 1)",
    "select e2.properties from events e1 join events e2 on e1.event = e2.event or 1=1",
    "select e2.properties from events e1 left join events e2 on 1 = 1",
    "select e2.properties from events e1 right join events e2 on e1.uuid = e2.uuid",
    "select e2.properties from events e1 full outer join events e2 on e1.uuid = e2.uuid",
    "select e2.properties from events e1 cross join events e2",
    "select e2.properties from events e1, events e2",
    "select person.properties from events where 1=1 or 1=1",
    "select pdi.person.properties from events",
    "select group_0.properties from events",
    "select session.$entry_current_url, properties from events",
    "select properties from persons where 1=1 or 1=1",
    "select person.properties from person_distinct_ids",
    "select properties from groups where 1 = 1 or 1 = 1",
    "select person.properties from cohort_people",
    "select person_id, toString(person_id) from events where distinct_id = 'alice'",
    "select 'team2' not in (select properties.secret from events) ",
    "select properties from events where event = '\u0000' or 1 = 1",
    "select properties from events where event = 'é' or event != 'é'",
]


@pytest.mark.parametrize("query", LEAKS)
def test_no_other_team_rows(query, run_on):
    run = run_on
    """Every attempt is valid HogQL: it must compile and run (a refusal would hide a leak)."""
    compiled, result = run(query)
    assert "team2" not in repr(result.results), compiled.sql
    assert "99999999" not in repr(result.results), compiled.sql


@pytest.mark.parametrize(
    "value",
    ["x' OR '1'='1", "'; drop table events; --", "\\", "\\'", "é\u0000", "{filters}", "' union select 1 --"],
)
def test_hostile_values_are_data(value, run_on):
    run = run_on
    compiled, result = run("select count() from events where event = {v}", values={"v": value})
    assert result.results == [[0]]
    assert value not in compiled.sql


def test_every_string_literal_is_bound(run_on):
    run = run_on
    import re

    # Numbers are printed inline (as PostHog's printer does); every string value is bound.
    compiled, _ = run("select 'secret-literal', 12345 from events where event = 'abc'")
    outside_identifiers = re.sub(r'"(?:[^"]|"")*"|`(?:[^`\\]|\\.)*`', '""', compiled.sql)
    assert "secret-literal" not in outside_identifiers
    assert "abc" not in outside_identifiers
    assert "12345" in outside_identifiers


@pytest.mark.parametrize(
    "key",
    ["a'b", "x') or 1=1 --", "'; drop table events; --", "\\'", "é", "a/b~c", "$browser' union select 1 --"],
)
def test_hostile_property_names_are_inert(key, run_on):
    run = run_on
    """Property paths are inlined as JSON-path constants: quoting must hold for any key."""
    escaped = key.replace("\\", "\\\\").replace("`", "\\`")
    compiled, result = run(f"select properties.`{escaped}`, count() from events group by 1")
    assert result.results == [[None, 7]], compiled.sql

